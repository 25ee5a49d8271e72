using ProxyFs.Core.HeadHunter;
using ProxyFs.Core.LogSegments;
using ProxyFs.ObjectStore;

namespace ProxyFs.Core.Volume;

/// <summary>
/// Reads B+tree pages from the metadata segments of a store with ranged GETs (the tree caches pages itself). Called
/// from blocking FUSE threads: the asynchronous store call is waited for here. Several pages asked for together (a
/// scan's read-ahead) that lie next to each other in one segment, as a checkpoint writes siblings, are fetched with
/// one GET.
/// </summary>
public sealed class StorePageSource(IObjectStore store, SegmentKeys keys) : IPageSource
{
    /// <summary>Pages closer than this are fetched in one GET (the bytes between are read and dropped).</summary>
    private const int MaxGap = 4096;

    /// <summary>A coalesced GET is at most this large.</summary>
    private const int MaxRun = 4 << 20;

    public byte[] ReadPage(PageAddress address) => ReadRangeAsync(address.SegmentNonce, address.Offset, (int)address.Length).GetAwaiter().GetResult();

    private async Task<byte[]> ReadRangeAsync(ulong nonce, long offset, int length)
    {
        byte[] bytes = new byte[length];
        ObjectRead read = await store.ReadAsync(keys.KeyOf(nonce), offset, bytes).ConfigureAwait(false);
        return read.BytesRead == length ? bytes : bytes.AsSpan(0, read.BytesRead).ToArray();
    }

    public IReadOnlyList<byte[]> ReadPages(IReadOnlyList<PageAddress> addresses)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        var results = new byte[addresses.Count][];
        var runs = new List<Task>();
        foreach (IGrouping<ulong, int> segment in Enumerable.Range(0, addresses.Count).GroupBy(i => addresses[i].SegmentNonce))
        {
            int[] order = [.. segment.OrderBy(i => addresses[i].Offset)];
            int start = 0;
            for (int i = 1; i <= order.Length; i++)
            {
                bool split = i == order.Length;
                if (!split)
                {
                    PageAddress previous = addresses[order[i - 1]], next = addresses[order[i]];
                    long end = (long)previous.Offset + previous.Length;
                    split = next.Offset > end + MaxGap || (long)next.Offset + next.Length - addresses[order[start]].Offset > MaxRun;
                }
                if (split)
                {
                    runs.Add(ReadRunAsync(addresses, order[start..i], results));
                    start = i;
                }
            }
        }
        Task.WhenAll(runs).GetAwaiter().GetResult();
        return results;
    }

    private async Task ReadRunAsync(IReadOnlyList<PageAddress> addresses, int[] run, byte[][] results)
    {
        PageAddress first = addresses[run[0]];
        long end = run.Max(i => (long)addresses[i].Offset + addresses[i].Length);
        byte[] bytes = await ReadRangeAsync(first.SegmentNonce, first.Offset, (int)(end - first.Offset)).ConfigureAwait(false);
        foreach (int i in run)
        {
            PageAddress a = addresses[i];
            int at = (int)(a.Offset - first.Offset);
            // A short object yields a short page: the tree reports that address as corrupt.
            results[i] = bytes.AsSpan(Math.Min(at, bytes.Length), (int)Math.Clamp(bytes.Length - at, 0, a.Length)).ToArray();
        }
    }
}
