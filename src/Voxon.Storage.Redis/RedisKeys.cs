using StackExchange.Redis;

namespace Voxon.Storage.Redis;

/// <summary>
/// The names of the backend's keys (layout 2). Everything of one user carries the user's hash tag, <c>{USER}</c>, so it
/// lives in one Redis Cluster slot and every save, load and delete of a session is one slot's MULTI/EXEC:
/// <list type="bullet">
/// <item><c>PREFIX{USER}:s:ID</c> (head hash: version, sealed head, summary fields) and its <c>:m</c> memories,
/// <c>:c</c> conversation headers, <c>:t</c> turns and <c>:shares</c> token hashes;</item>
/// <item><c>PREFIX{USER}:sessions</c>, the user's sessions by update time (sorted set);</item>
/// <item><c>PREFIX{USER}:share:HASH</c>, a share record, and <c>PREFIX{USER}:shares</c>, every token hash the user owns.</item>
/// </list>
/// What must be found from an id alone, or spans users, is single keys written apart from the user's transaction: the
/// session and share locators (<c>PREFIX session-user:ID</c>, <c>PREFIX share-user:HASH</c>, each holding a user id,
/// written before the user's transaction so a listed or saved record is always reachable), and <c>PREFIX users</c>, the
/// set of users with data, which global listings walk (one pipelined read per user) instead of a global index that could
/// never share a slot with every user. Templates are store-wide, under their own tag (<c>PREFIX{:templates}</c>); the
/// key ring stays one hash of its own (<c>PREFIX keyring</c>), apart from the data and read one key at a time.
/// </summary>
/// <remarks>A prefix must not contain braces: Redis would take the tag from it. A user leaves <c>PREFIX users</c> when
/// erased; a user whose sessions all expired or were deleted stays in it, costing a listing one empty read.</remarks>
internal sealed class RedisKeys(string prefix)
{
    /// <summary>Version of this layout, stored at <see cref="Layout"/> once a store uses it.</summary>
    public const string CurrentLayout = "2";

    public string Prefix => prefix;

    public RedisKey Head(string userId, string sessionId) => $"{prefix}{{{userId}}}:s:{sessionId}";

    /// <summary>Memories, conversation headers and turns of a session.</summary>
    public RedisKey[] Content(string userId, string sessionId)
    {
        var head = Head(userId, sessionId);
        return [head.Append(":m"), head.Append(":c"), head.Append(":t")];
    }

    public RedisKey SessionShares(string userId, string sessionId) => Head(userId, sessionId).Append(":shares");

    public RedisKey Sessions(string userId) => $"{prefix}{{{userId}}}:sessions";

    public RedisKey Share(string userId, string tokenHash) => $"{prefix}{{{userId}}}:share:{tokenHash}";

    public RedisKey UserShares(string userId) => $"{prefix}{{{userId}}}:shares";

    public RedisKey SessionUser(string sessionId) => $"{prefix}session-user:{sessionId}";

    public RedisKey ShareUser(string tokenHash) => $"{prefix}share-user:{tokenHash}";

    public RedisKey Users => $"{prefix}users";

    public RedisKey Template(string name) => $"{prefix}{{:templates}}:{name}";

    public RedisKey Templates => $"{prefix}{{:templates}}";

    public RedisKey KeyRing => $"{prefix}keyring";

    public RedisKey Layout => $"{prefix}layout";

    public RedisKey LayoutLock => $"{prefix}layout-lock";

    /// <summary>The names of layout 1 (one hash tag per session, global indexes), read only to migrate them.</summary>
    public static class Legacy
    {
        public static RedisKey Head(string prefix, string sessionId) => $"{prefix}s:{{{sessionId}}}";

        public static string HeadPattern(string prefix) => Glob(prefix) + "s:{*}";

        public static RedisKey UserIndex(string prefix, string userId) => $"{prefix}u:{userId}";

        public static string UserIndexPattern(string prefix) => Glob(prefix) + "u:*";

        public static RedisKey Sessions(string prefix) => $"{prefix}sessions";

        public static RedisKey Share(string prefix, string tokenHash) => $"{prefix}share:{tokenHash}";

        public static string SharePattern(string prefix) => Glob(prefix) + "share:*";

        public static RedisKey Template(string prefix, string name) => $"{prefix}template:{name}";

        public static RedisKey Templates(string prefix) => $"{prefix}templates";

        /// <summary><paramref name="text"/> as a literal in a SCAN pattern.</summary>
        private static string Glob(string text) => string.Concat(text.Select(c => c is '*' or '?' or '[' or ']' or '\\' ? "\\" + c : c.ToString()));
    }
}
