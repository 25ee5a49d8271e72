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
    /// Read-ahead lines being filled at once, all volumes together, and never more than
    /// <see cref="PrefetchInFlightBytes"/> allows; read-ahead asked beyond this waits for fills to finish (up to 4 × as
    /// many lines; beyond that the oldest is dropped and counted). Their buffers are memory outside the budget. 64 lines
    /// of 1 MiB keep 4 to 6 whole-segment GETs in flight, what a local S3 server needs to reach its multi-stream rate.
    /// </summary>
    public int MaxPrefetchInFlight { get; init; } = 64;

    /// <summary>
    /// The bytes of read-ahead lines being filled at once: <c>max(32 MiB, budget / 8)</c>, at most
    /// <see cref="MaxPrefetchInFlight"/> lines. A small budget keeps its memory outside the budget small (256 MiB: 32 lines).
    /// </summary>
    public long PrefetchInFlightBytes(long budget) => Math.Max(32L << 20, budget / 8);

    /// <summary>
    /// Adjacent lines of one segment that read-ahead fetches with one ranged GET (each line is served as soon as its
    /// bytes have arrived and passed their CRCs). 16 × 1 MiB covers a whole segment (at most MaxFlushSize, 10 MiB): one
    /// GET per segment, as a plain multi-stream download of the objects makes.
    /// </summary>
    public int PrefetchLinesPerRequest { get; init; } = 16;

    /// <summary>Free line buffers kept for reuse (with their memory; lines given back beyond these return it to the system).</summary>
    public int PoolRetainLines { get; init; } = 64;

    /// <summary>
    /// Whether line memory uses transparent huge pages (read_cache.huge_pages): <see cref="HugePagePolicy.Auto"/> uses
    /// them when the kernel offers them and they pay (<see cref="LinePool"/>).
    /// </summary>
    public HugePagePolicy HugePages { get; init; } = HugePagePolicy.Auto;

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
