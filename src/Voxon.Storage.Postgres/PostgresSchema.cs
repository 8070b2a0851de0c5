namespace Voxon.Storage.Postgres;

/// <summary>The versioned migrations of the backend's tables. Append new ones; never edit an applied one.</summary>
internal static class PostgresSchema
{
    /// <summary>Arbitrary first key of the advisory lock that serialises migrations across processes.</summary>
    public const int LockKey = 0x566f786f; // "Voxo"

    /// <summary>Hash partitions of each table partitioned by user id.</summary>
    public const int Partitions = 16;

    /// <summary>The tables hash-partitioned by <c>user_id</c>, parents first.</summary>
    public static readonly IReadOnlyList<string> PartitionedTables = ["voxon_sessions", "voxon_memories", "voxon_conversations", "voxon_turns", "voxon_shares"];

    /// <summary>Migrations by version; <c>{s}</c> is the quoted schema.</summary>
    public static readonly IReadOnlyList<string> Migrations =
    [
        """
        CREATE TABLE {s}.voxon_sessions (
            session_id text PRIMARY KEY,
            user_id text NOT NULL,
            version bigint NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            conversation_count integer NOT NULL,
            message_count integer NOT NULL,
            head bytea NOT NULL);
        CREATE INDEX voxon_sessions_user_updated ON {s}.voxon_sessions (user_id, updated_at DESC);
        CREATE INDEX voxon_sessions_updated ON {s}.voxon_sessions (updated_at DESC);
        CREATE TABLE {s}.voxon_memories (
            session_id text NOT NULL REFERENCES {s}.voxon_sessions ON DELETE CASCADE,
            memory_id text NOT NULL,
            data bytea NOT NULL,
            PRIMARY KEY (session_id, memory_id));
        CREATE TABLE {s}.voxon_conversations (
            session_id text NOT NULL REFERENCES {s}.voxon_sessions ON DELETE CASCADE,
            conversation_id text NOT NULL,
            ordinal integer NOT NULL,
            header bytea NOT NULL,
            PRIMARY KEY (session_id, conversation_id));
        CREATE TABLE {s}.voxon_turns (
            session_id text NOT NULL,
            conversation_id text NOT NULL,
            turn_index integer NOT NULL,
            data bytea NOT NULL,
            PRIMARY KEY (session_id, conversation_id, turn_index),
            FOREIGN KEY (session_id, conversation_id) REFERENCES {s}.voxon_conversations ON DELETE CASCADE);
        CREATE TABLE {s}.voxon_shares (
            share_id text PRIMARY KEY,
            token_hash text NOT NULL UNIQUE,
            session_id text NOT NULL,
            data bytea NOT NULL);
        CREATE INDEX voxon_shares_session ON {s}.voxon_shares (session_id);
        CREATE TABLE {s}.voxon_templates (
            name text PRIMARY KEY,
            data bytea NOT NULL);
        """,
        // 2: the key ring (KDF salt, wrapped per-user data keys, erasure progress), apart from the data tables.
        """
        CREATE TABLE {s}.voxon_keyring (
            name text PRIMARY KEY,
            data bytea NOT NULL);
        """,
        // 3: every session table hash-partitioned by user_id, with user_id leading every key, so that Citus can later
        // distribute them by user_id (co-located, foreign keys kept) without a schema change. Templates and the key ring
        // are small and store-wide: they stay plain tables (Citus reference tables). The rows are copied inside the
        // migration's transaction, under locks that keep writers of an older version out until it commits.
        $$"""
        LOCK TABLE {s}.voxon_sessions, {s}.voxon_memories, {s}.voxon_conversations, {s}.voxon_turns, {s}.voxon_shares IN ACCESS EXCLUSIVE MODE;
        CREATE TABLE {s}.voxon_sessions_v3 (
            user_id text NOT NULL,
            session_id text NOT NULL,
            version bigint NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            conversation_count integer NOT NULL,
            message_count integer NOT NULL,
            head bytea NOT NULL,
            PRIMARY KEY (user_id, session_id)) PARTITION BY HASH (user_id);
        CREATE TABLE {s}.voxon_memories_v3 (
            user_id text NOT NULL,
            session_id text NOT NULL,
            memory_id text NOT NULL,
            data bytea NOT NULL,
            PRIMARY KEY (user_id, session_id, memory_id),
            FOREIGN KEY (user_id, session_id) REFERENCES {s}.voxon_sessions_v3 ON DELETE CASCADE) PARTITION BY HASH (user_id);
        CREATE TABLE {s}.voxon_conversations_v3 (
            user_id text NOT NULL,
            session_id text NOT NULL,
            conversation_id text NOT NULL,
            ordinal integer NOT NULL,
            header bytea NOT NULL,
            PRIMARY KEY (user_id, session_id, conversation_id),
            FOREIGN KEY (user_id, session_id) REFERENCES {s}.voxon_sessions_v3 ON DELETE CASCADE) PARTITION BY HASH (user_id);
        CREATE TABLE {s}.voxon_turns_v3 (
            user_id text NOT NULL,
            session_id text NOT NULL,
            conversation_id text NOT NULL,
            turn_index integer NOT NULL,
            data bytea NOT NULL,
            PRIMARY KEY (user_id, session_id, conversation_id, turn_index),
            FOREIGN KEY (user_id, session_id, conversation_id) REFERENCES {s}.voxon_conversations_v3 ON DELETE CASCADE) PARTITION BY HASH (user_id);
        CREATE TABLE {s}.voxon_shares_v3 (
            user_id text NOT NULL,
            share_id text NOT NULL,
            token_hash text NOT NULL,
            session_id text NOT NULL,
            data bytea NOT NULL,
            PRIMARY KEY (user_id, share_id),
            UNIQUE (user_id, token_hash)) PARTITION BY HASH (user_id);
        {{HashPartitions()}}
        INSERT INTO {s}.voxon_sessions_v3 SELECT user_id, session_id, version, created_at, updated_at, conversation_count, message_count, head FROM {s}.voxon_sessions;
        INSERT INTO {s}.voxon_memories_v3 SELECT s.user_id, m.session_id, m.memory_id, m.data FROM {s}.voxon_memories m JOIN {s}.voxon_sessions s USING (session_id);
        INSERT INTO {s}.voxon_conversations_v3 SELECT s.user_id, c.session_id, c.conversation_id, c.ordinal, c.header FROM {s}.voxon_conversations c JOIN {s}.voxon_sessions s USING (session_id);
        INSERT INTO {s}.voxon_turns_v3 SELECT s.user_id, t.session_id, t.conversation_id, t.turn_index, t.data FROM {s}.voxon_turns t JOIN {s}.voxon_sessions s USING (session_id);
        -- A share belongs to its session's user; one whose session is gone (none is left by this version) keeps an empty one.
        INSERT INTO {s}.voxon_shares_v3 SELECT coalesce(s.user_id, ''), h.share_id, h.token_hash, h.session_id, h.data FROM {s}.voxon_shares h LEFT JOIN {s}.voxon_sessions s USING (session_id);
        DROP TABLE {s}.voxon_turns, {s}.voxon_conversations, {s}.voxon_memories, {s}.voxon_shares, {s}.voxon_sessions;
        {{string.Concat(PartitionedTables.Select(t => $"ALTER TABLE {{s}}.{t}_v3 RENAME TO {t};\n"))}}
        CREATE INDEX voxon_sessions_user_updated ON {s}.voxon_sessions (user_id, updated_at DESC);
        CREATE INDEX voxon_sessions_updated ON {s}.voxon_sessions (updated_at DESC);
        CREATE INDEX voxon_sessions_id ON {s}.voxon_sessions (session_id);
        CREATE INDEX voxon_shares_session ON {s}.voxon_shares (session_id);
        CREATE INDEX voxon_shares_token ON {s}.voxon_shares (token_hash);
        """,
    ];

    /// <summary>The <see cref="Partitions"/> partitions of each new partitioned table (<c>voxon_sessions_p0</c>...).</summary>
    private static string HashPartitions() => string.Concat(
        from table in PartitionedTables
        from remainder in Enumerable.Range(0, Partitions)
        select $"CREATE TABLE {{s}}.{table}_p{remainder} PARTITION OF {{s}}.{table}_v3 FOR VALUES WITH (MODULUS {Partitions}, REMAINDER {remainder});\n");
}
