namespace ProxyFs.Core.Cache;

/// <summary>The key of a cache line within a volume: (segment nonce, line index).</summary>
public readonly record struct LineKey(ulong Segment, long Line)
{
    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Segment, Line);

    /// <inheritdoc />
    public override string ToString() => $"segment {Segment:x16} line {Line}";
}

/// <summary>Which list of its volume a line is on.</summary>
internal enum LineQueue : byte
{
    None,
    Probation,
    Protected,
}

/// <summary>
/// One cache line: created empty by the first reader that misses (or by read-ahead), which fills it while later readers
/// wait on <see cref="Filled"/>; then ready and served without a lock until evicted. Readers hold a reference while
/// they copy, so the buffer goes back to the pool only after the last one.
/// </summary>
internal sealed class CacheLine(LineKey key, bool prefetched, LinePool pool) : RefCounted
{
    public LineKey Key { get; } = key;

    /// <summary>Filled by read-ahead rather than by a reader.</summary>
    public bool Prefetched { get; } = prefetched;

    /// <summary>
    /// Completes when the line is filled (or faults with why it could not be). Its waiters are readers blocked in
    /// <c>Wait</c>, woken inline by the filling thread (never by a work item queued behind read-ahead fills); it is
    /// completed outside every lock.
    /// </summary>
    public TaskCompletionSource Filled { get; } = new();

    /// <summary>
    /// The line's memory (set before <see cref="Ready"/>): a whole pooled line (<see cref="Pooled"/>), or an array of
    /// exactly <see cref="Length"/> bytes for a short last line of a segment.
    /// </summary>
    public ReadOnlyMemory<byte> Data;

    /// <summary>The pooled line <see cref="Data"/> is, if it is one: it goes back to the pool with the last reference.</summary>
    public LineBuffer? Pooled;

    /// <summary>The line's length (the last line of a segment is shorter).</summary>
    public int Length;

    /// <summary>Filled and inserted: readers may copy.</summary>
    public volatile bool Ready;

    /// <summary>
    /// Which of the line's 64 sub-blocks readers have touched. A read that touches an already touched sub-block and does
    /// not start where the previous read of the line ended is a re-use: it marks the line <see cref="Referenced"/>.
    /// </summary>
    public long Touched;

    /// <summary>Offset just past the previous read of this line (a read starting there continues a sequential pass).</summary>
    public int LastEnd = -1;

    /// <summary>Re-used since it was (re)queued: promoted from probation, or given a second chance in protected.</summary>
    public volatile bool Referenced;

    /// <summary>1 once a reader used a prefetched line.</summary>
    public int PrefetchUsed;

    public LineQueue Queue;
    public CacheLine? Previous;
    public CacheLine? Next;

    protected override void OnReleased()
    {
        Data = default;
        if (Pooled is { } buffer)
        {
            Pooled = null;
            pool.Return(buffer);
        }
    }
}

/// <summary>An intrusive doubly linked list of lines with their total buffer bytes (guarded by the volume's lock).</summary>
internal sealed class LineList(LineQueue queue)
{
    public CacheLine? Head { get; private set; }

    public CacheLine? Tail { get; private set; }

    public long Bytes { get; private set; }

    public int Count { get; private set; }

    public void AddFirst(CacheLine line)
    {
        line.Queue = queue;
        line.Previous = null;
        line.Next = Head;
        if (Head is not null)
        {
            Head.Previous = line;
        }
        Head = line;
        Tail ??= line;
        Bytes += line.Data.Length;
        Count++;
    }

    public void Remove(CacheLine line)
    {
        if (line.Previous is not null)
        {
            line.Previous.Next = line.Next;
        }
        else
        {
            Head = line.Next;
        }
        if (line.Next is not null)
        {
            line.Next.Previous = line.Previous;
        }
        else
        {
            Tail = line.Previous;
        }
        line.Previous = line.Next = null;
        line.Queue = LineQueue.None;
        Bytes -= line.Data.Length;
        Count--;
    }
}
