using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Voxon.Migration;
using Voxon.Sessions;
using Voxon.Templates;

namespace Voxon.Tests.Migration;

/// <summary>Builds a session that uses every feature, and edits export documents (re-signing them so deeper checks are reached).</summary>
internal static class MigrationFixture
{
    public const string Owner = "old_123";
    public const string Doctor = "doctor_456";

    /// <summary>When the dated memory of <see cref="RichSessionAsync"/> happened.</summary>
    public static readonly DateTimeOffset OccurredAt = new(2024, 11, 5, 16, 30, 0, TimeSpan.Zero);

    /// <summary>A stored session with template context, memories (one sensitive, one note by <see cref="Doctor"/>), a branch, preferences and a share.</summary>
    public static async Task<Session> RichSessionAsync(VoxonClient voxon, FakeTimeProvider time)
    {
        var template = new SessionTemplate("consult", new SessionConfig { Instructions = "Be brief." }, ["patient_ref"], ["medical_history", "note", "identity", "interest"]);
        var session = await voxon.CreateSessionFromTemplateAsync(template, new Dictionary<string, string> { ["patient_ref"] = "P-77" }, Owner);
        await session.AddMemoryAsync("Allergic to penicillin", "medical_history", 0.9);
        await session.AddMemoryAsync("Started a new course of antibiotics yesterday", "medical_history", occurredAt: OccurredAt, context: "Doctor: any new medication?");
        await session.AddMemoryAsync("Keeps a spare key under the mat", "medical_history", sensitive: true);
        session.SetPreference("formality", "always_formal");
        var main = await session.StartConversationAsync("main");
        await main.SendMessageAsync("My name is Alice and I love jazz.");
        time.Advance(TimeSpan.FromMinutes(3));
        var branch = await session.StartConversationAsync("side", parentId: "main");
        await branch.SendMessageAsync("I work at Contoso.");
        await branch.EndAsync();
        await main.EndAsync();
        await session.SaveAsync();
        var share = await session.CreateSharedViewAsync(Doctor, ["read", "add_notes"], TimeSpan.FromDays(1));
        await (await voxon.AccessSharedSessionAsync(share.Token, Doctor)).AddNoteAsync("Review allergy list");
        return await voxon.LoadSessionAsync(session.SessionId);
    }

    /// <summary>Applies <paramref name="edit"/> to the payload and writes a matching checksum.</summary>
    public static string Resign(string export, Action<JsonObject> edit)
    {
        var root = JsonNode.Parse(export)!.AsObject();
        var payload = root["payload"]!.AsObject();
        edit(payload);
        using var parsed = JsonDocument.Parse(payload.ToJsonString());
        root["checksum"] = SessionExport.ChecksumOf(SessionExport.Canonical(parsed.RootElement));
        return root.ToJsonString();
    }

    public static JsonObject Session(JsonObject payload) => payload["session"]!.AsObject();
}
