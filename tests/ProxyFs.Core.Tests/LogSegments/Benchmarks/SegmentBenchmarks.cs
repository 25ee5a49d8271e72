using System.Diagnostics;
using System.Globalization;
using ProxyFs.Core.Cache;
using ProxyFs.Core.LogSegments;
using ProxyFs.ObjectStore;
using ProxyFs.ObjectStore.Decorators;
using ProxyFs.ObjectStore.File;
using ProxyFs.ObjectStore.Memory;
using Xunit.Abstractions;

namespace ProxyFs.Core.Tests.LogSegments.Benchmarks;

/// <summary>
/// Throughput of the data path, for the report (docs/FORMAT.md quotes the figures): appends into memory:// and file://,
/// reads cold and warm, and the workload behind the MaxFlushTime default. Run:
/// <c>PROXYFS_BENCH=1 dotnet test tests/ProxyFs.Core.Tests -c Release --filter "FullyQualifiedName~Benchmarks" --logger "console;verbosity=detailed"</c>.
/// </summary>
public class SegmentBenchmarks(ITestOutputHelper output)
{
    private static readonly byte[] VolumeId = SegmentWriterTests.VolumeId;

    private void Print(string line) => output.WriteLine(line);

    // FUSE reads run on dedicated blocking threads, not on the thread pool: measure them the same way.
    private static T OnThread<T>(Func<T> work)
    {
        T result = default!;
        var thread = new Thread(() => result = work());
        thread.Start();
        thread.Join();
        return result;
    }

    // "s3-like": memory:// behind 10 ms of latency per GET, as a nearby S3 endpoint answers.
    private static IObjectStore Open(string kind, string dir) => kind switch
    {
        "memory" => new MemoryObjectStore("bench"),
        "s3-like" => new FaultInjectingObjectStore(new MemoryObjectStore("bench"), new FaultPlan().SetLatency(ObjectStoreOperation.Get, TimeSpan.FromMilliseconds(10))),
        _ => new FileObjectStore(dir, new FileStoreOptions { Fsync = true }),
    };

