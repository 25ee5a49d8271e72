using System.Collections.Concurrent;
using System.Numerics;

namespace ProxyFs.Core.Cache;

/// <summary>
/// One volume's part of the <see cref="ReadCache"/>: its lines, kept within its share of the budget (budget × weight /
/// Σ weights) by a segmented LRU that a scan cannot flush.
/// </summary>
/// <remarks>
/// <para><b>Hits take no lock</b>: a concurrent dictionary lookup, a reference count around the copy, and a few
/// interlocked bits. Misses on one line are served by one fill (single-flight): the first reader inserts the empty line
/// and fills it, later ones wait for that fill; readers of other lines are not blocked. Insertion and eviction take the
/// volume's lock (at miss rate, not hit rate).</para>
/// <para><b>Eviction</b>: new lines enter the probation list; the protected list holds lines re-used after their first
/// use, up to <see cref="ReadCacheOptions.ProtectedFraction"/> of the share. Victims come from the old end of probation;
/// a victim marked <see cref="CacheLine.Referenced"/> is promoted instead; when protected is over its size, its oldest
/// unreferenced lines are demoted to probation (CLOCK second chance for referenced ones). A sequential pass never marks
/// a line (each read starts where the previous one ended, or touches new sub-blocks), so a scan, however long, only
/// cycles through probation.</para>
/// </remarks>
public sealed class ReadCacheVolume : IDisposable
{
    private readonly ReadCache _cache;
    private readonly ConcurrentDictionary<LineKey, CacheLine> _lines = new();
    private readonly Lock _lock = new();
    private readonly LineList _probation = new(LineQueue.Probation);
    private readonly LineList _protected = new(LineQueue.Protected);
    private readonly int _subBlockShift;
    private long _share;
    private bool _disposed;

    internal ReadCacheVolume(ReadCache cache, string name, double weight)
    {
        _cache = cache;
        Name = name;
        Weight = weight;
        _subBlockShift = BitOperations.Log2((uint)cache.LineSize) - 6;
        Metrics = new ReadCacheVolumeMetrics(name);
    }

    /// <summary>The volume's name.</summary>
    public string Name { get; }

    /// <summary>The volume's weight.</summary>
    public double Weight { get; private set; }

    /// <summary>The cache this volume is part of.</summary>
    public ReadCache Cache => _cache;

    /// <summary>Bytes per line.</summary>
    public int LineSize => _cache.LineSize;

    /// <summary>The volume's share of the budget in bytes.</summary>
    public long ShareBytes => Interlocked.Read(ref _share);

    /// <summary>Bytes of the lines held now.</summary>
    public long OccupancyBytes
    {
        get
        {
            lock (_lock)
            {
                return _probation.Bytes + _protected.Bytes;
            }
        }
    }

    /// <summary>The counters.</summary>
    public ReadCacheVolumeMetrics Metrics { get; }

    /// <summary>
    /// The most one file may read ahead (at least a line): half of what the protected lines leave of the share. Lines read
    /// ahead wait in probation until the reader gets to them; a window larger than probation would evict them unused
    /// (a small share, or one whose protected lines have grown to their limit). Read without the lock: a moment's stale
    /// value only sizes the next window.
    /// </summary>
    public long ReadAheadRoom => Math.Max(LineSize, (Interlocked.Read(ref _share) - _protected.Bytes) / 2);

    /// <summary>The most bytes one read-ahead request fetches (<see cref="ReadCacheOptions.PrefetchLinesPerRequest"/> lines).</summary>
    public long MaxRequestBytes => (long)_cache.Options.PrefetchLinesPerRequest * LineSize;

    /// <summary>Changes the weight; every volume's share is recomputed (and over-full volumes evict).</summary>
    public void SetWeight(double weight)
    {
        ReadCache.ValidateWeight(weight);
        Weight = weight;
        _cache.Rebalance();
    }

    /// <summary>True when line <paramref name="key"/> is held and filled.</summary>
    public bool Contains(LineKey key) => _lines.TryGetValue(key, out var line) && line.Ready;

