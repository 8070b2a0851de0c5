namespace Voxon.Storage.Postgres;

internal sealed partial class PostgresSessionStorage
{
    public override bool IsEncrypted => _codec.Encryption is not null;

    public override Task<ErasureReceipt> EraseUserAsync(string userId, ErasureOptions? options = null, CancellationToken cancellationToken = default) =>
        UserErasure.RunAsync(this, userId, new UserErasure.Hooks
        {
            Control = _codec.ControlStore,
            KeyRing = _codec.KeyRing,
            // The grantee is inside the sealed record: every share is read in one query (shares are few next to sessions).
            SharesWithUser = async (user, token) => [.. (await StoredJson.ParseSharesAsync(_codec, await QueryAsync("erase user", $"SELECT token_hash, data FROM {S}.voxon_shares", token), ReportSkipped, token)).Where(s => s.SharedWithUserId == user)],
            DeleteShare = (hash, token) => ExecuteAsync("erase user", null, $"DELETE FROM {S}.voxon_shares WHERE token_hash = $1", token, hash),
        }, options, cancellationToken);

    public override async Task<int> RewrapKeysAsync(CancellationToken cancellationToken = default) =>
        _codec.KeyRing is { } ring ? await ring.RewrapAsync(cancellationToken) : 0;

    /// <summary>The key ring in its own table, <c>voxon_keyring</c>, apart from the session tables.</summary>
    private sealed class PostgresKeyRingStore(PostgresSessionStorage storage) : KeyRingStore
    {
        private string S => storage.S;

        public override async Task<byte[]?> GetAsync(string name, CancellationToken cancellationToken = default)
        {
            var rows = await storage.QueryAsync("read key ring", $"SELECT name, data FROM {S}.voxon_keyring WHERE name = $1", cancellationToken, name);
            return rows.Count == 0 ? null : rows[0].Data;
        }

        public override async Task<byte[]> GetOrAddAsync(string name, byte[] value, CancellationToken cancellationToken = default)
        {
            // The no-op update makes RETURNING give the row that won a race.
            var rows = await storage.QueryAsync("write key ring", $"INSERT INTO {S}.voxon_keyring VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING name, data", cancellationToken, name, value);
            return rows[0].Data;
        }

        public override Task SetAsync(string name, byte[] value, CancellationToken cancellationToken = default) =>
            storage.ExecuteAsync("write key ring", null, $"INSERT INTO {S}.voxon_keyring VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET data = excluded.data", cancellationToken, name, value);

        public override async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default) =>
            await storage.ExecuteAsync("write key ring", null, $"DELETE FROM {S}.voxon_keyring WHERE name = $1", cancellationToken, name) > 0;

        public override async Task<IReadOnlyList<string>> ListAsync(string prefix, CancellationToken cancellationToken = default) =>
            [.. (await storage.QueryAsync("read key ring", $"SELECT name, ''::bytea FROM {S}.voxon_keyring WHERE starts_with(name, $1) ORDER BY name COLLATE \"C\"", cancellationToken, prefix)).Select(r => r.Key)];
    }
}
