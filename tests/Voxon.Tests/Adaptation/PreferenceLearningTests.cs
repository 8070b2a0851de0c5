using Voxon.Adaptation;
using Voxon.Events;
using Voxon.Sessions;
using Voxon.Tests.Analytics;

namespace Voxon.Tests.Adaptation;

public sealed class PreferenceLearningTests
{
    internal static readonly string[] FormalTechnicalUser =
    [
        "Could you please explain the Hamiltonian formulation of quantum mechanics?",
        "I would appreciate a clarification regarding eigenstate decomposition.",
        "Furthermore, how does decoherence affect qubit coherence times?",
        "Thank you. Could you elaborate on the algorithm's asymptotic complexity?",
    ];

    internal static readonly string[] CasualBeginner =
    [
        "hey whats up lol",
        "yeah cool, can u tell me about stars",
        "gonna go stargazing tonight!! any tips",
        "ok thx that's awesome",
    ];

    [Fact]
    public async Task A_formal_technical_user_scores_higher_on_formality_and_technical_level_than_a_casual_one()
    {
        await using var client = InsightsTestClient.Create();
        var formal = (await client.SessionWithAsync(null, FormalTechnicalUser)).GetLearnedPreferences();
        var casual = (await client.SessionWithAsync(null, CasualBeginner)).GetLearnedPreferences();

        Assert.True(formal.FormalityScore > 0.65, $"formal user formality {formal.FormalityScore}");
        Assert.True(casual.FormalityScore < 0.35, $"casual user formality {casual.FormalityScore}");
        Assert.True(formal.TechnicalLevel > 0.4, $"formal user technical level {formal.TechnicalLevel}");
        Assert.True(casual.TechnicalLevel < 0.1, $"casual user technical level {casual.TechnicalLevel}");
        Assert.True(formal.AvgMessageLength > casual.AvgMessageLength);
        Assert.Equal(4, formal.EvidenceCount);
        Assert.All([formal.FormalityScore, formal.TechnicalLevel, formal.Verbosity, casual.FormalityScore, casual.TechnicalLevel, casual.Verbosity],
            score => Assert.InRange(score, 0, 1));
    }

    [Fact]
    public async Task Style_guidance_the_engine_receives_differs_for_a_formal_expert_and_a_casual_beginner()
    {
        await using var client = InsightsTestClient.Create(_ => new RecordingChatClient());
        var chat = (RecordingChatClient)client.Chat!;

        await client.SessionWithAsync(null, [.. FormalTechnicalUser, "What is the ground state energy?"]);
        var formalContext = chat.LastContext();
        await client.SessionWithAsync(null, [.. CasualBeginner, "what's the moon made of"]);
        var casualContext = chat.LastContext();

        Assert.Contains("Use a formal, courteous register", formalContext);
        Assert.Contains("technically fluent", formalContext);
        Assert.DoesNotContain("avoid jargon", formalContext);
        Assert.Contains("Keep the tone casual and friendly", casualContext);
        Assert.Contains("Explain simply and avoid jargon", casualContext);
        Assert.DoesNotContain("formal, courteous", casualContext);
    }

    [Fact]
    public async Task No_style_is_learned_before_enough_evidence_or_with_adaptation_off()
    {
        await using var client = InsightsTestClient.Create(_ => new RecordingChatClient());
        var chat = (RecordingChatClient)client.Chat!;

        await client.SessionWithAsync(null, CasualBeginner[0], CasualBeginner[1]);
        Assert.DoesNotContain("Style:", chat.LastContext());

        await client.SessionWithAsync(new SessionConfig { EnableAdaptation = false }, [.. CasualBeginner, "hi again"]);
        Assert.DoesNotContain("Style:", chat.LastContext());
    }

    [Fact]
    public async Task Learning_off_learns_nothing()
    {
        await using var client = InsightsTestClient.Create();
        var session = await client.SessionWithAsync(new SessionConfig { EnableLearning = false }, FormalTechnicalUser);

        Assert.Equal(0, session.GetLearnedPreferences().EvidenceCount);
    }

    [Fact]
    public async Task Speaking_pace_is_learned_from_audio_duration_and_absent_without_it()
    {
        await using var client = InsightsTestClient.Create();
        var session = await client.Voxon.CreateSessionAsync("user_1");
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("Tell me something new today please.");
        Assert.Null(session.GetLearnedPreferences().SpeakingPace);

        await conversation.SendMessageAsync("one two three four five six seven eight nine ten", TimeSpan.FromSeconds(4)); // 150 wpm
        await conversation.SendMessageAsync("one two three four five", TimeSpan.FromSeconds(3)); // 100 wpm

        var preferences = session.GetLearnedPreferences();
        Assert.Equal(125, preferences.SpeakingPace);
        Assert.Equal(2, preferences.SpeakingPaceSamples);
        Assert.Equal(4.0, conversation.Transcript[2].AudioSeconds);
    }

    [Fact]
    public async Task Overrides_win_over_learned_values_and_reach_the_engine_verbatim()
    {
        await using var client = InsightsTestClient.Create(_ => new RecordingChatClient());
        var chat = (RecordingChatClient)client.Chat!;
        var session = await client.SessionWithAsync(null, FormalTechnicalUser);

        session.SetPreference("formality", "always_casual");
        session.SetPreference("language_style", "pirate");
        await (await session.ResumeConversationAsync()).SendMessageAsync("And what about spin?");

        var preferences = session.GetLearnedPreferences();
        Assert.Equal(0, preferences.FormalityScore);
        Assert.Equal("always_casual", preferences.Overrides["formality"]);
        Assert.True(session.ExportPreferenceProfile().Preferences.FormalityScore > 0.65, "the learned value is kept under the override");
        var context = chat.LastContext();
        Assert.Contains("formality: always_casual", context);
        Assert.Contains("language_style: pirate", context);
        Assert.DoesNotContain("formal, courteous", context);
        Assert.Contains("technically fluent", context);
    }

