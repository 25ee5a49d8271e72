namespace ProxyFs.Core.Cache;

/// <summary>Where the lines of a <see cref="ReadCacheVolume"/> come from (the segment reader: ranged GETs, checked against the segment footer).</summary>
public interface ICacheLineSource
{
    /// <summary>
    /// Fills <paramref name="buffer"/> (<see cref="ReadCache.LineSize"/> bytes) with line <paramref name="line"/> of
    /// segment <paramref name="segment"/> and returns its length: 1 to LineSize bytes, fewer only for a segment's last
    /// line. The bytes must be verified: the cache serves what this returns until it is evicted. Throws when the line
    /// cannot be read (the waiting readers get the exception; nothing is cached).
    /// </summary>
    Task<int> FillLineAsync(ulong segment, long line, Memory<byte> buffer, CancellationToken cancellationToken);
}
