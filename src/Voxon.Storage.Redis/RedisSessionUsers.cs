using System.Collections.Concurrent;

namespace Voxon.Storage.Redis;

/// <summary>
/// The user each session id was last seen stored under, so that a load goes straight to the user's keys instead of
/// first reading the session's locator (one round trip less). It is a hint, never the truth: a load that finds no
/// session under the remembered user forgets it and asks the locator, so a session deleted, expired, erased or moved
/// to another user by any process is still found (or not) as stored.
/// </summary>
/// <remarks>Thread-safe. Bounded: past <see cref="Capacity"/> entries it starts over, which costs each session one
/// locator read again.</remarks>
internal sealed class RedisSessionUsers
{
    /// <summary>Most sessions remembered.</summary>
    internal const int Capacity = 100_000;

    private readonly ConcurrentDictionary<string, string> _users = new(StringComparer.Ordinal);

    public string? Find(string sessionId) => _users.TryGetValue(sessionId, out var user) ? user : null;

    public void Remember(string sessionId, string userId)
    {
        if (_users.Count >= Capacity && !_users.ContainsKey(sessionId))
        {
            _users.Clear();
        }

        _users[sessionId] = userId;
    }

    public void Forget(string sessionId) => _users.TryRemove(sessionId, out _);

    /// <summary>Forgets every session remembered under <paramref name="userId"/> (the user was erased).</summary>
    public void ForgetUser(string userId)
    {
        foreach (var (session, user) in _users)
        {
            if (user == userId)
            {
                _users.TryRemove(new KeyValuePair<string, string>(session, user));
            }
        }
    }
}
