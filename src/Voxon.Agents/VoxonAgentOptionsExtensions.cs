using Microsoft.Agents.AI;

namespace Voxon.Agents;

/// <summary>Wires Voxon memory and history into a <see cref="ChatClientAgent"/>.</summary>
public static class VoxonAgentOptionsExtensions
{
    /// <summary>
    /// Adds a <see cref="VoxonContextProvider"/> for <paramref name="userId"/> to the agent's context providers and sets
    /// the agent's <see cref="ChatClientAgentOptions.ChatHistoryProvider"/> to the Voxon transcript.
    /// </summary>
    /// <example><code>
    /// var agent = chatClient.AsAIAgent(new ChatClientAgentOptions { Name = "Tutor" }.UseVoxon(voxon, "alice"));
    /// </code></example>
    /// <returns><paramref name="options"/>, for chaining.</returns>
    /// <exception cref="InvalidOperationException">The options already have another chat history provider.</exception>
    /// <exception cref="ArgumentException">The user id breaks Voxon's id rules.</exception>
    public static ChatClientAgentOptions UseVoxon(this ChatClientAgentOptions options, VoxonClient voxon, string userId, Action<VoxonAgentOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ChatHistoryProvider is not null)
        {
            throw new InvalidOperationException(
                $"The agent already has a chat history provider ({options.ChatHistoryProvider.GetType().Name}); with Voxon the history is the Voxon transcript. Remove it, or add a VoxonContextProvider alone.");
        }

        var voxonOptions = new VoxonAgentOptions();
        configure?.Invoke(voxonOptions);
        var provider = new VoxonContextProvider(voxon, userId, voxonOptions);
        options.AIContextProviders = [.. options.AIContextProviders ?? [], provider];
        options.ChatHistoryProvider = provider.CreateChatHistoryProvider();
        return options;
    }
}
