using System.Diagnostics;
using System.Reflection;
using Microsoft.Extensions.Time.Testing;
using Voxon.Memory;
using Voxon.Sessions;
using Voxon.Sharing;

namespace Voxon.Tests.Sharing;

public sealed class SessionSharingTests : IDisposable
{
    private static readonly TimeSpan Day = TimeSpan.FromHours(24);
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 1, 9, 0, 0, TimeSpan.Zero));

    public void Dispose() => _dir.Dispose();

    private async Task<(VoxonClient Voxon, Session Session)> StoredSessionAsync()
    {
        var voxon = FeatureKit.Client(_dir.Path, _time);
        var session = await voxon.CreateSessionAsync("patient_1");
        await session.AddMemoryAsync("Allergic to penicillin", "medical_history", 0.9);
        await session.AddMemoryAsync("Card PIN is 4321", "secrets", sensitive: true);
        var conversation = await session.StartConversationAsync("c1");
        await conversation.SendMessageAsync("Write to me at alice@example.com please");
        await session.SaveAsync();
        return (voxon, session);
    }

    [Fact]
    public async Task A_read_view_sees_memory_transcripts_and_analytics_with_sensitive_content_redacted()
    {
        var (voxon, session) = await StoredSessionAsync();
        await using var _ = voxon;
        var share = await session.CreateSharedViewAsync("doctor_456", [SharePermissions.Read], Day);
        var view = await voxon.AccessSharedSessionAsync(share.Token, "doctor_456");

        var memory = view.GetMemory();
        Assert.Contains(memory, e => e.Content == "Allergic to penicillin");
        Assert.DoesNotContain(memory, e => e.Content.Contains("4321", StringComparison.Ordinal));
        Assert.All(memory, e => Assert.True(e.Embedding.IsEmpty));
        var transcript = view.GetTranscript("c1");
        Assert.Equal(2, transcript.Count);
        Assert.DoesNotContain("alice@example.com", transcript[0].Content, StringComparison.Ordinal);
        Assert.Equal(1, view.GetAnalytics().ConversationCount);
        Assert.Equal(2, view.GetAnalytics().MessageCount);
        Assert.Equal("c1", Assert.Single(view.GetConversations()).ConversationId);
    }

    [Fact]
    public async Task A_paraphrased_secret_is_redacted_from_shared_transcripts_by_its_value()
    {
        await using var voxon = FeatureKit.Client(_dir.Path, _time);
        var session = await voxon.CreateSessionAsync("patient_2");
        await session.AddMemoryAsync("User's locker code: ZEBRA7731", "secrets", sensitive: true);
        await session.AddMemoryAsync("Wifi password is hunter2-Blue", "secrets", sensitive: true);
        var conversation = await session.StartConversationAsync("c1");
        await conversation.SendMessageAsync("The code for my locker is zebra7731, and the wifi one is hunter2-blue.");
        await session.SaveAsync();
        var share = await session.CreateSharedViewAsync("doctor_9", [SharePermissions.Read], Day);

        var said = (await voxon.AccessSharedSessionAsync(share.Token, "doctor_9")).GetTranscript("c1")[0].Content;

        Assert.DoesNotContain("7731", said, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", said, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("The code for my locker is", said, StringComparison.Ordinal); // the rest stays readable
    }

    /// <summary>A session with one sensitive memory and a conversation c1 whose assistant always answers <paramref name="reply"/>.</summary>
    private async Task<(VoxonClient Voxon, Session Session, Voxon.Conversations.Conversation Conversation)> SecretKeepingSessionAsync(string reply, string secret)
    {
        var voxon = FeatureKit.Client(_dir.Path, _time, new RecordingChatClient { FixedReply = reply });
        var session = await voxon.CreateSessionAsync("patient_secret");
        await session.AddMemoryAsync(secret, "secrets", sensitive: true);
        return (voxon, session, await session.StartConversationAsync("c1"));
    }

    [Fact]
    public async Task Shared_transcripts_redact_the_unheard_rest_of_a_reply_and_tool_calls_too()
    {
        var (voxon, session, conversation) = await SecretKeepingSessionAsync("Sure. Your PIN 4321 is noted, and I wrote to alice@example.com about it.", "Card PIN is 4321");
        await using var _ = voxon;
        await conversation.SendMessageAsync("Please keep my card PIN safe");
        var reply = session.FindConversation("c1").Turns[1];
        session.FindConversation("c1").Turns[1] = reply with { ToolCalls = [new("lookup_card", """{"pin":"4321"}""", "card for alice@example.com, PIN 4321", false)] };
        Assert.True(conversation.Interrupt("Sure."));
        await session.SaveAsync();
        var share = await session.CreateSharedViewAsync("doctor_9", [SharePermissions.Read], Day);

        var turn = (await voxon.AccessSharedSessionAsync(share.Token, "doctor_9")).GetTranscript("c1")[1];

        Assert.Equal(("Sure.", true), (turn.Content, turn.Interrupted));
        var call = Assert.Single(turn.ToolCalls!);
        foreach (var text in new[] { turn.GeneratedContent!, call.Arguments!, call.Result! })
        {
            Assert.DoesNotContain("4321", text, StringComparison.Ordinal);
            Assert.DoesNotContain("alice@example.com", text, StringComparison.Ordinal);
        }

        Assert.StartsWith("Sure. Your PIN", turn.GeneratedContent, StringComparison.Ordinal); // the rest stays readable
        Assert.Equal("lookup_card", call.Name);
    }

    [Fact]
    public async Task Shared_memories_redact_secrets_in_the_transcript_text_they_carry()
    {
        var (voxon, session, conversation) = await SecretKeepingSessionAsync("Noted: your locker code is ZEBRA7731, and I will write to alice@example.com.", "User's locker code: ZEBRA7731");
        await using var _ = voxon;
        await conversation.SendMessageAsync("Remember my locker code please");
        await conversation.SendMessageAsync("Thanks. I love jazz piano");
        await session.AddMemoryAsync("Locker ZEBRA7731 is on the second floor", "places");
        await session.SaveAsync();
        var share = await session.CreateSharedViewAsync("doctor_9", [SharePermissions.Read], Day);

        var memory = (await voxon.AccessSharedSessionAsync(share.Token, "doctor_9")).GetMemory();

        var jazz = Assert.Single(memory, e => e.Content.Contains("jazz piano", StringComparison.Ordinal));
        Assert.NotNull(jazz.Context); // the reply the user answered
        Assert.Contains("your locker code is", jazz.Context, StringComparison.Ordinal);
        Assert.All(memory, e =>
        {
            Assert.DoesNotContain("7731", e.Content + e.Context, StringComparison.Ordinal);
            Assert.DoesNotContain("alice@example.com", e.Context ?? string.Empty, StringComparison.Ordinal);
        });
        Assert.Contains(memory, e => e.Content.StartsWith("Locker [REDACTED] is on the second floor", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_read_only_view_cannot_add_notes_and_nothing_is_written()
    {
        var (voxon, session) = await StoredSessionAsync();
        await using var _ = voxon;
        var share = await session.CreateSharedViewAsync("doctor_456", ["read"], Day);
        var view = await voxon.AccessSharedSessionAsync(share.Token, "doctor_456");
        var before = FeatureKit.Snapshot(_dir.Path);
        var error = await Assert.ThrowsAsync<SharePermissionException>(() => view.AddNoteAsync("Looks fine"));
        Assert.Equal("add_notes", error.Permission);
        Assert.Equal(before, FeatureKit.Snapshot(_dir.Path));
    }

    [Fact]
    public async Task An_add_notes_only_view_cannot_read_but_its_notes_are_stored_with_the_author()
    {
        var (voxon, session) = await StoredSessionAsync();
        await using var _ = voxon;
        var share = await session.CreateSharedViewAsync("doctor_456", ["add_notes"], Day);
        var view = await voxon.AccessSharedSessionAsync(share.Token, "doctor_456");
        Assert.Throws<SharePermissionException>(() => view.GetMemory());
        Assert.Throws<SharePermissionException>(() => view.GetTranscript("c1"));
        Assert.Throws<SharePermissionException>(() => view.GetConversations());
        Assert.Throws<SharePermissionException>(() => view.GetAnalytics());

        var note = await view.AddNoteAsync("Follow up in two weeks", 0.7);
        Assert.Equal("note", note.Category);

        var reloaded = await voxon.LoadSessionAsync(session.SessionId);
        var stored = Assert.Single(reloaded.GetMemory().Entries, e => e.Source == MemorySource.Note);
        Assert.Equal(("Follow up in two weeks", "note", "doctor_456"), (stored.Content, stored.Category, stored.Author));
        Assert.Equal(session.Version + 1, reloaded.Version);
    }

    [Fact]
    public void The_view_has_no_mutating_member_besides_adding_notes()
    {
        var methods = typeof(SharedSessionView).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(m => !m.IsSpecialName).Select(m => m.Name).Order().ToArray();
        Assert.Equal(["AddNoteAsync", "GetAnalytics", "GetConversations", "GetMemory", "GetTranscript"], methods);
        Assert.All(typeof(SharedSessionView).GetProperties(), p => Assert.Null(p.SetMethod));
        Assert.All(typeof(SharedSessionView).GetProperties(), p => Assert.NotEqual(typeof(Session), p.PropertyType));
    }

    [Fact]
    public async Task Expired_revoked_wrong_user_and_forged_tokens_are_refused_identically()
    {
        var (voxon, session) = await StoredSessionAsync();
        await using var _ = voxon;
        var cases = await RefusedTokensAsync(voxon, session);
        var messages = new List<string>();
        foreach (var (token, user) in cases)
        {
            var error = await Assert.ThrowsAsync<InvalidShareTokenException>(() => voxon.AccessSharedSessionAsync(token, user));
            Assert.Equal(typeof(InvalidShareTokenException), error.GetType());
            messages.Add(error.Message);
        }

        Assert.All(messages, m => Assert.Equal("invalid or expired share token", m));
    }

    /// <summary>TIMING CHECK (generous on purpose): median rejection times of the four cases stay within a factor of
    /// 10 of each other. It guards against an early exit (e.g. no lookup for a forged token), not against fine timing
    /// channels, which a unit test cannot measure without flakiness.</summary>
    [Fact]
    [Trait("Category", "Timing")]
    public async Task Timing_check_refusals_take_comparable_time_whatever_the_reason()
    {
        var (voxon, session) = await StoredSessionAsync();
        await using var _ = voxon;
        var cases = await RefusedTokensAsync(voxon, session);
        var samples = cases.Select(_ => new List<double>()).ToArray();
        for (var round = 0; round < 330; round++)
        {
            for (var i = 0; i < cases.Count; i++)
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    await voxon.AccessSharedSessionAsync(cases[i].Token, cases[i].User);
                }
                catch (InvalidShareTokenException)
                {
                }

                if (round >= 30)
                {
                    samples[i].Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
                }
            }
        }

        var medians = samples.Select(s => s.Order().ElementAt(s.Count / 2)).ToArray();
        Assert.True(medians.Max() / medians.Min() < 10, "medians (µs): " + string.Join(", ", medians.Select(m => m.ToString("F1"))));
    }

    [Fact]
    public async Task No_plaintext_token_is_stored_and_listing_never_shows_tokens()
    {
        var (voxon, session) = await StoredSessionAsync();
        await using var _ = voxon;
        var share = await session.CreateSharedViewAsync("doctor_456", ["read", "add_notes"], Day);
        await (await voxon.AccessSharedSessionAsync(share.Token, "doctor_456")).AddNoteAsync("Seen today");
        Assert.Equal(43, share.Token.Length);
        foreach (var file in Directory.EnumerateFiles(_dir.Path, "*", SearchOption.AllDirectories))
        {
            Assert.False(Utf8Text.Contains(File.ReadAllBytes(file), share.Token), file);
        }

        var listed = Assert.Single(await voxon.ListSharesAsync(session.SessionId));
        Assert.Equal(share.ShareId, listed.ShareId);
        Assert.Equal(["read", "add_notes"], listed.Permissions);
        Assert.DoesNotContain(share.Token, listed.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(share.Token, share.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Revocation_stops_access_and_notes_from_an_open_view_and_events_are_raised()
    {
        var (voxon, session) = await StoredSessionAsync();
        await using var _ = voxon;
        var seen = new List<string>();
        using var sub = voxon.ShareEvents.On("share.*", e => seen.Add(e.Type));
        var share = await session.CreateSharedViewAsync("doctor_456", ["add_notes"], Day);
        var view = await voxon.AccessSharedSessionAsync(share.Token, "doctor_456");
        Assert.True(await session.RevokeShareAsync(share.ShareId));
        await Assert.ThrowsAsync<InvalidShareTokenException>(() => view.AddNoteAsync("Too late"));
        await Assert.ThrowsAsync<InvalidShareTokenException>(() => voxon.AccessSharedSessionAsync(share.Token, "doctor_456"));
        Assert.False(await voxon.RevokeShareAsync(session.SessionId, "share_missing"));
        Assert.NotNull(Assert.Single(await session.ListSharesAsync()).RevokedAt);
        Assert.Equal(["share.created", "share.accessed", "share.revoked"], seen);
    }

    [Fact]
    public async Task Sharing_needs_a_saved_session_and_valid_arguments()
    {
        await using var voxon = FeatureKit.Client(_dir.Path, _time);
        var session = await voxon.CreateSessionAsync("u1");
        await Assert.ThrowsAsync<SessionStateException>(() => session.CreateSharedViewAsync("u2", ["read"], Day));
        await session.SaveAsync();
        await Assert.ThrowsAsync<ArgumentException>(() => session.CreateSharedViewAsync("u2", ["write"], Day));
        await Assert.ThrowsAsync<ArgumentException>(() => session.CreateSharedViewAsync("u2", [], Day));
        await Assert.ThrowsAsync<ArgumentException>(() => session.CreateSharedViewAsync("../u2", ["read"], Day));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => session.CreateSharedViewAsync("u2", ["read"], TimeSpan.Zero));
    }

    /// <summary>Four refused (token, user) pairs: expired, revoked, wrong user, forged.</summary>
    private async Task<List<(string Token, string User)>> RefusedTokensAsync(VoxonClient voxon, Session session)
    {
        var expired = await session.CreateSharedViewAsync("doctor_456", ["read"], TimeSpan.FromHours(1));
        _time.Advance(TimeSpan.FromHours(2));
        var revoked = await session.CreateSharedViewAsync("doctor_456", ["read"], Day);
        await voxon.RevokeShareAsync(session.SessionId, revoked.ShareId);
        var other = await session.CreateSharedViewAsync("doctor_456", ["read"], Day);
        var forged = System.Buffers.Text.Base64Url.EncodeToString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        return [(expired.Token, "doctor_456"), (revoked.Token, "doctor_456"), (other.Token, "nurse_789"), (forged, "doctor_456")];
    }
}
