namespace Voxon.Diagnostics;

/// <summary>A fixed-capacity buffer that keeps the latest items and counts what it dropped. Not thread-safe.</summary>
internal sealed class RingBuffer<T>(int capacity)
{
    private readonly T[] _items = new T[capacity];
    private int _next;
    private int _count;

    /// <summary>Items overwritten because the buffer was full.</summary>
    public long Dropped { get; private set; }

    public void Add(T item)
    {
        if (_count == _items.Length)
        {
            Dropped++;
        }
        else
        {
            _count++;
        }

        _items[_next] = item;
        _next = (_next + 1) % _items.Length;
    }

    /// <summary>The items, oldest first.</summary>
    public List<T> ToList()
    {
        var list = new List<T>(_count);
        var start = (_next - _count + _items.Length) % _items.Length;
        for (var i = 0; i < _count; i++)
        {
            list.Add(_items[(start + i) % _items.Length]);
        }

        return list;
    }
}
