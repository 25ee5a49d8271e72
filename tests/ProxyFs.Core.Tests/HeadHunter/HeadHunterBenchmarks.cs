using System.Diagnostics;
using ProxyFs.Core.HeadHunter;
using Xunit.Abstractions;

namespace ProxyFs.Core.Tests.HeadHunter;

/// <summary>Figures for the report: puts, lookups (cached, uncached, concurrent), checkpoint cost, by page size.</summary>
[Collection(SerialCollection.Name)]
public sealed class HeadHunterBenchmarks(ITestOutputHelper output)
{
    private const long Count = 1_000_000;
    private const long Stride = 7919;

    private static readonly byte[][] Keys = Enumerable.Range(0, (int)Count).Select(i => ScaleTests.EntryKey(i)).ToArray();
    private static readonly byte[][] Values = Enumerable.Range(0, (int)Count).Select(i => ScaleTests.EntryValue(i)).ToArray();

    [BenchFact]
    public void Page_size_comparison()
    {
        var sizes = Environment.GetEnvironmentVariable("PROXYFS_BENCH_PAGES") is { Length: > 0 } list
            ? list.Split(',').Select(int.Parse).ToArray()
            : [4096, 8192, 16384, 32768, 65536];
        foreach (var pageSize in sizes)
        {
            Run(pageSize);
        }
    }

    private void Run(int pageSize)
    {
        var store = new MemoryPageStore();
        var big = new HeadHunterOptions { PageSize = pageSize, CacheBudgetBytes = 1L << 30 };
        var small = new HeadHunterOptions { PageSize = pageSize, CacheBudgetBytes = 8L << 20 };
        PageAddress root;
        double putsRandom, putsSequential, serializeMiBs, lockPer1000;
        long storedBytes;
        using (var tree = HeadHunterTree.Create(store, big))
        {
            var watch = Stopwatch.StartNew();
            for (long i = 0; i < Count; i++)
            {
                var n = i * Stride % Count;
                tree.Put(Keys[n], Values[n]);
            }
            putsRandom = Count / watch.Elapsed.TotalSeconds;
            var dirty = tree.Statistics.DirtyPages;
            var checkpoint = store.Checkpoint(tree);
            serializeMiBs = checkpoint.Segment.Length / 1048576.0 / checkpoint.Elapsed.TotalSeconds;
            lockPer1000 = checkpoint.LockHeld.TotalMilliseconds * 1000 / dirty;
            root = checkpoint.RootAddress;
            storedBytes = checkpoint.LiveBytesWritten;
        }
        using (var sequential = HeadHunterTree.Create(new MemoryPageStore(), big))
        {
            var watch = Stopwatch.StartNew();
            for (long n = 0; n < Count; n++)
            {
                sequential.Put(Keys[n], Values[n]);
            }
            putsSequential = Count / watch.Elapsed.TotalSeconds;
        }
        double cached, uncached, concurrentCached, concurrentUncached, hot, concurrentHot;
        using (var tree = HeadHunterTree.Open(store, root, big))
        {
            Lookups(tree, 200_000, 1);
            cached = Lookups(tree, 1_000_000, 2);
            concurrentCached = Concurrent(tree, 500_000);
            Lookups(tree, 100_000, 1, mask: 1023);
            hot = Lookups(tree, 1_000_000, 2, mask: 1023);
            concurrentHot = Concurrent(tree, 1_000_000, mask: 1023);
        }
        using (var tree = HeadHunterTree.Open(store, root, small))
        {
            Lookups(tree, 50_000, 3);
            uncached = Lookups(tree, 300_000, 4);
            concurrentUncached = Concurrent(tree, 150_000);
            output.WriteLine($"  8 MiB cache: {tree.Statistics}");
        }
        output.WriteLine(
            $"page {pageSize / 1024,2} KiB: puts random {putsRandom,9:N0}/s, sequential {putsSequential,9:N0}/s; " +
            $"gets: 1,024 hot keys {hot,9:N0}/s (2 threads {concurrentHot,9:N0}/s), whole tree cached {cached,9:N0}/s (2 threads {concurrentCached,9:N0}/s), 8 MiB cache {uncached,9:N0}/s (2 threads {concurrentUncached,9:N0}/s); " +
            $"checkpoint {serializeMiBs:N0} MiB/s, lock held {lockPer1000:F2} ms per 1,000 dirty pages; {storedBytes / (double)Count:F0} stored bytes/entry");
    }

    private static readonly byte[][] Probes = MakeProbes();

    private static byte[][] MakeProbes()
    {
        var random = new Random(77);
        return Enumerable.Range(0, 1 << 16).Select(_ => ScaleTests.EntryKey(random.NextInt64(Count))).ToArray();
    }

    private static double Lookups(HeadHunterTree tree, int lookups, int seed, int mask = 0xFFFF)
    {
        var offset = seed * 7919;
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < lookups; i++)
        {
            if (tree.Get(Probes[(i + offset) & mask]) is null)
            {
                throw new InvalidOperationException("probe missing");
            }
        }
        return lookups / watch.Elapsed.TotalSeconds;
    }

    private static double Concurrent(HeadHunterTree tree, int perThread, int mask = 0xFFFF)
    {
        var watch = Stopwatch.StartNew();
        var threads = Enumerable.Range(0, 2).Select(t => new Thread(() => Lookups(tree, perThread, 100 + t, mask))).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        return 2.0 * perThread / watch.Elapsed.TotalSeconds;
    }
}
