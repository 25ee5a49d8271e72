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
    private long _budget;
    private int _prefetchInFlight;

    /// <summary>A cache with <paramref name="options"/> (defaults: 1 GiB, 1 MiB lines).</summary>
    public ReadCache(ReadCacheOptions? options = null)
    {
        Options = options ?? new ReadCacheOptions();
        Options.Validate();
        _budget = Options.BudgetBytes;
        Pool = new BufferPool(Options.LineSize, Options.PoolRetainLines);
    }

    /// <summary>The settings.</summary>
    public ReadCacheOptions Options { get; }

    /// <summary>Bytes per line.</summary>
    public int LineSize => Options.LineSize;

    /// <summary>The budget of all volumes together, in bytes.</summary>
    public long BudgetBytes => Interlocked.Read(ref _budget);

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

    internal BufferPool Pool { get; }

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
        return new ReadCacheMetricsSnapshot(BudgetBytes, volumes);
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

    internal bool TryStartPrefetch()
    {
        if (Interlocked.Increment(ref _prefetchInFlight) <= Options.MaxPrefetchInFlight)
        {
            return true;
        }
        Interlocked.Decrement(ref _prefetchInFlight);
        return false;
    }

    internal void EndPrefetch() => Interlocked.Decrement(ref _prefetchInFlight);

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
