namespace ProxyFs.Core.Cache;

/// <summary>
/// The daemon's read cache: fixed lines (<see cref="ReadCacheOptions.LineSize"/>, 1 MiB) of stored segments, keyed by
/// (volume, segment nonce, line index), within one memory budget that the mounted volumes share by weight. The host
/// owns it; each volume registers (<see cref="RegisterVolume"/>) with its weight and gets a
/// <see cref="ReadCacheVolume"/> whose share is budget × weight / Σ weights, recomputed whenever a volume registers,
/// leaves or changes its weight (volumes over their new share evict down to it at once).
/// </summary>
/// <remarks>
/// Shares are strict partitions: a volume never uses another's share, even an idle one's. That keeps each volume's
/// occupancy at its weight under load (the ±10% acceptance of issue 6) and makes one volume unable to flush another.
/// Memory not counted in the budget: lines being filled (at most the readers waiting plus
/// <see cref="ReadCacheOptions.MaxPrefetchInFlight"/>), up to <see cref="ReadCacheOptions.PoolRetainLines"/> free
/// buffers, and a few hundred bytes of bookkeeping per line.
/// </remarks>
public sealed class ReadCache
{
    private readonly Lock _lock = new();
    private readonly List<ReadCacheVolume> _volumes = [];
    private readonly Lock _pendingLock = new();
    private readonly LinkedList<PendingPrefetch> _pending = new();
    private long _pendingLines;
    private long _resumingLines;
    private long _budget;
    private int _prefetchInFlight;

    /// <summary>A cache with <paramref name="options"/> (defaults: 1 GiB, 1 MiB lines).</summary>
    public ReadCache(ReadCacheOptions? options = null)
    {
        Options = options ?? new ReadCacheOptions();
        Options.Validate();
        _budget = Options.BudgetBytes;
        Pool = new LinePool(Options.LineSize, Options.PoolRetainLines, Options.HugePages);
    }

    /// <summary>The settings.</summary>
    public ReadCacheOptions Options { get; }

    /// <summary>Bytes per line.</summary>
    public int LineSize => Options.LineSize;

    /// <summary>The budget of all volumes together, in bytes.</summary>
    public long BudgetBytes => Interlocked.Read(ref _budget);

    /// <summary>
    /// Read-ahead lines that may be filled at once now: <see cref="ReadCacheOptions.MaxPrefetchInFlight"/>, and no more
    /// than <see cref="ReadCacheOptions.PrefetchInFlightBytes"/> of the budget allows (at least one line when any).
    /// </summary>
    public int PrefetchLimit => Options.MaxPrefetchInFlight == 0 ? 0
        : (int)Math.Clamp(Options.PrefetchInFlightBytes(BudgetBytes) / LineSize, 1, Options.MaxPrefetchInFlight);

    /// <summary>Read-ahead fills running now.</summary>
    public int PrefetchInFlight => Volatile.Read(ref _prefetchInFlight);

    /// <summary>The registered volumes.</summary>
    public IReadOnlyList<ReadCacheVolume> Volumes
    {
        get
        {
            lock (_lock)
            {
                return [.. _volumes];
            }
        }
    }

    internal LinePool Pool { get; }

    /// <summary>
    /// Registers a volume with <paramref name="weight"/> (positive) and rebalances every share. Dispose the handle when
    /// the volume unmounts.
    /// </summary>
    public ReadCacheVolume RegisterVolume(string name, double weight = 1)
    {
        ArgumentNullException.ThrowIfNull(name);
        ValidateWeight(weight);
        var volume = new ReadCacheVolume(this, name, weight);
        lock (_lock)
        {
            _volumes.Add(volume);
            RebalanceLocked();
        }
        return volume;
    }

    /// <summary>Changes the budget (e.g. after a configuration reload) and rebalances.</summary>
    public void SetBudget(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        lock (_lock)
        {
            Interlocked.Exchange(ref _budget, bytes);
            RebalanceLocked();
        }
    }

    /// <summary>Every volume's counters, and the totals.</summary>
    public ReadCacheMetricsSnapshot Snapshot()
    {
        var volumes = Volumes.Select(v => v.Snapshot()).ToArray();
        return new ReadCacheMetricsSnapshot(BudgetBytes, volumes)
        {
            LineMemory = new LineMemoryMetrics(Pool.Lines * LineSize, (long)Pool.Free * LineSize, Pool.HugePageSlabs, Pool.SlowHugePages),
        };
    }

    internal static void ValidateWeight(double weight)
    {
        if (!(weight > 0) || double.IsInfinity(weight))
        {
            throw new ArgumentOutOfRangeException(nameof(weight), weight, "a volume's read cache weight must be a positive number");
        }
    }

    internal void Rebalance()
    {
        lock (_lock)
        {
            RebalanceLocked();
        }
    }

    internal void Unregister(ReadCacheVolume volume)
    {
        lock (_lock)
        {
            if (_volumes.Remove(volume))
            {
                RebalanceLocked();
            }
        }
    }

