using ProxyFs.Core.Cache;
using ProxyFs.Core.LogSegments;
using ProxyFs.ObjectStore.Memory;

namespace ProxyFs.Core.Tests.LogSegments;

public class SegmentWriterTests
{
    internal static readonly byte[] VolumeId = "volume-0001"u8.ToArray();

    internal static SegmentWriterOptions Small(TimeProvider? time = null) => new()
    {
        MaxFlushSize = 256 << 10,
        ChunkSize = 16 << 10,
        BlockSize = 4096,
        MaxDirtyBytes = 4 << 20,
        UploadRetryDelay = TimeSpan.FromMilliseconds(1),
        MaxFlushTime = TimeSpan.FromHours(1),
        TimeProvider = time ?? TimeProvider.System,
    };

    internal static (ReadCache Cache, ReadCacheVolume Volume) NewCache(long budget = 64 << 20, int lineSize = 64 << 10)
    {
        var cache = new ReadCache(new ReadCacheOptions { BudgetBytes = budget, LineSize = lineSize });
        return (cache, cache.RegisterVolume("v", 1));
    }

    [Theory]
    [InlineData(StoreKind.Memory)]
    [InlineData(StoreKind.File)]
    public async Task Appends_from_many_threads_read_back_exactly_before_and_after_upload(StoreKind kind)
    {
        using var dir = new TestDirectory();
        await using var store = dir.Open(kind);
        var probe = new ProbeStore(store);
        probe.Puts.Close(); // nothing becomes durable until the reads from memory are checked
        var writer = new SegmentWriter(probe, new CountingNonceSource(), VolumeId, Small() with { MaxDirtyBytes = 64 << 20 });
        var (_, cacheVolume) = NewCache();
        using var reader = new SegmentReader(probe, cacheVolume, VolumeId, writer);

        const int Threads = 8, PerThread = 200;
        var written = new (SegmentLocation Where, byte[] Data)[Threads * PerThread];
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            var random = new Random(t);
            for (int i = 0; i < PerThread; i++)
            {
                byte[] data = TestBytes.Make((t * PerThread) + i, random.Next(1, 9000));
                written[(t * PerThread) + i] = (writer.Append(data), data);
            }
        })).ToArray();
        foreach (var t in threads)
        {
            t.Start();
        }
        foreach (var t in threads)
        {
            t.Join();
        }

        // No two appends overlap, and each one is in one segment.
        foreach (var group in written.GroupBy(w => w.Where.Nonce))
        {
            long end = 0;
            foreach (var (where, data) in group.OrderBy(w => w.Where.Offset))
            {
                Assert.True(where.Offset >= end, $"{where} overlaps the previous append");
                Assert.Equal(data.Length, where.Length);
                end = where.End;
            }
            Assert.True(end <= writer.Options.MaxFlushSize);
        }
        Assert.Equal(0, probe.GetCount);
        AssertReadsBack(reader, written);
        Assert.Equal(0, probe.GetCount); // all from memory

        probe.Puts.Open();
        await writer.FlushAsync();
        Assert.Equal(0, writer.BytesWaiting);
        AssertReadsBack(reader, written);
        Assert.True(probe.GetCount > 0);
        await writer.DisposeAsync();

        // A fresh reader (on a fresh store instance over the same directory, for file://), without the writer.
        var again = kind == StoreKind.File ? dir.Open(kind) : store;
        try
        {
            var (_, otherVolume) = NewCache();
            using var fromStore = new SegmentReader(again, otherVolume, VolumeId);
            AssertReadsBack(fromStore, written);
            Assert.Equal(0, fromStore.Metrics.BytesFromMemory);
        }
        finally
        {
            if (!ReferenceEquals(again, store))
            {
                await again.DisposeAsync();
            }
        }
    }

    internal static void AssertReadsBack(SegmentReader reader, IEnumerable<(SegmentLocation Where, byte[] Data)> written)
    {
        foreach (var (where, data) in written)
        {
            byte[] back = new byte[where.Length];
            reader.Read(where.Nonce, where.Offset, back);
            Assert.True(data.AsSpan().SequenceEqual(back), $"{where} read back different bytes");
        }
    }

    [Fact]
    public async Task A_full_segment_is_sealed_by_size_and_an_append_that_does_not_fit_starts_a_new_one()
    {
        await using var store = new MemoryObjectStore();
        var options = Small();
        await using var writer = new SegmentWriter(store, new CountingNonceSource(), VolumeId, options);
        int size = options.MaxFlushSize;
        var a = writer.Append(new byte[size - 100]);
        var b = writer.Append(new byte[200]); // does not fit: seals the first segment
        Assert.Equal(new SegmentLocation(1, 0, size - 100), a);
        Assert.Equal(new SegmentLocation(2, 0, 200), b);
        var c = writer.Append(new byte[size - 200]); // fills segment 2 exactly: sealed at once
        Assert.Equal(new SegmentLocation(2, 200, size - 200), c);
        var d = writer.Append(new byte[1]);
        Assert.Equal(3ul, d.Nonce);
        Assert.Equal(2, writer.Metrics.Snapshot().FlushesBySize);
        await writer.FlushAsync();
        var m = writer.Metrics.Snapshot();
        Assert.Equal(3, m.SegmentsWritten);
        Assert.Equal(1, m.FlushesExplicit);
        Assert.Equal((2L * size) + 1 - 100, m.DataBytesWritten);
        Assert.Equal(3, store.Count);
        Assert.Throws<ArgumentException>(() => writer.Append(new byte[size + 1]));
        Assert.Throws<ArgumentException>(() => writer.Append([]));
    }

    [Fact]
    public async Task Ten_thousand_files_of_4_KiB_make_at_most_5_objects_of_10_MiB()
    {
        await using var store = new MemoryObjectStore();
        await using var writer = new SegmentWriter(store, new CountingNonceSource(), VolumeId, new SegmentWriterOptions { MaxFlushTime = TimeSpan.FromHours(1) });
        byte[] file = new byte[4096];
        for (int i = 0; i < 10_000; i++)
        {
            file[0] = (byte)i;
            writer.Append(file);
        }
        await writer.FlushAsync();
        var listing = await store.ListAsync("segments/");
        Assert.InRange(listing.Objects.Count, 1, 5);
        Assert.Equal(4, listing.Objects.Count); // 40,960,000 bytes: three full segments and one of 9,502,720 bytes
        Assert.All(listing.Objects, o => Assert.True(o.Size <= (10 << 20) + 1024, $"{o.Key} is {o.Size} bytes"));
        Assert.Equal(10_000L * 4096, writer.Metrics.Snapshot().DataBytesWritten);
    }

    [Fact]
    public async Task A_segment_is_sealed_MaxFlushTime_after_its_first_byte()
    {
        var clock = new ManualTimeProvider();
        await using var store = new MemoryObjectStore();
        var options = Small(clock) with { MaxFlushTime = TimeSpan.FromSeconds(1) };
        await using var writer = new SegmentWriter(store, new CountingNonceSource(), VolumeId, options);
        writer.Append(new byte[100]);
        clock.Advance(TimeSpan.FromMilliseconds(600));
        writer.Append(new byte[100]);
        Assert.Equal(0, writer.Metrics.Snapshot().FlushesByTime);
        clock.Advance(TimeSpan.FromMilliseconds(400)); // one second after the first byte, not the last
        Assert.Equal(1, writer.Metrics.Snapshot().FlushesByTime);
        await writer.FlushAsync(); // waits for that upload; seals nothing new
        var m = writer.Metrics.Snapshot();
        Assert.Equal(0, m.FlushesExplicit);
        Assert.Equal(1, m.SegmentsWritten);
        Assert.Equal(200, m.DataBytesWritten);

        // The next segment's clock starts at its own first byte.
        clock.Advance(TimeSpan.FromSeconds(10));
        var next = writer.Append(new byte[10]);
        Assert.Equal(2ul, next.Nonce);
        clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal(1, writer.Metrics.Snapshot().FlushesByTime);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(2, writer.Metrics.Snapshot().FlushesByTime);
        await writer.FlushAsync();
        Assert.Equal(2, store.Count);
    }

    [Fact]
    public async Task FlushAsync_returns_when_the_bytes_before_it_are_durable_and_not_before()
    {
        await using var inner = new MemoryObjectStore();
        var store = new ProbeStore(inner);
        await using var writer = new SegmentWriter(store, new CountingNonceSource(), VolumeId, Small());
        writer.Append(new byte[1000]);
        store.Puts.Close();
        var flush = writer.FlushAsync();
        Eventually.True(() => store.PutsWaiting == 1, "the upload reached the store");
        Assert.False(flush.IsCompleted);
        Assert.Equal(0, inner.Count);
        writer.Append(new byte[10]); // after the flush began: not waited for
        store.Puts.Open();
        await flush;
        Assert.Equal(1, inner.Count);
        Assert.Equal(10, writer.BytesWaiting);
        await writer.FlushAsync();
        Assert.Equal(2, inner.Count);
        Assert.Equal(0, writer.BytesWaiting);
        await writer.FlushAsync(); // nothing to do
        Assert.Equal(2, writer.Metrics.Snapshot().FlushesExplicit);
    }

    [Fact]
    public async Task Backpressure_blocks_appends_until_uploads_free_room()
    {
        await using var inner = new MemoryObjectStore();
        var store = new ProbeStore(inner);
        var options = Small() with { MaxDirtyBytes = 512 << 10, MaxConcurrentUploads = 2 };
        await using var writer = new SegmentWriter(store, new CountingNonceSource(), VolumeId, options);
        store.Puts.Close();
        byte[] block = TestBytes.Make(1, 64 << 10);
        for (int i = 0; i < 8; i++)
        {
            writer.Append(block); // 512 KiB: exactly the limit
        }
        Assert.Equal(512 << 10, writer.BytesWaiting);
        var blocked = new Thread(() => writer.Append(block));
        blocked.Start();
        Eventually.True(() => writer.AppendsWaiting == 1, "the ninth append waits for room");
        Assert.True(blocked.IsAlive);
        Assert.Equal(512 << 10, writer.BytesWaiting);
        store.Puts.Open();
        blocked.Join();
        await writer.FlushAsync();
        var m = writer.Metrics.Snapshot();
        Assert.Equal(1, m.BackpressureWaits);
        Assert.Equal(0, m.BytesWaiting);
        Assert.Equal(9L * block.Length, m.DataBytesWritten);
    }

    [Fact]
    public async Task Close_flushes_everything_and_refuses_later_appends()
    {
        await using var store = new MemoryObjectStore();
        var writer = new SegmentWriter(store, new CountingNonceSource(), VolumeId, Small());
        writer.Append(new byte[5000]);
        await writer.CloseAsync();
        Assert.Equal(SegmentWriterState.Closed, writer.State);
        Assert.Equal(1, store.Count);
        Assert.Equal(1, writer.Metrics.Snapshot().FlushesAtShutdown);
        Assert.Throws<ObjectDisposedException>(() => writer.Append(new byte[1]));
        await writer.CloseAsync();
        await writer.DisposeAsync();
        Assert.Equal(1, store.Count);
    }

    [Fact]
    public async Task Concurrent_uploads_stay_within_the_limit()
    {
        await using var inner = new MemoryObjectStore();
        var store = new ProbeStore(inner);
        var options = Small() with { MaxConcurrentUploads = 3, MaxFlushSize = 64 << 10 };
        await using var writer = new SegmentWriter(store, new CountingNonceSource(), VolumeId, options);
        store.Puts.Close();
        for (int i = 0; i < 10; i++)
        {
            writer.Append(new byte[64 << 10]); // each one fills a segment
        }
        Eventually.True(() => store.PutsWaiting == 3, "three uploads in flight");
        Assert.Equal(3, writer.Metrics.Snapshot().UploadsInFlight);
        Assert.Equal(3, store.PutCount);
        store.Puts.Open();
        await writer.FlushAsync();
        Assert.Equal(10, inner.Count);
    }
}
