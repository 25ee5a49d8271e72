using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using ProxyFs.Core.HeadHunter;
using Xunit.Abstractions;

namespace ProxyFs.Core.Tests.HeadHunter;

/// <summary>
/// A million directory-entry-like keys (20–40 bytes) with ~100-byte values, inserted in random order with periodic
/// checkpoints, then reopened with an 8 MiB cache (a tree over ten times larger) and read back. Dead metadata
/// segments are deleted from the store as the checkpoints' accounting says, so a wrong report would surface as a
/// missing segment. PROXYFS_SOAK=1 runs 5,000,000 entries. Timings and memory go to the test output.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class ScaleTests(ITestOutputHelper output)
{
    private static readonly bool Soak = Environment.GetEnvironmentVariable("PROXYFS_SOAK") == "1";

    /// <summary>'D' + directory inode (8 bytes BE) + a name of 11–31 bytes: 20–40 bytes in all.</summary>
    internal static byte[] EntryKey(long n)
    {
        var name = $"f{n:x7}-{new string('x', (int)(Mix(n) % 21))}";
        var key = new byte[9 + name.Length];
        key[0] = (byte)'D';
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(1), n / 1000);
        Encoding.ASCII.GetBytes(name, key.AsSpan(9));
        return key;
    }

    internal static byte[] EntryValue(long n, int generation = 0) => TreeTestKit.Value(n + (generation * 1_000_003L), 90 + (int)(Mix(n) % 21));

    private static ulong Mix(long n)
    {
        var x = (ulong)n * 0x9E3779B97F4A7C15UL;
        return x ^ (x >> 29);
    }

    [Fact]
    public void A_million_entries_checkpoint_and_read_back_through_a_small_cache()
    {
        var count = Soak ? 5_000_000L : 1_000_000L;
        const long stride = 7919; // coprime with the counts: visits every n once in a scattered order
        var store = new MemoryPageStore();
        var ledger = new SpaceLedger();
        var options = new HeadHunterOptions { CacheBudgetBytes = 8L * 1024 * 1024 };
        var total = Stopwatch.StartNew();

        var watch = Stopwatch.StartNew();
        HeadHunterCheckpoint last;
        long lockTicks = 0, elapsedTicks = 0, serialized = 0;
        using (var tree = HeadHunterTree.Create(store, options))
        {
            for (long i = 0; i < count; i++)
            {
                var n = i * stride % count;
                tree.Put(EntryKey(n), EntryValue(n));
                if (i % 250_000 == 249_999)
                {
                    last = Checkpoint(tree, store, ledger, ref lockTicks, ref elapsedTicks, ref serialized);
                }
            }
            last = Checkpoint(tree, store, ledger, ref lockTicks, ref elapsedTicks, ref serialized);
            output.WriteLine($"insert {count:N0} in random order + {ledger.LiveBytesBySegment.Count} checkpoints: {watch.Elapsed.TotalSeconds:F1} s, {count / watch.Elapsed.TotalSeconds:N0} puts/s");
            output.WriteLine($"checkpoints: {serialized / 1048576.0:N0} MiB serialized in {TimeSpan.FromTicks(elapsedTicks).TotalMilliseconds:N0} ms ({serialized / 1048576.0 / TimeSpan.FromTicks(elapsedTicks).TotalSeconds:N0} MiB/s, GC pauses {GcPauseInCheckpoints.TotalMilliseconds:N0} ms), exclusive lock held {TimeSpan.FromTicks(lockTicks).TotalMilliseconds:N1} ms in all");
            var shape = tree.Verify();
            output.WriteLine($"tree: {shape}; store holds {store.StoredBytes / 1048576.0:N0} MiB in {store.SegmentCount} segments");
            Assert.Equal(count, shape.Entries);
        }

        var heapBefore = LiveHeap();
        using var reopened = HeadHunterTree.Open(store, last.RootAddress, options);
        watch.Restart();
        var random = new Random(42);
        var lookups = Soak ? 1_000_000 : 200_000;
        for (var i = 0; i < lookups; i++)
        {
            var n = random.NextInt64(count);
            Assert.Equal(EntryValue(n), reopened.Get(EntryKey(n)));
        }
        var stats = reopened.Statistics;
        output.WriteLine($"{lookups:N0} random lookups through an 8 MiB cache: {lookups / watch.Elapsed.TotalSeconds:N0}/s; {stats}");
        Assert.True(stats.CachedBytes <= options.CacheBudgetBytes);
        Assert.True(stats.Evictions > 0);

        watch.Restart();
        long scanned = 0;
        byte[]? previous = null;
        reopened.Scan([], (key, value) =>
        {
            if (previous is not null && previous.AsSpan().SequenceCompareTo(key) >= 0)
            {
                throw new InvalidOperationException("scan out of order");
            }
            previous = key.ToArray();
            scanned++;
            return value.Length >= 90;
        });
        Assert.Equal(count, scanned);
        output.WriteLine($"full scan: {scanned / watch.Elapsed.TotalSeconds:N0} entries/s");
        var heapAfter = LiveHeap();
        output.WriteLine($"managed heap: {heapBefore / 1048576.0:N0} MiB before opening (the in-memory store), {(heapAfter - heapBefore) / 1048576.0:N1} MiB more with the tree open; process RSS {Environment.WorkingSet / 1048576.0:N0} MiB; total {total.Elapsed.TotalSeconds:F1} s");

        // Delete 99%: the tree shrinks, and the dead segments go.
        watch.Restart();
        var before = reopened.Verify();
        for (long n = 0; n < count; n++)
        {
            if (n % 100 != 0)
            {
                Assert.True(reopened.Delete(EntryKey(n)));
            }
        }
        Checkpoint(reopened, store, ledger, ref lockTicks, ref elapsedTicks, ref serialized);
        var after = reopened.Verify();
        output.WriteLine($"deleting 99%: {watch.Elapsed.TotalSeconds:F1} s; {before.LeafNodes:N0} leaves → {after.LeafNodes:N0}, height {before.Height} → {after.Height}; store {store.StoredBytes / 1048576.0:N0} MiB in {store.SegmentCount} segments");
        Assert.Equal(count / 100, after.Entries);
        Assert.True(after.LeafNodes * 40 < before.LeafNodes);
        ledger.AssertMatches(reopened);
    }

    /// <summary>Live managed bytes after a full compacting collection (large object heap included).</summary>
    private static long LiveHeap()
    {
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: false);
    }

    /// <summary>Garbage collection pauses during the checkpoints (they count in the lock hold time).</summary>
    private static TimeSpan GcPauseInCheckpoints { get; set; }

    private static HeadHunterCheckpoint Checkpoint(
        HeadHunterTree tree, MemoryPageStore store, SpaceLedger ledger, ref long lockTicks, ref long elapsedTicks, ref long serialized)
    {
        var pausedBefore = GC.GetTotalPauseDuration();
        var checkpoint = store.Checkpoint(tree);
        GcPauseInCheckpoints += GC.GetTotalPauseDuration() - pausedBefore;
        ledger.Apply(checkpoint);
        lockTicks += checkpoint.LockHeld.Ticks;
        elapsedTicks += checkpoint.Elapsed.Ticks;
        serialized += checkpoint.Segment.Length;
        foreach (var (segment, live) in ledger.LiveBytesBySegment)
        {
            if (live == 0 && store.Contains(segment))
            {
                store.Delete(segment);
            }
        }
        return checkpoint;
    }
}