    /// <summary>
    /// Takes the read-ahead permits (one per line being filled) of a run of <paramref name="lines"/> lines, all of them
    /// or none (no more than <see cref="PrefetchLimit"/>, so that a run longer than the limit still starts): returns how
    /// many it got. All or none keeps a run one request: permits come back one line at a time, and handing them out as
    /// they come cut the runs that waited into one-line GETs (a 1 GiB sequential read made 141 data GETs for 103 segments).
    /// </summary>
    internal int TryStartPrefetch(int lines)
    {
        int current = Volatile.Read(ref _prefetchInFlight);
        while (true)
        {
            int limit = PrefetchLimit;
            int take = Math.Min(lines, limit);
            if (take <= 0 || limit - current < take)
            {
                return 0;
            }
            int seen = Interlocked.CompareExchange(ref _prefetchInFlight, current + take, current);
            if (seen == current)
            {
                return take;
            }
            current = seen;
        }
    }

    /// <summary>Gives back read-ahead permits and starts the read-ahead that waited for them once its first run has its permits.</summary>
    internal void EndPrefetch(int lines = 1)
    {
        Interlocked.Add(ref _prefetchInFlight, -lines);
        while (true)
        {
            PendingPrefetch next;
            lock (_pendingLock)
            {
                if (_pending.First is not { } first)
                {
                    return;
                }
                int limit = PrefetchLimit;
                int need = Math.Min(Math.Min(first.Value.Count, Options.PrefetchLinesPerRequest), limit);
                if (limit - Volatile.Read(ref _prefetchInFlight) < Math.Max(1, need))
                {
                    return;
                }
                next = first.Value;
                _pending.RemoveFirst();
                _pendingLines -= next.Count;
                _resumingLines += next.Count;
            }
            try
            {
                next.Volume.Prefetch(next.Segment, next.FirstLine, next.Count, next.Source, resumed: true);
            }
            finally
            {
                lock (_pendingLock)
                {
                    _resumingLines -= next.Count;
                }
            }
        }
    }

    /// <summary>
    /// Read-ahead lines waiting for permits, and those being started now (taken from the queue, their fills not started
    /// yet): 0 together with <see cref="PrefetchInFlight"/> 0 means every read-ahead asked for has finished.
    /// </summary>
    public long PendingPrefetchLines
    {
        get
        {
            lock (_pendingLock)
            {
                return _pendingLines + _resumingLines;
            }
        }
    }

    /// <summary>
    /// Keeps read-ahead that found no permit until fills finish (a resumed one goes first, to keep the order of the
    /// file). At most 4 × MaxPrefetchInFlight lines wait; beyond that the oldest are dropped (and counted).
    /// </summary>
    internal void Defer(ReadCacheVolume volume, ulong segment, long firstLine, int count, ICacheLineSource source, bool resumed)
    {
        var dropped = new List<PendingPrefetch>();
        lock (_pendingLock)
        {
            var item = new PendingPrefetch(volume, segment, firstLine, count, source);
            if (resumed)
            {
                _pending.AddFirst(item);
            }
            else
            {
                _pending.AddLast(item);
            }
            _pendingLines += count;
            while (_pendingLines > 4L * Math.Max(1, PrefetchLimit) && _pending.First is { } oldest && oldest.Value != item)
            {
                _pending.RemoveFirst();
                _pendingLines -= oldest.Value.Count;
                dropped.Add(oldest.Value);
            }
        }
        foreach (PendingPrefetch p in dropped)
        {
            p.Volume.Metrics.RecordReadAheadDropped();
        }
        // Fills may have finished between the caller's attempt and the queueing: start what fits now.
        EndPrefetch(0);
    }

    /// <summary>Forgets the read-ahead of a volume that leaves.</summary>
    internal void DropPending(ReadCacheVolume volume)
    {
        lock (_pendingLock)
        {
            for (var node = _pending.First; node is not null;)
            {
                var next = node.Next;
                if (node.Value.Volume == volume)
                {
                    _pendingLines -= node.Value.Count;
                    _pending.Remove(node);
                }
                node = next;
            }
        }
    }

    private sealed record PendingPrefetch(ReadCacheVolume Volume, ulong Segment, long FirstLine, int Count, ICacheLineSource Source);

    private void RebalanceLocked()
    {
        double total = _volumes.Sum(v => v.Weight);
        long budget = BudgetBytes;
        // Shrink first, then grow, so the sum of the volumes' memory never exceeds the budget on the way.
        var shares = _volumes.Select(v => (Volume: v, Share: (long)(budget * (v.Weight / total)))).ToArray();
        foreach (var (volume, share) in shares.Where(s => s.Share < s.Volume.ShareBytes))
        {
            volume.SetShare(share);
        }
        foreach (var (volume, share) in shares.Where(s => s.Share >= s.Volume.ShareBytes))
        {
            volume.SetShare(share);
        }
    }
}