    [BenchmarkFact]
    public async Task Append_throughput()
    {
        foreach (string kind in new[] { "memory", "file" })
        {
            foreach (var (appendSize, total, threads) in new[] { (1 << 20, 1L << 30, 1), (4096, 256L << 20, 1), (4096, 256L << 20, 4) })
            {
                using var dir = new TestDirectory();
                await using var store = Open(kind, dir.Path);
                await using var writer = new SegmentWriter(store, new CountingNonceSource(), VolumeId);
                byte[] data = TestBytes.Make(1, appendSize);
                long perThread = total / threads / appendSize;
                var clock = Stopwatch.StartNew();
                var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() =>
                {
                    for (long i = 0; i < perThread; i++)
                    {
                        writer.Append(data);
                    }
                })).ToArray();
                foreach (var w in workers)
                {
                    w.Start();
                }
                foreach (var w in workers)
                {
                    w.Join();
                }
                double appendSeconds = clock.Elapsed.TotalSeconds;
                await writer.FlushAsync();
                double seconds = clock.Elapsed.TotalSeconds;
                var m = writer.Metrics.Snapshot();
                Assert.Equal(perThread * threads * appendSize, m.DataBytesWritten);
                Print(string.Create(CultureInfo.InvariantCulture,
                    $"append {kind,-6} {appendSize,8} B x {threads} threads: {total / seconds / 1e6,8:F0} MB/s to durable ({total / appendSize / seconds,9:F0} appends/s), appends alone {total / appendSize / appendSeconds,9:F0}/s; {m.SegmentsWritten} segments, upload mean {m.MeanUploadLatency.TotalMilliseconds:F1} ms, backpressure waits {m.BackpressureWaits}"));
            }
        }
    }

    [BenchmarkFact]
    public async Task Read_throughput_cold_and_warm()
    {
        foreach (string kind in new[] { "memory", "memory", "file", "s3-like" }) // the first round warms the JIT up
        {
            using var dir = new TestDirectory();
            await using var store = Open(kind, dir.Path);
            const long Total = 256L << 20;
            var extents = new List<SegmentLocation>();
            await using (var writer = new SegmentWriter(store, new CountingNonceSource(), VolumeId))
            {
                byte[] data = TestBytes.Make(2, 1 << 20);
                for (long done = 0; done < Total; done += data.Length)
                {
                    extents.Add(writer.Append(data));
                }
                await writer.FlushAsync();
            }
            var cache = new ReadCache(new ReadCacheOptions { BudgetBytes = 512L << 20 });
            using var volume = cache.RegisterVolume("bench");
            using var reader = new SegmentReader(store, volume, VolumeId);
            var tracker = new ReadAheadTracker();
            byte[] buffer = new byte[1 << 20];

            double Sequential(string label, int readSize, bool readAhead)
            {
                var clock = Stopwatch.StartNew();
                long fileOffset = 0;
                foreach (var e in extents)
                {
                    for (int o = 0; o < e.Length; o += readSize)
                    {
                        if (readAhead)
                        {
                            // The "file" is the extents in order; prefetch within this extent's segment and the next ones.
                            var ahead = tracker.OnRead(1, fileOffset + o, readSize);
                            for (long p = ahead.Offset; p < ahead.End && p / (1 << 20) < extents.Count; p += 1 << 20)
                            {
                                var x = extents[(int)(p / (1 << 20))];
                                reader.Prefetch(x.Nonce, x.Offset, x.Length);
                            }
                        }
                        reader.Read(e.Nonce, e.Offset + o, buffer.AsSpan(0, readSize));
                    }
                    fileOffset += e.Length;
                }
                double mbps = Total / clock.Elapsed.TotalSeconds / 1e6;
                Print(string.Create(CultureInfo.InvariantCulture, $"read  {kind,-6} {label,-34} {mbps,8:F0} MB/s"));
                return mbps;
            }

            double Random4K(string label, int count)
            {
                var random = new Random(4);
                var clock = Stopwatch.StartNew();
                for (int i = 0; i < count; i++)
                {
                    var e = extents[random.Next(extents.Count)];
                    reader.Read(e.Nonce, e.Offset + (4096L * random.Next(e.Length / 4096)), buffer.AsSpan(0, 4096));
                }
                double iops = count / clock.Elapsed.TotalSeconds;
                Print(string.Create(CultureInfo.InvariantCulture, $"read  {kind,-6} {label,-34} {iops,8:F0} IOPS"));
                return iops;
            }

            OnThread(() => Sequential("cold sequential 1 MiB + read-ahead", 1 << 20, readAhead: true));
            OnThread(() => Sequential("warm sequential 1 MiB", 1 << 20, readAhead: false));
            OnThread(() => Sequential("warm sequential 4 KiB", 4096, readAhead: false));
            OnThread(() => Random4K("warm random 4 KiB", 200_000));
            Print($"      {cache.Snapshot()}");
            volume.Dispose();
            using var cold = cache.RegisterVolume("cold");
            using var coldReader = new SegmentReader(store, cold, VolumeId);
            using var coldNoAhead = cache.RegisterVolume("cold-sequential");
            using var coldSequential = new SegmentReader(store, coldNoAhead, VolumeId);
            OnThread(() =>
            {
                var clock = Stopwatch.StartNew();
                foreach (var e in extents)
                {
                    coldSequential.Read(e.Nonce, e.Offset, buffer.AsSpan(0, e.Length));
                }
                Print(string.Create(CultureInfo.InvariantCulture, $"read  {kind,-6} {"cold sequential 1 MiB, no read-ahead",-34} {Total / clock.Elapsed.TotalSeconds / 1e6,8:F0} MB/s"));
                var random = new Random(5);
                clock.Restart();
                int count = kind == "s3-like" ? 200 : 2000;
                for (int i = 0; i < count; i++)
                {
                    var e = extents[random.Next(extents.Count)];
                    coldReader.Read(e.Nonce, e.Offset + (4096L * random.Next(e.Length / 4096)), buffer.AsSpan(0, 4096));
                }
                Print(string.Create(CultureInfo.InvariantCulture, $"read  {kind,-6} {"cold random 4 KiB (1 MiB line fills)",-34} {count / clock.Elapsed.TotalSeconds,8:F0} IOPS"));
                return 0;
            });
            Assert.True(cache.Snapshot().BytesServed > 0);
        }
    }

    [BenchmarkFact]
    public async Task Unflushed_reads_from_memory()
    {
        await using var store = new MemoryObjectStore();
        await using var writer = new SegmentWriter(store, new CountingNonceSource(), VolumeId, new SegmentWriterOptions { MaxFlushTime = TimeSpan.FromHours(1) });
        var cache = new ReadCache();
        using var volume = cache.RegisterVolume("bench");
        using var reader = new SegmentReader(store, volume, VolumeId, writer);
        var where = writer.Append(TestBytes.Make(3, 8 << 20));
        byte[] buffer = new byte[4096];
        var clock = Stopwatch.StartNew();
        const int Count = 1_000_000;
        for (int i = 0; i < Count; i++)
        {
            reader.Read(where.Nonce, 4096L * (i % 2048), buffer);
        }
        Print(string.Create(CultureInfo.InvariantCulture, $"read  memory (unflushed segment) 4 KiB: {Count / clock.Elapsed.TotalSeconds:F0} reads/s"));
        Assert.Equal((long)Count * 4096, reader.Metrics.BytesFromMemory);
    }

    /// <summary>
    /// The MaxFlushTime choice: a steady trickle of 4 KiB writes (what a log, a mail spool or a build tree writes between
    /// bursts) into file:// with fsync, for each candidate: objects per hour, mean object size, the bytes exposed (not
    /// yet durable) on average and at worst, and what an object costs the store (time of a PUT of that size).
    /// </summary>
    [BenchmarkFact]
    public async Task MaxFlushTime_choice()
    {
        foreach (int rateKiB in new[] { 64, 1024 })
        {
            foreach (double flushSeconds in new[] { 0.2, 0.5, 1, 2, 5, 10 })
            {
                using var dir = new TestDirectory();
                await using var store = Open("file", dir.Path);
                var options = new SegmentWriterOptions { MaxFlushTime = TimeSpan.FromSeconds(flushSeconds) };
                await using var writer = new SegmentWriter(store, new CountingNonceSource(), VolumeId, options);
                byte[] data = TestBytes.Make(4, 4096);
                double runSeconds = Math.Max(12, 3 * flushSeconds);
                var clock = Stopwatch.StartNew();
                long appended = 0, exposedSum = 0, exposedMax = 0, samples = 0;
                while (clock.Elapsed.TotalSeconds < runSeconds)
                {
                    long due = (long)(clock.Elapsed.TotalSeconds * rateKiB * 1024);
                    while (appended < due)
                    {
                        writer.Append(data);
                        appended += data.Length;
                    }
                    long exposed = writer.BytesWaiting;
                    exposedSum += exposed;
                    exposedMax = Math.Max(exposedMax, exposed);
                    samples++;
                    Thread.Sleep(5);
                }
                var m = writer.Metrics.Snapshot();
                double perHour = m.SegmentsWritten / runSeconds * 3600;
                Print(string.Create(CultureInfo.InvariantCulture,
                    $"trickle {rateKiB,5} KiB/s, MaxFlushTime {flushSeconds,4:F1} s: {perHour,7:F0} objects/h, mean object {(m.SegmentsWritten == 0 ? 0 : m.DataBytesWritten / m.SegmentsWritten) / 1024,6} KiB, upload mean {m.MeanUploadLatency.TotalMilliseconds,5:F1} ms, exposed mean {exposedSum / Math.Max(1, samples) / 1024,6} KiB max {exposedMax / 1024,6} KiB"));
                Assert.True(m.SegmentsWritten > 0);
            }
        }
    }
}
