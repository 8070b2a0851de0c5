using System.Security.Cryptography;

namespace Voxon.Storage;

/// <summary>
/// Rules for session, user and conversation ids. Ids are used as file names and keys, so only
/// letters, digits, '-', '_' and '.' are allowed, not starting with '.' or '-', at most 128 characters: no id can
/// address a path outside a storage folder, and none reads as an option on a command line.
/// </summary>
public static class SessionIds
{
    /// <summary>Longest accepted id.</summary>
    public const int MaxLength = 128;

    /// <summary>A new random session id: <c>sess_</c> and 24 hex digits (96 random bits).</summary>
    public static string NewSessionId() => "sess_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    /// <summary>A new random id with the given prefix, for conversations and memories.</summary>
    internal static string NewId(string prefix) => prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary>Whether <paramref name="id"/> follows the rules.</summary>
    public static bool IsValid(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxLength || id[0] is '.' or '-')
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Throws when <paramref name="id"/> breaks the rules.</summary>
    /// <exception cref="ArgumentException">The id is empty, too long, or contains a character that could form a path.</exception>
    public static string Validate(string? id, string kind = "session id")
    {
        if (!IsValid(id))
        {
            throw new ArgumentException($"Invalid {kind}: it {Describe(id)}.", kind.Replace(' ', '_'));
        }

        return id!;
    }

    internal static string Describe(string? id) => id switch
    {
        null or "" => "must not be empty",
        { Length: > MaxLength } => $"must be at most {MaxLength} characters",
        _ => $"'{Printable(id)}' may contain only letters, digits, '-', '_' and '.' ('.' and '-' not first)",
    };

    private static string Printable(string id) =>
        new(id.Take(40).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
