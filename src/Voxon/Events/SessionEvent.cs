namespace Voxon.Events;

/// <summary>Something that happened in a session. <see cref="Data"/> is typed per event
/// (a <see cref="Memory.MemoryEntry"/> for <c>memory.added</c>, with sensitive content redacted).</summary>
public sealed record SessionEvent(string Type, string SessionId, DateTimeOffset Timestamp, object? Data)
{
    /// <summary>The data as <typeparamref name="T"/>, or default when it is of another type.</summary>
    public T? DataAs<T>() => Data is T value ? value : default;
}
