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

    /// <summary>
    /// Fills the adjacent lines <paramref name="firstLine"/>, <paramref name="firstLine"/> + 1, … of
    /// <paramref name="segment"/>, one per buffer, and calls <paramref name="filled"/>(index, length) for each as soon
    /// as its bytes are verified, in order (the cache serves a line from that moment). Read-ahead uses it so that a
    /// run of lines costs one ranged GET (object stores answer few large requests faster than many small ones). The
    /// default fills the lines one by one. Throws when a line cannot be read; the lines not reported by then fail.
    /// </summary>
    async Task FillLinesAsync(ulong segment, long firstLine, IReadOnlyList<Memory<byte>> buffers, Action<int, int> filled, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        ArgumentNullException.ThrowIfNull(filled);
        for (int i = 0; i < buffers.Count; i++)
        {
            filled(i, await FillLineAsync(segment, firstLine + i, buffers[i], cancellationToken).ConfigureAwait(false));
        }
    }
}
