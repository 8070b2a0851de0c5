using Voxon.Sessions;
using Voxon.Tests.TestSupport;

namespace Voxon.Tests.Sessions;

public class SessionConfigValidationTests
{
    public static TheoryData<string, Action<SessionConfig>> BadFields => new()
    {
        { "temperature", c => c.Temperature = -0.1 },
        { "temperature", c => c.Temperature = 2.5 },
        { "temperature", c => c.Temperature = double.NaN },
        { "max_output_tokens", c => c.MaxOutputTokens = 0 },
        { "voice", c => c.Voice = "" },
        { "voice", c => c.Voice = "   " },
        { "instructions", c => c.Instructions = "" },
        { "language", c => c.Language = "english please" },
        { "language", c => c.Language = "e" },
        { "memory_mode", c => c.MemoryMode = (MemoryMode)42 },
        { "max_memory_size", c => c.MaxMemorySize = 0 },
        { "time_zone", c => c.TimeZone = "Mars/Olympus_Mons" },
        { "session_id", c => c.SessionId = "../etc/passwd" },
        { "session_id", c => c.SessionId = "a/b" },
    };

    [Theory]
    [MemberData(nameof(BadFields))]
    public void Each_bad_field_is_rejected_with_its_name(string field, Action<SessionConfig> breakIt)
    {
        var config = new SessionConfig();
        breakIt(config);

        var error = Assert.Throws<VoxonConfigurationException>(config.Validate);

        var only = Assert.Single(error.Errors);
        Assert.StartsWith(field, only, StringComparison.Ordinal);
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Several_bad_fields_are_all_listed_in_one_exception()
    {
        var config = new SessionConfig { Temperature = 2.5, MaxOutputTokens = 0, Voice = "", MaxMemorySize = 0, TimeZone = "Nowhere/Else" };

        var error = Assert.Throws<VoxonConfigurationException>(config.Validate);

        Assert.Equal(5, error.Errors.Count);
        foreach (var field in new[] { "temperature", "max_output_tokens", "voice", "max_memory_size", "time_zone" })
        {
            Assert.Contains(field, error.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("en")]
    [InlineData("fr-FR")]
    [InlineData("zh-Hant-TW")]
    public void Language_tags_are_accepted(string tag) => new SessionConfig { Language = tag }.Validate();

    [Fact]
    public void Boundary_values_are_accepted()
    {
        new SessionConfig { Temperature = 0, MaxOutputTokens = 1, MaxMemorySize = 1 }.Validate();
        new SessionConfig { Temperature = 2, MaxOutputTokens = SessionConfig.MaxOutputTokensLimit, TimeZone = "Europe/Paris" }.Validate();
    }

    [Fact]
    public void Defaults_are_the_specs()
    {
        var config = new SessionConfig();

        Assert.Equal("You are a helpful assistant", config.Instructions);
        Assert.Equal("alloy", config.Voice);
        Assert.Null(config.Language);
        Assert.Equal(0.8, config.Temperature);
        Assert.Equal(4096, config.MaxOutputTokens);
        Assert.Equal(MemoryMode.Hybrid, config.MemoryMode);
        Assert.Equal(10_000, config.MaxMemorySize);
        Assert.True(config.EnableLearning);
        Assert.True(config.EnableAnalytics);
        Assert.True(config.EnableAdaptation);
        Assert.False(config.EnableFunctions);
        Assert.Null(config.UserId);
        Assert.Matches("^sess_[0-9a-f]{24}$", config.SessionId);
        Assert.NotEqual(config.SessionId, new SessionConfig().SessionId);
        config.Validate();
    }

    [Fact]
    public async Task Creating_a_session_with_a_bad_config_fails_and_stores_nothing()
    {
        await using var voxon = new TestVoxon();

        var error = await Assert.ThrowsAsync<VoxonConfigurationException>(() => voxon.CreateSessionAsync(new SessionConfig { Temperature = 3 }));

        Assert.Contains("temperature", error.Message, StringComparison.Ordinal);
        Assert.Empty(await voxon.Client.ListSessionsAsync());
    }

    [Fact]
    public async Task Creating_a_session_does_not_share_the_callers_config()
    {
        await using var voxon = new TestVoxon();
        var config = new SessionConfig { Temperature = 0.4 };

        var session = await voxon.CreateSessionAsync(config);
        config.Temperature = 1.9;

        Assert.Equal(0.4, session.Config.Temperature);
        Assert.Equal("alice", session.UserId);
        Assert.Equal(config.SessionId, session.SessionId);
    }
}
