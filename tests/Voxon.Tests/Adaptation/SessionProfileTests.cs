using System.Text.Json;
using Voxon.Adaptation;
using Voxon.Tests.Analytics;

namespace Voxon.Tests.Adaptation;

public sealed class SessionProfileTests
{
    [Fact]
    public async Task An_exported_profile_carries_preferences_overrides_evidence_and_topics()
    {
        await using var client = InsightsTestClient.Create();
        var session = await client.SessionWithAsync(null, [.. PreferenceLearningTests.FormalTechnicalUser, "More on quantum mechanics, please."]);
        session.SetPreference("voice_speed", "slow");

        var profile = session.ExportPreferenceProfile();

        Assert.Equal("user_1", profile.UserId);
        Assert.Equal(5, profile.EvidenceCount);
        Assert.True(profile.Preferences.FormalityScore > 0.65);
        Assert.Equal("slow", profile.Overrides["voice_speed"]);
        Assert.Contains("quantum mechanics", profile.Topics);
    }

    [Fact]
    public async Task A_new_session_created_with_a_profile_starts_from_it()
    {
        await using var client = InsightsTestClient.Create(_ => new RecordingChatClient());
        var chat = (RecordingChatClient)client.Chat!;
        var original = await client.SessionWithAsync(null, PreferenceLearningTests.FormalTechnicalUser);
        original.SetPreference("voice_speed", "slow");
        var profile = original.ExportPreferenceProfile();

        var fresh = await client.Voxon.CreateSessionAsync("user_2", null, preferenceProfile: profile);

        var preferences = fresh.GetLearnedPreferences();
        Assert.Equal(profile.Preferences.FormalityScore, preferences.FormalityScore, 6);
        Assert.Equal(profile.Preferences.TechnicalLevel, preferences.TechnicalLevel, 6);
        Assert.Equal(4, preferences.EvidenceCount);
        Assert.Equal("slow", preferences.Overrides["voice_speed"]);
        Assert.Equal(profile.Topics, fresh.ExportPreferenceProfile().Topics);

        await (await fresh.StartConversationAsync()).SendMessageAsync("Good afternoon.");
        Assert.Contains("Use a formal, courteous register", chat.LastContext()); // from the very first turn
        Assert.Equal(5, fresh.GetLearnedPreferences().EvidenceCount);
    }

    [Fact]
    public async Task A_malformed_profile_is_refused_with_every_problem_named()
    {
        // A profile is plain data, often read back from JSON. Unchecked, a null override failed every later turn, an
        // override cut inside a character came back altered from storage, and impossible scores drove the style guidance.
        await using var client = InsightsTestClient.Create();
        (SessionProfile Profile, string Problem)[] cases =
        [
            (FromJson("""{"overrides":{"formality":null}}"""), "override 'formality' has no value"),
            (new SessionProfile { Overrides = new Dictionary<string, string> { ["formality"] = "formal\ud83d" } }, "unpaired UTF-16 surrogate"),
            (FromJson("""{"overrides":{"bad name":"formal"}}"""), "Preference name 'bad name'"),
            (FromJson("""{"preferences":{"formality_score":40,"evidence_count":10}}"""), "formality_score must be a number from 0 to 1, got 40"),
            (FromJson("""{"preferences":{"speaking_pace":-120,"evidence_count":-1}}"""), "speaking_pace must be a non-negative number, got -120"),
            (FromJson("""{"preferences":null,"overrides":null,"topics":[null]}"""), "preferences are missing; overrides are missing; topics must be"),
        ];

        foreach (var (profile, problem) in cases)
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(() => client.Voxon.CreateSessionAsync("user_2", null, preferenceProfile: profile));
            Assert.Contains(problem, error.Message, StringComparison.Ordinal);
            Assert.Equal("preferenceProfile", error.ParamName);
        }

        static SessionProfile FromJson(string json) => JsonSerializer.Deserialize<SessionProfile>(json)!;
    }

    [Fact]
    public async Task Evidence_at_the_largest_count_stays_there_and_the_values_keep_their_weight()
    {
        // A profile (or an import) may carry evidence up to int.MaxValue; the next message wrapped it negative, and
        // the average message length then read as the whole sum of words.
        await using var client = InsightsTestClient.Create();
        var huge = new SessionProfile
        {
            Preferences = new LearnedPreferences { FormalityScore = 0.9, AvgMessageLength = 12, Verbosity = 0.3, SpeakingPace = 150, SpeakingPaceSamples = int.MaxValue, EvidenceCount = int.MaxValue },
        };
        var session = await client.Voxon.CreateSessionAsync("user_2", null, preferenceProfile: huge);

        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("hey whats up lol");
        conversation.ReportInterruption();

        var learned = session.GetLearnedPreferences();
        Assert.Equal(int.MaxValue, learned.EvidenceCount);
        Assert.Equal(0.9, learned.FormalityScore, 3);
        Assert.Equal(12, learned.AvgMessageLength, 2);
        Assert.Equal(0.3, learned.Verbosity, 3);

        var merged = SessionProfile.Merge([huge, huge]);
        Assert.Equal(int.MaxValue, merged.EvidenceCount);
        Assert.Equal(int.MaxValue, merged.Preferences.SpeakingPaceSamples);
        Assert.Equal(150, merged.Preferences.SpeakingPace!.Value, 6);
    }

    [Fact]
    public void Merge_weights_each_value_by_evidence()
    {
        var expert = new SessionProfile
        {
            UserId = "user_1",
            Preferences = new LearnedPreferences { FormalityScore = 0.9, TechnicalLevel = 0.8, Verbosity = 0.6, AvgMessageLength = 20, EvidenceCount = 30, SpeakingPace = 160, SpeakingPaceSamples = 10 },
            Overrides = new Dictionary<string, string> { ["formality"] = "formal", ["voice"] = "nova" },
            Topics = ["quantum physics", "linear algebra"],
        };
        var casual = new SessionProfile
        {
            UserId = "user_1",
            Preferences = new LearnedPreferences { FormalityScore = 0.3, TechnicalLevel = 0.0, Verbosity = 0.2, AvgMessageLength = 8, EvidenceCount = 10 },
            Overrides = new Dictionary<string, string> { ["formality"] = "casual" },
            Topics = ["gardening", "quantum physics"],
        };

        var merged = SessionProfile.Merge([expert, casual]);

        Assert.Equal(40, merged.EvidenceCount);
        Assert.Equal(0.75, merged.Preferences.FormalityScore, 6);
        Assert.Equal(0.6, merged.Preferences.TechnicalLevel, 6);
        Assert.Equal(0.5, merged.Preferences.Verbosity, 6);
        Assert.Equal(17, merged.Preferences.AvgMessageLength, 6);
        Assert.Equal(160, merged.Preferences.SpeakingPace); // only one profile knows the pace
        Assert.Equal("casual", merged.Overrides["formality"]); // later profiles win
        Assert.Equal("nova", merged.Overrides["voice"]);
        Assert.Equal("quantum physics", merged.Topics[0]);
        Assert.Equal(["quantum physics", "linear algebra", "gardening"], merged.Topics);
        Assert.Equal("user_1", merged.UserId);
        Assert.Equal(0, SessionProfile.Merge([]).EvidenceCount);
    }
}
