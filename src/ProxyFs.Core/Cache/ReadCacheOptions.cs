namespace ProxyFs.Core.Cache;

/// <summary>Settings of the daemon's <see cref="ReadCache"/>.</summary>
public sealed record ReadCacheOptions
{
    /// <summary>Memory for cached lines, all volumes together, in bytes; each volume gets budget × weight / Σ weights.</summary>
    public long BudgetBytes { get; init; } = 1L << 30;

    /// <summary>Bytes per cache line (ReadCacheLineSize): a power of two from 4 KiB to 64 MiB, a multiple of the segments' CRC block size. A line is filled by one ranged GET.</summary>
    public int LineSize { get; init; } = 1 << 20;

    /// <summary>
    /// Share of a volume's memory its protected segment may hold (lines read again after they were first used); the
    /// rest is the probation segment new lines enter, which a scan cycles through without touching the protected lines.
    /// </summary>
    public double ProtectedFraction { get; init; } = 0.8;

    /// <summary>
    /// Read-ahead lines being filled at once, all volumes together; read-ahead asked beyond this is dropped (and
    /// counted). Their buffers are memory outside the budget: 32 lines of 1 MiB.
    /// </summary>
    public int MaxPrefetchInFlight { get; init; } = 32;

    /// <summary>
    /// Adjacent lines of one segment that read-ahead fetches with one ranged GET (each line is served as soon as its
    /// bytes have arrived and passed their CRCs). 8 × 1 MiB: an object store's per-request cost spread over 8 MiB.
    /// </summary>
    public int PrefetchLinesPerRequest { get; init; } = 8;

    /// <summary>Free line buffers kept for reuse.</summary>
    public int PoolRetainLines { get; init; } = 64;

    internal void Validate()
    {
        if (BudgetBytes < 0)
        {
            throw new ArgumentException($"the read cache budget must not be negative, not {BudgetBytes}");
        }
        if (LineSize < 4096 || LineSize > (64 << 20) || !int.IsPow2(LineSize))
        {
            throw new ArgumentException($"ReadCacheLineSize must be a power of two from 4 KiB to 64 MiB, not {LineSize}");
        }
        if (ProtectedFraction is < 0 or > 1 || double.IsNaN(ProtectedFraction))
        {
            throw new ArgumentException($"ProtectedFraction must be from 0 to 1, not {ProtectedFraction}");
        }
        if (MaxPrefetchInFlight < 0 || PoolRetainLines < 0 || PrefetchLinesPerRequest < 1)
        {
            throw new ArgumentException("MaxPrefetchInFlight and PoolRetainLines must not be negative, PrefetchLinesPerRequest must be at least 1");
        }
    }
}
