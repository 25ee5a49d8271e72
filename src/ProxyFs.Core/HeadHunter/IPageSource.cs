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
}