    [Fact]
    public async Task Override_names_that_differ_in_case_or_alias_set_one_preference_and_the_last_set_wins()
    {
        // 'Formality' and 'formality' (or 'formality_score') name one preference: both were kept, the engine was told
        // both, and which applied depended on which name was set first rather than last.
        await using var client = InsightsTestClient.Create(_ => new RecordingChatClient());
        var chat = (RecordingChatClient)client.Chat!;
        var session = await client.SessionWithAsync(null, FormalTechnicalUser);

        foreach (var (name, value) in new[] { ("Formality", "always_casual"), ("formality", "always_formal"), ("Formality", "always_casual"), ("Language_Style", "pirate"), ("language_style", "plain") })
        {
            session.SetPreference(name, value);
        }

        await (await session.ResumeConversationAsync()).SendMessageAsync("And what about spin?");
        Assert.Equal(0, session.GetLearnedPreferences().FormalityScore);
        Assert.Equal(new Dictionary<string, string> { ["Formality"] = "always_casual", ["language_style"] = "plain" }, session.GetLearnedPreferences().Overrides);
        Assert.Contains("Formality: always_casual", chat.LastContext());
        Assert.DoesNotContain("always_formal", chat.LastContext());
        Assert.DoesNotContain("pirate", chat.LastContext());

        // A profile applies its override only where the session has none for that preference, whatever the spelling.
        var profile = new SessionProfile { Overrides = new Dictionary<string, string> { ["formality_score"] = "0.8" } };
        var fresh = await client.Voxon.CreateSessionAsync("user_2", null, profile);
        fresh.SetPreference("FORMALITY", "0.2");
        Assert.Equal(0.2, fresh.GetLearnedPreferences().FormalityScore);
        Assert.Equal("0.2", Assert.Single(fresh.ExportPreferenceProfile().Overrides).Value);

        // A profile naming one preference twice is ambiguous: refused rather than one of them picked.
        var ambiguous = new SessionProfile { Overrides = new Dictionary<string, string> { ["formality"] = "formal", ["Formality"] = "casual" } };
        var error = await Assert.ThrowsAsync<ArgumentException>(() => client.Voxon.CreateSessionAsync("user_3", null, ambiguous));
        Assert.Contains("overrides 'formality' and 'Formality' name the same preference", error.Message, StringComparison.Ordinal);

        // Merging: a later profile's override replaces an earlier one spelled differently.
        var merged = SessionProfile.Merge([profile, new SessionProfile { Overrides = new Dictionary<string, string> { ["Formality"] = "casual" } }]);
        Assert.Equal(new Dictionary<string, string> { ["Formality"] = "casual" }, merged.Overrides);
    }

    [Fact]
    public async Task Preference_learned_is_raised_when_a_preference_becomes_known_and_when_it_moves()
    {
        await using var client = InsightsTestClient.Create();
        var session = await client.Voxon.CreateSessionAsync("user_1");
        var changes = new List<PreferenceChange>();
        session.Events.On(SessionEventNames.PreferenceLearned, e => changes.Add(e.DataAs<PreferenceChange>()!));
        var conversation = await session.StartConversationAsync();

        foreach (var message in CasualBeginner.Take(2))
        {
            await conversation.SendMessageAsync(message);
        }

        Assert.Empty(changes);
        await conversation.SendMessageAsync(CasualBeginner[2]);
        Assert.Equal(["avg_message_length", "formality_score", "technical_level", "verbosity"], changes.Select(c => c.Name));
        Assert.All(changes, c => Assert.Null(c.Previous));
        changes.Clear();

        await conversation.SendMessageAsync(CasualBeginner[3]);
        Assert.DoesNotContain(changes, c => c.Name == "formality_score");

        foreach (var message in FormalTechnicalUser)
        {
            await conversation.SendMessageAsync(message);
        }

        var formality = Assert.Single(changes, c => c.Name == "formality_score");
        Assert.True(formality.Current > formality.Previous);
    }

    [Fact]
    public async Task Interruptions_lower_verbosity()
    {
        await using var client = InsightsTestClient.Create();
        var session = await client.SessionWithAsync(null, FormalTechnicalUser);
        var before = session.GetLearnedPreferences().Verbosity;

        var conversation = await session.ResumeConversationAsync();
        conversation.ReportInterruption();

        Assert.True(session.GetLearnedPreferences().Verbosity < before);
    }

    [Fact]
    public async Task Learned_state_survives_save_and_load_and_learning_continues()
    {
        await using var client = InsightsTestClient.Create();
        var session = await client.SessionWithAsync(null, FormalTechnicalUser);
        session.SetPreference("verbosity", "concise");
        var before = session.GetLearnedPreferences();
        await session.SaveAsync();

        await using var later = client.Open();
        var loaded = await later.LoadSessionAsync(session.SessionId);
        var announced = new List<PreferenceChange>();
        loaded.Events.On(SessionEventNames.PreferenceLearned, e => announced.Add(e.DataAs<PreferenceChange>()!));

        var after = loaded.GetLearnedPreferences();
        Assert.Equal(before with { Overrides = after.Overrides }, after);
        Assert.Equal(before.Overrides, after.Overrides);
        await (await loaded.ResumeConversationAsync()).SendMessageAsync("Could you kindly summarise the theorem?");
        Assert.Equal(5, loaded.GetLearnedPreferences().EvidenceCount);
        Assert.DoesNotContain(announced, c => c.Previous is null); // nothing is announced as new after a load
    }
}
