using System.Collections.Concurrent;

namespace ProxyFs.Core.Cache;

/// <summary>Settings of read-ahead.</summary>
public sealed record ReadAheadOptions
{
    /// <summary>The first window, in bytes, once reads become sequential somewhere past the file's start.</summary>
    public long InitialWindow { get; init; } = 2 << 20;

    /// <summary>
    /// The first window when a file is read from its first byte (cp, cat, dd: usually the whole file): larger, so a
    /// cold read reaches full speed in its first segments instead of doubling up from <see cref="InitialWindow"/>.
    /// Read-ahead never goes past the file's data, so a small file costs no more.
    /// </summary>
    public long InitialWindowFromStart { get; init; } = 8 << 20;

    /// <summary>The largest window: the window doubles each time the reader has consumed half of what was fetched ahead.</summary>
    public long MaxWindow { get; init; } = 64 << 20;

    /// <summary>
    /// How far from where the previous read ended a read may start and still count as sequential (FUSE reader threads
    /// can deliver the kernel's own read-ahead slightly out of order); at least 4 × the read's length, because the
    /// kernel keeps several whole-size READs in flight (read_ahead_kb / max read size) and they arrive in any order.
    /// </summary>
    public long SequentialSlack { get; init; } = 256 << 10;

    /// <summary>Files tracked at once by a <see cref="ReadAheadTracker"/>; the least recently read are forgotten.</summary>
    public int MaxTrackedFiles { get; init; } = 4096;

    internal void Validate()
    {
        if (InitialWindow < 1 || MaxWindow < InitialWindow || InitialWindowFromStart < 1 || MaxWindow < InitialWindowFromStart || SequentialSlack < 0 || MaxTrackedFiles < 1)
        {
            throw new ArgumentException("read-ahead needs 0 < InitialWindow, InitialWindowFromStart <= MaxWindow, SequentialSlack >= 0 and MaxTrackedFiles >= 1");
        }
    }
}

/// <summary>A byte range of a file to fetch ahead of the reader (empty: nothing to do).</summary>
public readonly record struct PrefetchRange(long Offset, long Length)
{
    /// <summary>Nothing to fetch.</summary>
    public static PrefetchRange None => default;

    /// <summary>True when there is nothing to fetch.</summary>
    public bool IsEmpty => Length <= 0;

    /// <summary>The offset just past the range.</summary>
    public long End => Offset + Length;
}

/// <summary>
/// Sequential detection for one open file: fed every read, it answers which bytes to fetch ahead. A read that starts at
/// the file's beginning, or where the previous one ended (within <see cref="ReadAheadOptions.SequentialSlack"/> or 4 ×
/// its length, whichever is larger), is sequential; the first one opens a window of
/// <see cref="ReadAheadOptions.InitialWindowFromStart"/> bytes past it when it reads near offset 0,
/// <see cref="ReadAheadOptions.InitialWindow"/> otherwise, and each
/// time less than half a window is left ahead of the reader the window doubles (up to
/// <see cref="ReadAheadOptions.MaxWindow"/>) and the next stretch is asked for. Any other read is random access: the
/// window closes and nothing is fetched until the reads are sequential again. Thread-safe.
/// </summary>
public sealed class ReadAheadState(ReadAheadOptions? options = null)
{
    private readonly ReadAheadOptions _options = Validated(options ?? new ReadAheadOptions());
    private readonly Lock _lock = new();
    private long _expected = -1;
    private long _window;
    private long _fetchedTo;

    /// <summary>The current window (0 when the access is random).</summary>
    public long Window
    {
        get
        {
            lock (_lock)
            {
                return _window;
            }
        }
    }

    internal long LastUse { get; set; }

    /// <summary>
    /// Records a read of <paramref name="length"/> bytes at <paramref name="offset"/>; returns what to fetch ahead now.
    /// The window never exceeds <paramref name="maxWindow"/> (the room the cache has for lines read ahead), and shrinks
    /// to it when it has become smaller.
    /// </summary>
    public PrefetchRange OnRead(long offset, long length, long maxWindow = long.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        long end = offset + length;
        lock (_lock)
        {
            // Several READs of the kernel's read-ahead are in flight at once and FUSE threads deliver them in any order:
            // a read up to 4 of its lengths away from where the reads had got to is still part of the sequence.
            long slack = Math.Max(_options.SequentialSlack, 4 * length);
            bool sequential = _expected < 0
                ? offset <= slack
                : offset >= _expected - slack && offset <= _expected + slack;
            _expected = Math.Max(end, sequential ? _expected : 0);
            if (!sequential)
            {
                _window = 0;
                _fetchedTo = 0;
                return PrefetchRange.None;
            }
            long max = Math.Clamp(maxWindow, 1, _options.MaxWindow);
            if (_window == 0)
            {
                _window = Math.Min(offset <= slack ? _options.InitialWindowFromStart : _options.InitialWindow, max);
                _fetchedTo = end + _window;
                return new PrefetchRange(end, _window);
            }
            _window = Math.Min(_window, max);
            if (_fetchedTo - end >= _window / 2)
            {
                return PrefetchRange.None;
            }
            _window = Math.Min(_window * 2, max);
            long start = Math.Max(_fetchedTo, end);
            _fetchedTo = end + _window;
            return new PrefetchRange(start, _fetchedTo - start);
        }
    }

    private static ReadAheadOptions Validated(ReadAheadOptions options)
    {
        options.Validate();
        return options;
    }
}

/// <summary>
/// The read-ahead state of one volume's files, by file id (inode number or handle): the volume calls
/// <see cref="OnRead"/> on every read and hands the answer to the segment reader's prefetch, and
/// <see cref="Forget"/> when the file is released. Keeps at most <see cref="ReadAheadOptions.MaxTrackedFiles"/>.
/// </summary>
public sealed class ReadAheadTracker(ReadAheadOptions? options = null)
{
    private readonly ReadAheadOptions _options = options ?? new ReadAheadOptions();
    private readonly ConcurrentDictionary<ulong, ReadAheadState> _files = new();
    private long _clock;

    /// <summary>Files tracked now.</summary>
    public int Count => _files.Count;

    /// <summary>
    /// Records a read of file <paramref name="fileId"/>; returns the file range to fetch ahead now, a window of at most
    /// <paramref name="maxWindow"/> bytes (<see cref="ReadCacheVolume.ReadAheadRoom"/>).
    /// </summary>
    public PrefetchRange OnRead(ulong fileId, long offset, long length, long maxWindow = long.MaxValue)
    {
        var state = _files.GetOrAdd(fileId, _ => new ReadAheadState(_options));
        state.LastUse = Interlocked.Increment(ref _clock);
        if (_files.Count > _options.MaxTrackedFiles)
        {
            ForgetOldest();
        }
        return state.OnRead(offset, length, maxWindow);
    }

    /// <summary>Drops the state of file <paramref name="fileId"/>.</summary>
    public void Forget(ulong fileId) => _files.TryRemove(fileId, out _);

    private void ForgetOldest()
    {
        // Rare (only past the limit): drop the least recently read quarter.
        var oldest = _files.OrderBy(f => f.Value.LastUse).Take(Math.Max(1, _options.MaxTrackedFiles / 4)).Select(f => f.Key).ToArray();
        foreach (ulong id in oldest)
        {
            _files.TryRemove(id, out _);
        }
    }
}
