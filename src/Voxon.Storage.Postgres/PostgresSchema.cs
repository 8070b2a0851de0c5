namespace Voxon.Storage.Postgres;

/// <summary>The versioned migrations of the backend's tables. Append new ones; never edit an applied one.</summary>
internal static class PostgresSchema
{
    /// <summary>Arbitrary first key of the advisory lock that serialises migrations across processes.</summary>
    public const int LockKey = 0x566f786f; // "Voxo"

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
    ];
}