    /// <summary>
    /// Copies bytes of line <paramref name="key"/> from <paramref name="offset"/> into <paramref name="destination"/>
    /// (which must not cross the line's end), filling the line from <paramref name="source"/> on a miss (blocking this
    /// thread). Returns the bytes copied: fewer than asked only when the line is shorter (the segment ends).
    /// </summary>
    public int Read(LineKey key, int offset, Span<byte> destination, ICacheLineSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (offset < 0 || offset + destination.Length > LineSize || destination.IsEmpty)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, {offset + destination.Length}) is not a non-empty range of a {LineSize}-byte line");
        }
        ObjectDisposedException.ThrowIf(_disposed, this);
        bool joinedPrefetch = false;
        while (true)
        {
            if (_lines.TryGetValue(key, out var line))
            {
                bool waited = false;
                if (!line.Ready)
                {
                    waited = true;
                    try
                    {
                        line.Filled.Task.GetAwaiter().GetResult();
                    }
                    catch (Exception) when (line.Prefetched && !joinedPrefetch)
                    {
                        // A read-ahead fill this read did not start failed: try once more with a fill of its own, which
                        // reports its own error.
                        joinedPrefetch = true;
                        continue;
                    }
                }
                if (!line.TryAcquire())
                {
                    continue;
                }
                int copied;
                try
                {
                    copied = CopyOut(line, offset, destination);
                }
                finally
                {
                    line.Release();
                }
                OnUse(line, offset, copied, waited ? Access.JoinedFill : Access.Hit);
                return copied;
            }
            var mine = new CacheLine(key, prefetched: false, _cache.Pool);
            if (!_lines.TryAdd(key, mine))
            {
                continue;
            }
            mine.TryAcquire();
            try
            {
                FillAsync(mine, source, prefetch: false).GetAwaiter().GetResult();
                int copied = CopyOut(mine, offset, destination);
                OnUse(mine, offset, copied, Access.Miss);
                return copied;
            }
            finally
            {
                mine.Release();
            }
        }
    }

    /// <summary>
    /// Starts filling line <paramref name="key"/> in the background when it is not held or being filled, and returns at
    /// once (the caller never waits for it). False when nothing was started: already there, or too many read-ahead fills
    /// in flight (counted as dropped). A failed read-ahead fill is counted and leaves nothing behind.
    /// </summary>
    public bool Prefetch(LineKey key, ICacheLineSource source) => Prefetch(key.Segment, key.Line, 1, source) > 0;

    /// <summary>
    /// Starts filling, in the background, the lines [<paramref name="firstLine"/>, <paramref name="firstLine"/> +
    /// <paramref name="count"/>) of <paramref name="segment"/> that are not held or being filled, each run of adjacent
    /// missing lines (up to <see cref="ReadCacheOptions.PrefetchLinesPerRequest"/>) with one
    /// <see cref="ICacheLineSource.FillLinesAsync"/>; returns at once the number of lines started. Lines beyond
    /// <see cref="ReadCacheOptions.MaxPrefetchInFlight"/> are dropped (and counted). A reader that needs one of these
    /// lines waits for its fill (only that line's part of the request); a failed fill is counted and leaves nothing behind.
    /// </summary>
    public int Prefetch(ulong segment, long firstLine, int count, ICacheLineSource source) => Prefetch(segment, firstLine, count, source, resumed: false);

    internal int Prefetch(ulong segment, long firstLine, int count, ICacheLineSource source, bool resumed)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegative(firstLine);
        int started = 0;
        long line = firstLine;
        long end = firstLine + count;
        var run = new List<CacheLine>();
        while (line < end && !_disposed)
        {
            if (_lines.ContainsKey(new LineKey(segment, line)))
            {
                line++;
                continue;
            }
            // The run: the adjacent lines from here that are not held or being filled, at most one request's worth.
            int want = 1;
            long most = Math.Min(end - line, _cache.Options.PrefetchLinesPerRequest);
            while (want < most && !_lines.ContainsKey(new LineKey(segment, line + want)))
            {
                want++;
            }
            int permits = _cache.TryStartPrefetch(want);
            if (permits == 0)
            {
                // Every permit is taken: the rest waits for fills to finish (never the caller).
                _cache.Defer(this, segment, line, (int)(end - line), source, resumed);
                break;
            }
            run.Clear();
            while (run.Count < permits && line < end)
            {
                var next = new CacheLine(new LineKey(segment, line), prefetched: true, _cache.Pool);
                if (!_lines.TryAdd(next.Key, next))
                {
                    break; // a reader got there first: the run ends before its line
                }
                run.Add(next);
                line++;
            }
            if (run.Count < permits)
            {
                _cache.EndPrefetch(permits - run.Count);
            }
            if (run.Count == 0)
            {
                line++;
                continue;
            }
            started += run.Count;
            CacheLine[] lines = [.. run];
            _ = Task.Run(() => FillRunAsync(lines, source));
        }
        return started;
    }

    /// <summary>Drops every line of <paramref name="segment"/> (e.g. after the segment was deleted).</summary>
    public void Invalidate(ulong segment)
    {
        lock (_lock)
        {
            foreach (var (key, line) in _lines)
            {
                if (key.Segment == segment && line.Ready && line.Queue != LineQueue.None)
                {
                    EvictLocked(line);
                }
            }
        }
    }

    /// <summary>Leaves the cache: drops every line and gives the share back to the other volumes.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            while (_probation.Tail is { } p)
            {
                EvictLocked(p);
            }
            while (_protected.Tail is { } q)
            {
                EvictLocked(q);
            }
        }
        _cache.DropPending(this);
        _cache.Unregister(this);
    }

    /// <summary>Sets the share and evicts down to it.</summary>
    internal void SetShare(long share)
    {
        lock (_lock)
        {
            Interlocked.Exchange(ref _share, share);
            EvictToShareLocked();
        }
    }

    internal ReadCacheVolumeMetricsSnapshot Snapshot()
    {
        lock (_lock)
        {
            return Metrics.Snapshot(Weight, ShareBytes, _probation.Bytes + _protected.Bytes, _protected.Bytes, _probation.Count + _protected.Count);
        }
    }

    private enum Access
    {
        Hit,
        JoinedFill,
        Miss,
    }

    private int CopyOut(CacheLine line, int offset, Span<byte> destination)
    {
        int n = Math.Max(0, Math.Min(destination.Length, line.Length - offset));
        line.Data.Span.Slice(offset, n).CopyTo(destination);
        return n;
    }

    private void OnUse(CacheLine line, int offset, int length, Access access)
    {
        switch (access)
        {
            case Access.Hit:
                Metrics.RecordHit(length);
                break;
            case Access.JoinedFill:
                Metrics.RecordJoinedFill(length);
                break;
            default:
                Metrics.RecordMiss(length);
                break;
        }
        if (line.Prefetched && Interlocked.Exchange(ref line.PrefetchUsed, 1) == 0)
        {
            Metrics.RecordReadAheadUsed(line.Length);
        }
        if (length == 0)
        {
            return;
        }
        long touched = SubBlocks(offset, length, line.Length, whole: false);
        long before = Interlocked.Or(ref line.Touched, touched);
        int previousEnd = Interlocked.Exchange(ref line.LastEnd, offset + length);
        // Re-use is judged on the sub-blocks this read covers whole: two adjacent reads share the sub-block their
        // boundary falls in, and when the kernel's read-ahead arrives out of order the later one of them does not start
        // where the previous read ended, yet reads nothing again. A read too small to cover a sub-block whole is judged on
        // the ones it touches.
        long judged = SubBlocks(offset, length, line.Length, whole: true);
        if (judged == 0)
        {
            judged = touched;
        }
        if ((before & judged) != 0 && offset != previousEnd && !line.Referenced)
        {
            line.Referenced = true;
        }
    }

    /// <summary>
    /// The mask of the sub-blocks of a line of <paramref name="lineLength"/> bytes that [<paramref name="offset"/>, +
    /// <paramref name="length"/>) touches, or, with <paramref name="whole"/>, covers entirely (0 when it covers none).
    /// </summary>
    private long SubBlocks(int offset, int length, int lineLength, bool whole)
    {
        int size = 1 << _subBlockShift;
        int end = offset + length;
        int first = whole ? (offset + size - 1) >> _subBlockShift : offset >> _subBlockShift;
        int last = whole ? (end >> _subBlockShift) - 1 : (end - 1) >> _subBlockShift;
        if (whole && end >= lineLength)
        {
            last = (end - 1) >> _subBlockShift; // the line's short last sub-block, read to its end, counts as whole
        }
        return last < first ? 0 : (long)((ulong.MaxValue >> (63 - (last - first))) << first);
    }

    private async Task FillAsync(CacheLine line, ICacheLineSource source, bool prefetch)
    {
        LineBuffer buffer = _cache.Pool.Rent();
        int length;
        try
        {
            length = await source.FillLineAsync(line.Key.Segment, line.Key.Line, buffer.Memory, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Fail(line, buffer, e);
            throw;
        }
        Complete(line, buffer, length, prefetch);
    }

    /// <summary>Fills a run of read-ahead lines with one request of the source; each line is served as soon as it is reported.</summary>
    private async Task FillRunAsync(CacheLine[] lines, ICacheLineSource source)
    {
        LineBuffer?[] buffers = new LineBuffer[lines.Length];
        Memory<byte>[] memory = new Memory<byte>[lines.Length];
        for (int i = 0; i < lines.Length; i++)
        {
            buffers[i] = _cache.Pool.Rent();
            memory[i] = buffers[i]!.Memory;
        }
        bool[] done = new bool[lines.Length];
        try
        {
            await source.FillLinesAsync(lines[0].Key.Segment, lines[0].Key.Line, memory, (i, length) =>
            {
                if (done[i])
                {
                    throw new InvalidOperationException($"the line source reported {lines[i].Key} twice");
                }
                done[i] = true;
                LineBuffer buffer = buffers[i]!;
                buffers[i] = null;
                _cache.EndPrefetch();
                Complete(lines[i], buffer, length, prefetch: true);
            }, CancellationToken.None).ConfigureAwait(false);
            if (Array.IndexOf(done, false) is int missing and >= 0)
            {
                throw new InvalidOperationException($"the line source returned without filling {lines[missing].Key}");
            }
        }
        catch (Exception e)
        {
            Metrics.RecordReadAheadError(e);
            for (int i = 0; i < lines.Length; i++)
            {
                if (!done[i])
                {
                    done[i] = true;
                    _cache.EndPrefetch();
                    Fail(lines[i], buffers[i], e);
                }
            }
        }
    }

    /// <summary>A fill failed: the line leaves the map, its waiters get <paramref name="error"/>, its buffer goes back.</summary>
    private void Fail(CacheLine line, LineBuffer? buffer, Exception error)
    {
        if (buffer is not null)
        {
            _cache.Pool.Return(buffer);
        }
        _lines.TryRemove(new KeyValuePair<LineKey, CacheLine>(line.Key, line));
        line.Filled.TrySetException(error);
        _ = line.Filled.Task.Exception; // observed here; the readers that waited get it from the task
        line.Release();
    }

    /// <summary>A fill gave <paramref name="length"/> bytes in <paramref name="buffer"/>: the line becomes ready and enters probation.</summary>
    private void Complete(CacheLine line, LineBuffer buffer, int length, bool prefetch)
    {
        if (length < 1 || length > buffer.Length)
        {
            var e = new InvalidOperationException($"the line source gave {length} bytes for {line.Key}, not 1 to {buffer.Length}");
            Fail(line, buffer, e);
            throw e;
        }
        if (length < buffer.Length / 2)
        {
            // A short last line of a segment: keep only its bytes, not a whole line buffer.
            byte[] exact = GC.AllocateUninitializedArray<byte>(length);
            buffer.GetSpan()[..length].CopyTo(exact);
            _cache.Pool.Return(buffer);
            line.Data = exact;
        }
        else
        {
            line.Pooled = buffer;
            line.Data = buffer.Memory;
        }
        line.Length = length;
        Metrics.RecordFetched(length, prefetch);
        lock (_lock)
        {
            line.Ready = true;
            if (_disposed)
            {
                _lines.TryRemove(new KeyValuePair<LineKey, CacheLine>(line.Key, line));
                line.Release();
            }
            else
            {
                _probation.AddFirst(line);
                EvictToShareLocked();
            }
        }
        line.Filled.TrySetResult();
    }

    private void EvictToShareLocked()
    {
        long share = Interlocked.Read(ref _share);
        while (_probation.Bytes + _protected.Bytes > share)
        {
            if (!EvictOneLocked(share))
            {
                break;
            }
        }
    }

    private bool EvictOneLocked(long share)
    {
        long protectedTarget = (long)(share * _cache.Options.ProtectedFraction);
        // Keep protected within its size: demote its oldest unreferenced lines, give referenced ones a second chance.
        int budget = _protected.Count;
        while (_protected.Bytes > protectedTarget && _protected.Tail is { } old && budget-- > 0)
        {
            _protected.Remove(old);
            if (old.Referenced)
            {
                old.Referenced = false;
                _protected.AddFirst(old);
            }
            else
            {
                _probation.AddFirst(old);
                Metrics.RecordDemotion();
            }
        }
        // Take the oldest probation line, unless it was re-used: then promote it.
        while (_probation.Tail is { } victim)
        {
            if (victim.Referenced && protectedTarget > 0)
            {
                victim.Referenced = false;
                _probation.Remove(victim);
                _protected.AddFirst(victim);
                Metrics.RecordPromotion();
                continue;
            }
            EvictLocked(victim);
            return true;
        }
        // Probation is empty: CLOCK over protected.
        budget = _protected.Count + 1;
        while (_protected.Tail is { } old && budget-- > 0)
        {
            if (old.Referenced)
            {
                old.Referenced = false;
                _protected.Remove(old);
                _protected.AddFirst(old);
                continue;
            }
            EvictLocked(old);
            return true;
        }
        if (_protected.Tail is { } last)
        {
            EvictLocked(last);
            return true;
        }
        return false;
    }

    private void EvictLocked(CacheLine line)
    {
        if (line.Queue == LineQueue.Probation)
        {
            _probation.Remove(line);
        }
        else if (line.Queue == LineQueue.Protected)
        {
            _protected.Remove(line);
        }
        _lines.TryRemove(new KeyValuePair<LineKey, CacheLine>(line.Key, line));
        Metrics.RecordEviction(line.Prefetched && Volatile.Read(ref line.PrefetchUsed) == 0 ? line.Length : 0);
        line.Release();
    }
}
