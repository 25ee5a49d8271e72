using ProxyFs.Core.HeadHunter;
using static ProxyFs.Core.Tests.HeadHunter.TreeTestKit;

namespace ProxyFs.Core.Tests.HeadHunter;

public sealed class ReadAheadTests
{
    private static (MemoryPageStore Store, PageAddress Root, long Leaves, int Height) Build()
    {
        var store = new MemoryPageStore();
        using var tree = HeadHunterTree.Create(store, SmallPages());
        for (long n = 0; n < 30_000; n++)
        {
            tree.Put(NumberKey(n), Value(n, 40));
        }
        var root = store.Checkpoint(tree).RootAddress;
        var shape = tree.Verify();
        return (store, root, shape.LeafNodes, shape.Height);
    }

    [Fact]
    public void A_cold_scan_reads_the_next_leaves_in_batches()
    {
        var (store, root, leaves, _) = Build();
        var batching = new BatchingSource(store);
        var before = store.Reads;
        using var tree = HeadHunterTree.Open(batching, root, SmallPages());
        Assert.Equal(30_000, All(tree).Count);
        Assert.Equal(Enumerable.Range(0, 30_000).Select(n => NumberKey(n)), All(tree).Select(e => e.Key));
        // Every page was read once, but in few calls: the window grows to 16 leaves per call.
        Assert.Equal(tree.Verify().StoredRecords, store.Reads - before);
        Assert.True(batching.Calls < leaves / 8, $"{batching.Calls} calls for {leaves} leaves");
    }

    [Fact]
    public void A_scan_that_stops_in_its_first_leaf_reads_nothing_ahead()
    {
        var (store, root, _, height) = Build();
        using var tree = HeadHunterTree.Open(store, root, SmallPages());
        var before = store.Reads;
        tree.ScanKeys(NumberKey(15_000), _ => false);
        Assert.Equal(before + height - 1, store.Reads);
    }

    [Fact]
    public void A_corrupt_leaf_read_ahead_is_reported_when_the_scan_reaches_it()
    {
        var (store, root, _, _) = Build();
        var leaves = new List<PageAddress>();
        using (var probe = HeadHunterTree.Open(store, root, SmallPages()))
        {
            probe.Verify((address, kind) =>
            {
                if (kind == RecordKind.Leaf)
                {
                    leaves.Add(address);
                }
            });
        }
        var victim = leaves[5];
        var segment = store.Segment(victim.SegmentNonce).ToArray();
        segment[victim.Offset + 100] ^= 0x40;
        store.Overwrite(victim.SegmentNonce, segment);

        using var tree = HeadHunterTree.Open(new BatchingSource(store), root, SmallPages());
        var seen = 0;
        var error = Assert.Throws<HeadHunterCorruptionException>(() => tree.ScanKeys([], _ =>
        {
            seen++;
            return true;
        }));
        Assert.Equal(victim, error.Address);
        Assert.True(seen > 0);
    }

    /// <summary>A store that implements the batch read (as a coalescing S3 source would), counting calls.</summary>
    private sealed class BatchingSource(MemoryPageStore inner) : IPageSource
    {
        public int Calls { get; private set; }

        public byte[] ReadPage(PageAddress address)
        {
            Calls++;
            return inner.ReadPage(address);
        }

        public IReadOnlyList<byte[]> ReadPages(IReadOnlyList<PageAddress> addresses)
        {
            Calls++;
            return addresses.Select(inner.ReadPage).ToList();
        }
    }
}
