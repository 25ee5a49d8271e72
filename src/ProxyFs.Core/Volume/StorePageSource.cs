using ProxyFs.Core.HeadHunter;
using ProxyFs.Core.LogSegments;
using ProxyFs.ObjectStore;

namespace ProxyFs.Core.Volume;

/// <summary>
/// Reads B+tree pages from the metadata segments of a store with ranged GETs (the tree caches pages itself). Called
/// from blocking FUSE threads: the asynchronous store call is waited for here.
/// </summary>
public sealed class StorePageSource(IObjectStore store, SegmentKeys keys) : IPageSource
{
    public byte[] ReadPage(PageAddress address)
    {
        byte[] page = new byte[address.Length];
        ObjectRead read = store.ReadAsync(keys.KeyOf(address.SegmentNonce), address.Offset, page).GetAwaiter().GetResult();
        return read.BytesRead == page.Length ? page : page.AsSpan(0, read.BytesRead).ToArray();
    }

    public IReadOnlyList<byte[]> ReadPages(IReadOnlyList<PageAddress> addresses)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        // Independent ranged GETs, concurrently: a scan's next leaves.
        var reads = new Task<byte[]>[addresses.Count];
        for (int i = 0; i < reads.Length; i++)
        {
            PageAddress a = addresses[i];
            reads[i] = Task.Run(() => ReadPage(a));
        }
        return Task.WhenAll(reads).GetAwaiter().GetResult();
    }
}
