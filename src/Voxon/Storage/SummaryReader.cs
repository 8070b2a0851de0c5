using System.Text.Json;

namespace Voxon.Storage;

/// <summary>Reads a <see cref="SessionSummary"/> from the first bytes of a stored document without parsing
/// memory or transcripts, which come after the fields it needs.</summary>
internal static class SummaryReader
{
    /// <summary>The summary, or null when the head is incomplete (the caller then parses the whole document).</summary>
    public static SessionSummary? Read(ReadOnlySpan<byte> head, string sessionId)
    {
        var reader = new Utf8JsonReader(head, isFinalBlock: false, state: default);
        string? id = null, user = null;
        DateTimeOffset created = default, updated = default;
        int conversations = -1, messages = -1;
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            if (!reader.Read())
            {
                return null;
            }

            switch (name)
            {
                case "session_id": id = reader.GetString(); break;
                case "user_id": user = reader.GetString(); break;
                case "created_at": created = reader.GetDateTimeOffset(); break;
                case "updated_at": updated = reader.GetDateTimeOffset(); break;
                case "analytics":
                    if (!ReadCounts(ref reader, out conversations, out messages))
                    {
                        return null;
                    }

                    break;
                default:
                    if (!reader.TrySkip())
                    {
                        return null;
                    }

                    break;
            }

            if (id is not null && user is not null && updated != default && conversations >= 0)
            {
                return id == sessionId ? new SessionSummary(id, user, created, updated, conversations, messages) : null;
            }
        }

        return null;
    }

    private static bool ReadCounts(ref Utf8JsonReader reader, out int conversations, out int messages)
    {
        conversations = 0;
        messages = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            if (!reader.Read())
            {
                return false;
            }

            if (name == "conversation_count")
            {
                conversations = reader.GetInt32();
            }
            else if (name == "message_count")
            {
                messages = reader.GetInt32();
            }
            else if (!reader.TrySkip())
            {
                return false;
            }
        }

        return reader.TokenType == JsonTokenType.EndObject;
    }
}
