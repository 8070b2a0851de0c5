namespace Voxon.Retention;

/// <summary>A user already has <see cref="VoxonOptions.MaxSessionsPerUser"/> stored sessions; no new one is created.</summary>
public sealed class SessionLimitException : VoxonException
{
    /// <summary>Creates the exception.</summary>
    public SessionLimitException(string userId, int limit)
        : base($"User '{userId}' already has {limit} stored sessions, the limit set by max_sessions_per_user; delete or prune some (voxon sessions prune) before creating another.")
    {
        UserId = userId;
        Limit = limit;
    }

    /// <summary>The user at the limit.</summary>
    public string UserId { get; }

    /// <summary>The limit in force.</summary>
    public int Limit { get; }
}
