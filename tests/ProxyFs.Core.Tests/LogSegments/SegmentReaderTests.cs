using ProxyFs.Core.LogSegments;
using ProxyFs.ObjectStore;
using ProxyFs.ObjectStore.Decorators;
using ProxyFs.ObjectStore.Memory;

namespace ProxyFs.Core.Tests.LogSegments;

public class SegmentReaderTests
{
    private static readonly byte[] VolumeId = SegmentWriterTests.VolumeId;

    // One segment of `length` bytes (nonce 1) in `store`; returns its bytes.
    private static async Task<byte[]> WriteSegmentAsync(IObjectStore store, int length, int blockSize = 4096)
    {
        byte[] data = TestBytes.Make(length, length);
        var options = SegmentWriterTests.Small() with { MaxFlushSize = Math.Max(length, 4096), BlockSize = blockSize, MaxDirtyBytes = 2L * Math.Max(length, 4096) };
        await using var writer = new SegmentWriter(store, new CountingNonceSource(), VolumeId, options);
        writer.Append(data);
        await writer.FlushAsync();
        return data;
    }

    private static async Task CorruptAsync(MemoryObjectStore store, string key, long position)
    {
        byte[] bytes = await store.GetBytesAsync(key);
        bytes[position] ^= 0x10;
        await store.PutAsync(key, bytes);
    }

    [Fact]
    public async Task A_corrupted_block_is_reported_with_its_segment_and_block_and_other_lines_still_read()
    {
        await using var store = new MemoryObjectStore();
        byte[] data = await WriteSegmentAsync(store, 200_000);
        int h = SegmentFormat.HeaderLength(VolumeId.Length);
        await CorruptAsync(store, "segments/01/0000000000000001", h + 70_000); // block 17 (4 KiB blocks), line 1 (64 KiB lines)
        var (_, cache) = SegmentWriterTests.NewCache();
        using var reader = new SegmentReader(store, cache, VolumeId);

        byte[] back = new byte[100];
        var e = Assert.Throws<SegmentCorruptException>(() => reader.Read(1, 69_950, back));
        Assert.Equal(17, e.Block);
        Assert.Equal(1ul, e.Nonce);
        Assert.Equal("segments/01/0000000000000001", e.Key);
        Assert.Contains("data block 17", e.Message, StringComparison.Ordinal);
        Assert.Contains("memory://", e.Message, StringComparison.Ordinal);
        Assert.All(back, b => Assert.Equal(0, b)); // nothing of the damaged line reached the caller
        Assert.Equal(1, reader.Metrics.CorruptSegmentErrors);
        Assert.Equal(2, reader.Metrics.ChecksumMismatches); // read twice before giving up
        Assert.False(cache.Contains(new ProxyFs.Core.Cache.LineKey(1, 1)));

        // The same read fails again (nothing wrong was cached); lines 0 and 2 are fine.
        Assert.Throws<SegmentCorruptException>(() => reader.Read(1, 65_536, new byte[10]));
        reader.Read(1, 0, back);
        Assert.Equal(data.AsSpan(0, 100).ToArray(), back);
        reader.Read(1, 140_000, back);
        Assert.Equal(data.AsSpan(140_000, 100).ToArray(), back);
    }

