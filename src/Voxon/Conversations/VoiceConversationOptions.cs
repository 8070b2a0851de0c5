using Microsoft.Extensions.AI;
using Voxon.Engine.Realtime;

namespace Voxon.Conversations;

/// <summary>How <see cref="Sessions.Session.StartVoiceConversationAsync"/> opens a realtime voice conversation.</summary>
public sealed class VoiceConversationOptions
{
    /// <summary>Id of the conversation that records the voice turns; a new one when null.</summary>
    public string? ConversationId { get; set; }

    /// <summary>The conversation to branch from, or null.</summary>
    public string? ParentId { get; set; }

    /// <summary>The realtime endpoint; null uses <see cref="VoxonOptions.Realtime"/> or the environment.</summary>
    public RealtimeOptions? Realtime { get; set; }

    /// <summary>Whether the server detects when the user stops speaking and answers by itself (server VAD). When false,
    /// the caller ends each utterance with <see cref="VoiceConversation.CommitAudioAsync"/> (push to talk). Default true.</summary>
    public bool ServerVad { get; set; } = true;

    /// <summary>Functions the realtime model may call when the session's <see cref="Sessions.SessionConfig.EnableFunctions"/> is on,
    /// beside the client's, the session's and the built-in memory tools (remember, recall, forget); one here wins over a
    /// tool of the same name.</summary>
    public IList<AIFunction> Tools { get; } = [];
}
