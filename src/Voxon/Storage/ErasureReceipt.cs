namespace Voxon.Storage;

/// <summary>
/// Proof of a per-user erasure (<see cref="SessionStorage.EraseUserAsync"/>): what was removed, by kind, where and when.
/// A call that found nothing to erase returns a receipt whose counts are all zero.
/// </summary>
/// <param name="UserId">The erased user.</param>
/// <param name="Backend">The backend the data was erased from.</param>
/// <param name="StartedAt">When the erasure started (the first attempt, when it was resumed).</param>
/// <param name="CompletedAt">When the last record was gone.</param>
/// <param name="Counts">Records removed, by kind (<see cref="Sessions"/>, <see cref="Memories"/>...); kinds a backend does not have are absent.</param>
/// <param name="Resumed">Whether this call finished an erasure that an earlier call had started and not completed.</param>
public sealed record ErasureReceipt(string UserId, string Backend, DateTimeOffset StartedAt, DateTimeOffset CompletedAt, IReadOnlyDictionary<string, int> Counts, bool Resumed)
{
    /// <summary>Kind: stored sessions.</summary>
    public const string Sessions = "sessions";

    /// <summary>Kind: conversations of those sessions.</summary>
    public const string Conversations = "conversations";

    /// <summary>Kind: conversation turns.</summary>
    public const string Turns = "turns";

    /// <summary>Kind: memory entries.</summary>
    public const string Memories = "memories";

    /// <summary>Kind: shares of the user's sessions.</summary>
    public const string Shares = "shares";

    /// <summary>Kind: shares other users granted to the erased user (deleted: they name the user).</summary>
    public const string SharesReceived = "shares_received";

    /// <summary>Kind: template bindings (sessions made from a template).</summary>
    public const string TemplateBindings = "template_bindings";

    /// <summary>Kind: snapshot files (file backend).</summary>
    public const string Snapshots = "snapshots";

    /// <summary>Kind: journal files (file backend).</summary>
    public const string Journals = "journals";

    /// <summary>Kind: index entries (lock files listing the session, Redis sorted-set members).</summary>
    public const string IndexEntries = "index_entries";

    /// <summary>Kind: the user's wrapped data key in the key ring (with encryption on).</summary>
    public const string Keys = "keys";

    /// <summary>Whether the call found nothing of the user (a second call after a completed erasure).</summary>
    public bool NothingErased => Counts.Values.All(c => c == 0);

    /// <summary>The count of <paramref name="kind"/>, 0 when absent.</summary>
    public int this[string kind] => Counts.TryGetValue(kind, out var count) ? count : 0;
}