    [Fact]
    public async Task A_damaged_footer_is_reported_and_no_bytes_are_served()
    {
        await using var store = new MemoryObjectStore();
        await WriteSegmentAsync(store, 10_000);
        var info = await store.HeadAsync("segments/01/0000000000000001");
        await CorruptAsync(store, "segments/01/0000000000000001", info.Size - 30); // inside the footer's CRC list
        var (_, cache) = SegmentWriterTests.NewCache();
        using var reader = new SegmentReader(store, cache, VolumeId);
        var e = Assert.Throws<SegmentCorruptException>(() => reader.Read(1, 0, new byte[10]));
        Assert.Equal(-1, e.Block);
        Assert.Contains("damaged footer", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Torn_transfers_are_read_again_and_never_returned()
    {
        await using var inner = new MemoryObjectStore();
        byte[] data = await WriteSegmentAsync(inner, 1 << 20);
        var plan = new FaultPlan(seed: 11) { TornReadRate = 0.3 };
        var store = new FaultInjectingObjectStore(inner, plan);
        var (_, cache) = SegmentWriterTests.NewCache(budget: 64 << 10);
        using var reader = new SegmentReader(store, cache, VolumeId, options: new SegmentReaderOptions { ChecksumRetries = 20 });
        byte[] back = new byte[4096];
        var random = new Random(1);
        for (int i = 0; i < 200; i++)
        {
            int offset = random.Next(0, data.Length - back.Length);
            reader.Read(1, offset, back);
            Assert.True(data.AsSpan(offset, back.Length).SequenceEqual(back), $"wrong bytes at {offset}");
        }
        Assert.True(plan.InjectedFaults > 0);
        Assert.True(reader.Metrics.ChecksumMismatches > 0);
        Assert.Equal(0, reader.Metrics.CorruptSegmentErrors);
    }

    [Fact]
    public async Task A_read_past_the_data_is_refused()
    {
        await using var store = new MemoryObjectStore();
        await WriteSegmentAsync(store, 10_000);
        var (_, cache) = SegmentWriterTests.NewCache();
        using var reader = new SegmentReader(store, cache, VolumeId);
        var e = Assert.Throws<SegmentReadException>(() => reader.Read(1, 9_990, new byte[20]));
        Assert.Contains("has 10000 data bytes", e.Message, StringComparison.Ordinal);
        Assert.Throws<SegmentReadException>(() => reader.Read(1, 70_000, new byte[20])); // a line that does not exist
    }

    [Fact]
    public async Task A_segment_of_another_volume_is_refused()
    {
        await using var store = new MemoryObjectStore();
        await WriteSegmentAsync(store, 10_000);
        var (_, cache) = SegmentWriterTests.NewCache();
        using var reader = new SegmentReader(store, cache, "volume-0002"u8);
        var e = Assert.Throws<SegmentCorruptException>(() => reader.Read(1, 0, new byte[20]));
        Assert.Contains("not segment 0x0000000000000001 of this volume", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_segment_is_a_store_error_naming_the_key()
    {
        await using var store = new MemoryObjectStore();
        var (_, cache) = SegmentWriterTests.NewCache();
        using var reader = new SegmentReader(store, cache, VolumeId);
        var e = Assert.Throws<ObjectStoreException>(() => reader.Read(5, 0, new byte[20]));
        Assert.Equal(ObjectStoreErrorKind.NotFound, e.Kind);
        Assert.Contains("segments/05/0000000000000005", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_first_read_fetches_footer_and_line_at_once_and_the_footer_only_once()
    {
        await using var inner = new MemoryObjectStore();
        byte[] data = await WriteSegmentAsync(inner, 300_000);
        var store = new ProbeStore(inner);
        var (_, cache) = SegmentWriterTests.NewCache();
        using var reader = new SegmentReader(store, cache, VolumeId);
        store.Gets.Close();
        byte[] back = new byte[1000];
        var first = Task.Run(() => reader.Read(1, 10, back));
        Eventually.True(() => store.GetsWaiting == 2, "footer and line requested together");
        store.Gets.Open();
        await first;
        Assert.Equal(data.AsSpan(10, 1000).ToArray(), back);
        var threads = Enumerable.Range(0, 8).Select(i => Task.Run(() =>
        {
            byte[] b = new byte[1000];
            reader.Read(1, 70_000 * (i % 4), b);
            Assert.Equal(data.AsSpan(70_000 * (i % 4), 1000).ToArray(), b);
        })).ToArray();
        await Task.WhenAll(threads);
        Assert.Equal(1, reader.Metrics.FooterGets);
        Assert.Equal(1, reader.Metrics.FootersFetched);
        Assert.Equal(4, reader.Metrics.LineGets); // lines 0, 1, 2, 3: one GET each
    }

    [Fact]
    public async Task The_writer_hands_over_footers_so_reads_after_upload_need_no_footer_GET()
    {
        await using var inner = new MemoryObjectStore();
        var store = new ProbeStore(inner);
        await using var writer = new SegmentWriter(store, new CountingNonceSource(), VolumeId, SegmentWriterTests.Small());
        var (_, cache) = SegmentWriterTests.NewCache();
        using var reader = new SegmentReader(store, cache, VolumeId, writer);
        byte[] data = TestBytes.Make(3, 100_000);
        var where = writer.Append(data);
        await writer.FlushAsync();
        SegmentWriterTests.AssertReadsBack(reader, [(where, data)]);
        Assert.Equal(0, reader.Metrics.FooterGets);
        Assert.Equal(2, reader.Metrics.LineGets);
        Assert.Equal(2, store.GetCount);
    }

    [Fact]
    public async Task Read_ahead_of_a_segment_whose_footer_is_unknown_asks_for_footer_and_lines_at_once_and_checks_every_line()
    {
        await using var inner = new MemoryObjectStore();
        byte[] data = await WriteSegmentAsync(inner, 300_000); // 5 lines of 64 KiB, the last one short
        int h = SegmentFormat.HeaderLength(VolumeId.Length);
        await CorruptAsync(inner, "segments/01/0000000000000001", h + 140_000); // line 2
        var store = new ProbeStore(inner);
        var (cache, volume) = SegmentWriterTests.NewCache();
        using var reader = new SegmentReader(store, volume, VolumeId);
        store.Gets.Close();
        reader.Prefetch(1, 0, data.Length);
        Eventually.True(() => store.GetsWaiting == 2, "the footer and the run of lines requested together");
        Assert.Contains(store.GetLog, g => g.Range.IsSuffix);
        Assert.Contains(store.GetLog, g => !g.Range.IsSuffix && g.Range.Offset == h && g.Range.Length == 5L * (64 << 10));
        store.Gets.Open();
        Eventually.True(() => cache.PrefetchInFlight == 0, "read-ahead finished");

        // Lines 0 and 1 came from the one GET and passed their CRCs; line 2 failed them (also when read again alone), so
        // it and the lines after it were not cached by read-ahead; the reader gets the error, and lines 3 and 4 read fine.
        Assert.True(volume.Contains(new ProxyFs.Core.Cache.LineKey(1, 0)));
        Assert.True(volume.Contains(new ProxyFs.Core.Cache.LineKey(1, 1)));
        Assert.False(volume.Contains(new ProxyFs.Core.Cache.LineKey(1, 2)));
        Assert.Equal(1, cache.Snapshot().Volumes[0].ReadAheadErrors);
        Assert.Equal(data.AsSpan(0, 1000).ToArray(), ReadBack(reader, 0, 1000));
        Assert.Throws<SegmentCorruptException>(() => reader.Read(1, 140_000, new byte[10]));
        Assert.Equal(data.AsSpan(3 * (64 << 10)).ToArray(), ReadBack(reader, 3 * (64 << 10), data.Length - (3 * (64 << 10))));
        Assert.Equal(1, reader.Metrics.FooterGets);
    }

    [Theory]
    [InlineData(4096)] // the block size the segment was written with
    [InlineData(1024)] // a guess too small: a footer of more CRCs is asked for; the range ends at the object's end
    [InlineData(65536)] // a guess too large: the footer is longer than that guess, within the range's slack
    public async Task Read_ahead_of_a_segments_last_lines_with_its_data_length_takes_the_footer_in_the_same_GET(int blockSize)
    {
        await using var inner = new MemoryObjectStore();
        byte[] data = await WriteSegmentAsync(inner, 300_000); // 5 lines of 64 KiB, the last one short; 4 KiB blocks
        int h = SegmentFormat.HeaderLength(VolumeId.Length);
        var store = new ProbeStore(inner);
        var (cache, volume) = SegmentWriterTests.NewCache();
        using var reader = new SegmentReader(store, volume, VolumeId, options: new SegmentReaderOptions { BlockSize = blockSize });
        reader.Prefetch(1, 0, data.Length, dataLength: data.Length);
        Eventually.True(() => cache.PrefetchInFlight == 0, "read-ahead finished");

        var get = Assert.Single(store.GetLog);
        Assert.Equal(h, get.Range.Offset);
        Assert.True(get.Range.Length >= data.Length + SegmentFormat.FooterLength(data.Length, 4096) + SegmentFormat.TrailerLength, $"range of {get.Range.Length} bytes");
        Assert.Equal(0, reader.Metrics.FooterGets);
        Assert.Equal(1, reader.Metrics.FootersFetched);
        Assert.True(reader.HasFooter(1));
        for (long line = 0; line < 5; line++)
        {
            Assert.True(volume.Contains(new ProxyFs.Core.Cache.LineKey(1, line)), $"line {line}");
        }
        Assert.Equal(data, ReadBack(reader, 0, data.Length));
        Assert.Single(store.GetLog); // every line and the footer came with that one GET
    }

    [Theory]
    [InlineData(250_000)] // an older, shorter record of the segment: the bytes after the lines are data, not the footer
    [InlineData(299_000)]
    public async Task A_wrong_data_length_still_reads_right_with_the_footer_fetched_on_its_own(int dataLength)
    {
        const int blockSize = 4096;
        await using var inner = new MemoryObjectStore();
        byte[] data = await WriteSegmentAsync(inner, 300_000);
        var store = new ProbeStore(inner);
        var (cache, volume) = SegmentWriterTests.NewCache();
        using var reader = new SegmentReader(store, volume, VolumeId, options: new SegmentReaderOptions { BlockSize = blockSize });
        reader.Prefetch(1, 3 * (64 << 10), dataLength - (3 * (64 << 10)), dataLength);
        Eventually.True(() => cache.PrefetchInFlight == 0, "read-ahead finished");
        Assert.Equal(1, reader.Metrics.FooterGets);
        Assert.Equal(0, cache.Snapshot().Volumes[0].ReadAheadErrors);
        Assert.True(volume.Contains(new ProxyFs.Core.Cache.LineKey(1, 3)));
        Assert.Equal(data, ReadBack(reader, 0, data.Length));
        Assert.Equal(0, reader.Metrics.CorruptSegmentErrors);
    }

    [Fact]
    public async Task A_damaged_footer_in_the_combined_GET_is_fetched_again_on_its_own_and_the_lines_are_still_checked()
    {
        await using var inner = new MemoryObjectStore();
        byte[] data = await WriteSegmentAsync(inner, 300_000);
        int h = SegmentFormat.HeaderLength(VolumeId.Length);
        await CorruptAsync(inner, "segments/01/0000000000000001", h + 140_000); // line 2's data
        var store = new ProbeStore(inner);
        var (cache, volume) = SegmentWriterTests.NewCache();
        using var reader = new SegmentReader(store, volume, VolumeId, options: new SegmentReaderOptions { BlockSize = 4096 });
        reader.Prefetch(1, 0, data.Length, data.Length);
        Eventually.True(() => cache.PrefetchInFlight == 0, "read-ahead finished");
        // The footer came with the lines; line 2 failed its CRC, so it and the lines after it were not cached.
        Assert.Equal(0, reader.Metrics.FooterGets);
        Assert.True(volume.Contains(new ProxyFs.Core.Cache.LineKey(1, 1)));
        Assert.False(volume.Contains(new ProxyFs.Core.Cache.LineKey(1, 2)));
        Assert.Throws<SegmentCorruptException>(() => reader.Read(1, 140_000, new byte[10]));
    }

    private static byte[] ReadBack(SegmentReader reader, long offset, int length)
    {
        byte[] back = new byte[length];
        reader.Read(1, offset, back);
        return back;
    }
}
