namespace Voxon.Events;

/// <summary>Names of the events a session raises (ARCHITECTURE.md, "Analytics, adaptation, events, debug").</summary>
public static class SessionEventNames
{
    /// <summary>A session was created; data: the <see cref="Sessions.SessionConfig"/>.</summary>
    public const string SessionCreated = "session.created";

    /// <summary>A session was loaded from storage; data: the session id.</summary>
    public const string SessionLoaded = "session.loaded";

    /// <summary>A session was saved; data: the stored version number.</summary>
    public const string SessionSaved = "session.saved";

    /// <summary>A session was closed; the data is null, or <c>"idle_timeout"</c> when <see cref="VoxonOptions.SessionTimeout"/> closed it.</summary>
    public const string SessionClosed = "session.closed";

    /// <summary>A conversation started; data: <see cref="Conversations.ConversationInfo"/>.</summary>
    public const string ConversationStarted = "conversation.started";

    /// <summary>A conversation was resumed; data: <see cref="Conversations.ConversationInfo"/>.</summary>
    public const string ConversationResumed = "conversation.resumed";

    /// <summary>The user interrupted an assistant reply; data: the interrupted assistant <see cref="Conversations.ConversationTurn"/>.</summary>
    public const string ConversationInterrupted = "conversation.interrupted";

    /// <summary>A conversation ended; data: <see cref="Conversations.ConversationInfo"/>.</summary>
    public const string ConversationEnded = "conversation.ended";

    /// <summary>The user said something; data: the user <see cref="Conversations.ConversationTurn"/>.</summary>
    public const string MessageReceived = "message.received";

    /// <summary>The assistant answered; data: the assistant <see cref="Conversations.ConversationTurn"/>.</summary>
    public const string MessageSent = "message.sent";

    /// <summary>The model called a function while answering; data: the <see cref="Conversations.ToolCall"/>, raised after the reply is recorded.</summary>
    public const string MessageToolCall = "message.tool_call";

    /// <summary>A memory was added; data: the (redacted) <see cref="Memory.MemoryEntry"/>.</summary>
    public const string MemoryAdded = "memory.added";

    /// <summary>A memory replaced an older one in the same slot; data: <see cref="Memory.MemorySuperseded"/>.</summary>
    public const string MemorySuperseded = "memory.superseded";

    /// <summary>Memories were evicted to stay within max_memory_size; data: the (redacted) evicted entries.</summary>
    public const string MemoryEvicted = "memory.evicted";

    /// <summary>Memories were merged into summaries; data: <see cref="Memory.MemoryCompression"/>.</summary>
    public const string MemoryCompressed = "memory.compressed";

    /// <summary>Memories were removed by <c>ClearMemory</c>, expiry or the end of their conversation; data: the count.</summary>
    public const string MemoryCleared = "memory.cleared";

    /// <summary>Memory is over max_memory_size and only importance-1.0 entries are left to evict; data: the token count.</summary>
    public const string MemoryOverBudget = "memory.over_budget";

    /// <summary>A learned preference first became known or changed meaningfully; data: <see cref="Adaptation.PreferenceChange"/>.</summary>
    public const string PreferenceLearned = "preference.learned";

    /// <summary>An analytics milestone was reached (once per session); data: <see cref="Analytics.AnalyticsMilestone"/>.</summary>
    public const string AnalyticsMilestone = "analytics.milestone";

    /// <summary>An operation failed; data: the exception message.</summary>
    public const string Error = "error";
}
