namespace ProxyFs.Core.HeadHunter;

/// <summary>
/// Reads stored pages and blobs for a <see cref="HeadHunterTree"/>. The volume implements it with ranged GETs of
/// metadata segment objects (and whatever caching below that it wants). Called from the tree's reader and writer
/// threads, outside the tree's lock whenever possible; it may block on I/O and must be thread-safe.
/// </summary>
public interface IPageSource
{
    /// <summary>
    /// Returns the <see cref="PageAddress.Length"/> bytes at <see cref="PageAddress.Offset"/> of segment
    /// <see cref="PageAddress.SegmentNonce"/>. Returning fewer bytes (a truncated object) is reported by the tree
    /// as corruption of that address; a missing object should throw the store's own exception.
    /// </summary>
    byte[] ReadPage(PageAddress address);

    /// <summary>
    /// Reads several records, in order (a scan's read-ahead: the next leaves of a range). A checkpoint writes
    /// sibling pages next to each other, so a store can coalesce adjacent ranges into one ranged GET or issue the
    /// reads concurrently. The default reads them one at a time.
    /// </summary>
    IReadOnlyList<byte[]> ReadPages(IReadOnlyList<PageAddress> addresses)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        var records = new byte[addresses.Count][];
        for (var i = 0; i < records.Length; i++)
        {
            records[i] = ReadPage(addresses[i]);
        }
        return records;
    }
}
