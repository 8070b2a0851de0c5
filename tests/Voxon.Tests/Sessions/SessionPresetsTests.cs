using Voxon.Sessions;

namespace Voxon.Tests.Sessions;

public class SessionPresetsTests
{
    [Fact]
    public void Conversation_is_natural_persistent_and_learning()
    {
        var config = SessionPresets.Conversation;

        Assert.Equal(0.8, config.Temperature);
        Assert.Equal(MemoryMode.Persistent, config.MemoryMode);
        Assert.True(config.EnableLearning);
        config.Validate();
    }

    [Fact]
    public void TaskOriented_is_precise_ephemeral_with_functions()
    {
        var config = SessionPresets.TaskOriented;

        Assert.Equal(0.3, config.Temperature);
        Assert.Equal(MemoryMode.Ephemeral, config.MemoryMode);
        Assert.True(config.EnableFunctions);
        config.Validate();
    }

    [Fact]
    public void Educational_is_balanced_hybrid_with_adaptation()
    {
        var config = SessionPresets.Educational;

        Assert.Equal(0.5, config.Temperature);
        Assert.Equal(MemoryMode.Hybrid, config.MemoryMode);
        Assert.True(config.EnableAdaptation);
        config.Validate();
    }

    [Fact]
    public void CustomerSupport_is_professional_persistent_with_analytics()
    {
        var config = SessionPresets.CustomerSupport;

        Assert.Equal(MemoryMode.Persistent, config.MemoryMode);
        Assert.True(config.EnableAnalytics);
        Assert.Contains("professional", config.Instructions, StringComparison.OrdinalIgnoreCase);
        config.Validate();
    }

    public static TheoryData<string> Presets => ["Conversation", "TaskOriented", "Educational", "CustomerSupport"];

    [Theory]
    [MemberData(nameof(Presets))]
    public void Each_access_returns_a_fresh_copy_with_a_new_id(string name)
    {
        var property = typeof(SessionPresets).GetProperty(name)!;
        var first = (SessionConfig)property.GetValue(null)!;
        var original = first.Temperature;

        first.Temperature = 1.99;
        first.Instructions = "changed";
        var second = (SessionConfig)property.GetValue(null)!;

        Assert.NotSame(first, second);
        Assert.NotEqual(first.SessionId, second.SessionId);
        Assert.Equal(original, second.Temperature);
        Assert.NotEqual("changed", second.Instructions);
    }
}
