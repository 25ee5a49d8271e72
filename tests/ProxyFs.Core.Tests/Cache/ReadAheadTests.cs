using ProxyFs.Core.Cache;
using ProxyFs.Core.LogSegments;
using ProxyFs.Core.Tests.LogSegments;
using ProxyFs.ObjectStore.Memory;

namespace ProxyFs.Core.Tests.Cache;

public class ReadAheadTests
{
    private const long MiB = 1 << 20;

    [Fact]
    public void Sequential_reads_open_a_window_that_doubles_up_to_the_maximum()
    {
        var state = new ReadAheadState(new ReadAheadOptions { InitialWindowFromStart = 2 * MiB, MaxWindow = 8 * MiB });
        Assert.Equal(new PrefetchRange(128 << 10, 2 * MiB), state.OnRead(0, 128 << 10)); // a read at the start is sequential
        long offset = 128 << 10;
        var asked = new List<PrefetchRange>();
        while (offset < 64 * MiB)
        {
            var range = state.OnRead(offset, 128 << 10);
            if (!range.IsEmpty)
            {
                asked.Add(range);
            }
            offset += 128 << 10;
        }
        // Each stretch is asked when less than half a window is left ahead, starts where the previous one ended, and
        // reaches one (doubled) window past the reader: 4 MiB, then 8 MiB at most.
        Assert.Equal((2 * MiB) + (128 << 10), asked[0].Offset);
        Assert.Equal((1 * MiB) + (256 << 10) + (4 * MiB), asked[0].End);
        for (int i = 1; i < asked.Count; i++)
        {
            Assert.Equal(asked[i - 1].End, asked[i].Offset);
            Assert.InRange(asked[i].Length, 1, 8 * MiB);
        }
        Assert.Equal(8 * MiB, state.Window);
        long fetchedTo = asked[^1].End;
        Assert.InRange(fetchedTo - offset, 0, 8 * MiB);
    }

    [Fact]
    public void A_file_read_from_its_start_opens_a_larger_first_window_than_reads_that_turn_sequential_later()
    {
        var fromStart = new ReadAheadState();
        Assert.Equal(new PrefetchRange(1 * MiB, 8 * MiB), fromStart.OnRead(0, 1 * MiB));
        Assert.Equal(8 * MiB, fromStart.Window);

        var later = new ReadAheadState();
        Assert.Equal(new PrefetchRange(1 * MiB, 8 * MiB), later.OnRead(0, 1 * MiB));
        Assert.True(later.OnRead(40 * MiB, 1 * MiB).IsEmpty); // random: closed
        Assert.Equal(new PrefetchRange(42 * MiB, 2 * MiB), later.OnRead(41 * MiB, 1 * MiB)); // sequential again, not from the start
        Assert.Throws<ArgumentException>(() => new ReadAheadState(new ReadAheadOptions { InitialWindowFromStart = 128 * MiB }));
    }

    [Fact]
    public void Random_reads_fetch_nothing_and_sequential_reads_start_it_again()
    {
        var state = new ReadAheadState();
        Assert.False(state.OnRead(0, 4096).IsEmpty);
        Assert.True(state.OnRead(50 * MiB, 4096).IsEmpty); // a jump: random
        Assert.Equal(0, state.Window);
        Assert.True(state.OnRead(7 * MiB, 4096).IsEmpty);
        Assert.True(state.OnRead(3 * MiB, 4096).IsEmpty);
        var again = state.OnRead((3 * MiB) + 4096, 4096); // continues the previous read: sequential again
        Assert.Equal(new PrefetchRange((3 * MiB) + 8192, 2 * MiB), again);
    }

    [Fact]
    public void Reads_slightly_out_of_order_still_count_as_sequential()
    {
        var state = new ReadAheadState(new ReadAheadOptions { SequentialSlack = 256 << 10 });
        state.OnRead(0, 128 << 10);
        Assert.True(state.OnRead(256 << 10, 128 << 10).IsEmpty); // arrived before [128K, 256K)
        Assert.True(state.OnRead(128 << 10, 128 << 10).IsEmpty);
        Assert.True(state.Window > 0);
    }

    [Fact]
    public void Whole_size_reads_of_the_kernels_read_ahead_arriving_in_any_order_keep_the_window_open()
    {
        // read_ahead_kb=4096 with 1 MiB READs: up to four in flight, delivered by four FUSE threads in any order.
        var state = new ReadAheadState();
        long[] order = [1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 12, 10, 11, 13, 15, 14, 17, 16, 19, 18, 23, 20, 21, 22];
        var asked = new List<PrefetchRange>();
        foreach (long mib in order)
        {
            var range = state.OnRead(mib * MiB, MiB);
            Assert.True(state.Window > 0, $"the read at {mib} MiB closed the window");
            if (!range.IsEmpty)
            {
                asked.Add(range);
            }
        }
        Assert.Equal(new PrefetchRange(2 * MiB, 8 * MiB), asked[0]); // the first read, 1 MiB from the start, counts as the start
        Assert.True(asked.Count > 1);
        Assert.True(state.Window > 8 * MiB);
        Assert.True(state.OnRead(90 * MiB, MiB).IsEmpty); // a real jump is still random
        Assert.Equal(0, state.Window);
    }

    [Fact]
    public void The_window_never_exceeds_the_room_it_is_given_and_shrinks_when_the_room_does()
    {
        var state = new ReadAheadState(new ReadAheadOptions { InitialWindowFromStart = 8 * MiB, MaxWindow = 64 * MiB });
        Assert.Equal(new PrefetchRange(1 * MiB, 3 * MiB), state.OnRead(0, 1 * MiB, maxWindow: 3 * MiB));
        long offset = 1 * MiB;
        for (; offset < 40 * MiB; offset += MiB)
        {
            var range = state.OnRead(offset, MiB, maxWindow: 3 * MiB);
            Assert.True(range.IsEmpty || range.End - (offset + MiB) <= 3 * MiB, $"{range} reaches past 3 MiB ahead of {offset + MiB}");
        }
        Assert.Equal(3 * MiB, state.Window);
        for (; offset < 200 * MiB; offset += MiB)
        {
            state.OnRead(offset, MiB); // room again: the window grows back to the maximum
        }
        Assert.Equal(64 * MiB, state.Window);
        state.OnRead(offset, MiB, maxWindow: 2 * MiB);
        Assert.Equal(2 * MiB, state.Window);
    }

    [Fact]
    public void The_tracker_keeps_one_state_per_file_and_forgets_the_oldest()
    {
        var tracker = new ReadAheadTracker(new ReadAheadOptions { MaxTrackedFiles = 8 });
        Assert.False(tracker.OnRead(1, 0, 4096).IsEmpty);
        Assert.False(tracker.OnRead(2, 0, 4096).IsEmpty);
        Assert.True(tracker.OnRead(1, 4096, 4096).IsEmpty); // file 1's window is still ahead
        Assert.True(tracker.OnRead(2, 10 * MiB, 4096).IsEmpty); // file 2 jumps: random; file 1 unaffected
        for (ulong f = 10; f < 30; f++)
        {
            tracker.OnRead(f, 0, 1);
        }
        Assert.InRange(tracker.Count, 1, 9);
        tracker.Forget(29);
        Assert.InRange(tracker.Count, 0, 8);
    }

    [Fact]
    public async Task Sequential_reads_of_a_large_segment_fill_later_lines_in_the_background()
    {
        const int LineSize = 64 << 10;
        await using var store = new MemoryObjectStore();
        byte[] data = TestBytes.Make(5, 32 * LineSize);
        var options = SegmentWriterTests.Small() with { MaxFlushSize = data.Length, MaxDirtyBytes = 2L * data.Length };
        await using (var writer = new SegmentWriter(store, new CountingNonceSource(), SegmentWriterTests.VolumeId, options))
        {
            writer.Append(data);
            await writer.FlushAsync();
        }
        var cache = new ReadCache(new ReadCacheOptions { BudgetBytes = 64L * LineSize, LineSize = LineSize });
        using var volume = cache.RegisterVolume("v");
        using var reader = new SegmentReader(store, volume, SegmentWriterTests.VolumeId);
        var tracker = new ReadAheadTracker(new ReadAheadOptions { InitialWindow = 2 * LineSize, InitialWindowFromStart = 2 * LineSize, MaxWindow = 8 * LineSize });

        byte[] back = new byte[16 << 10];
        for (long offset = 0; offset < data.Length; offset += back.Length)
        {
            var ahead = tracker.OnRead(1, offset, back.Length);
            reader.Read(1, offset, back);
            Assert.True(data.AsSpan((int)offset, back.Length).SequenceEqual(back));
            if (!ahead.IsEmpty)
            {
                reader.Prefetch(1, ahead.Offset, ahead.Length); // the file is the segment here: file offset = segment offset
            }
        }
        Eventually.True(() => cache.PrefetchInFlight == 0, "read-ahead finished");
        var m = cache.Snapshot().Volumes.Single();
        Assert.Equal(1, m.Misses); // only the first line was read on demand
        Assert.Equal(31L * LineSize, m.ReadAheadBytesFetched);
        Assert.Equal(31L * LineSize, m.ReadAheadBytesUsed);
        Assert.Equal(32L * LineSize, m.BytesFetched);
        Assert.Equal(0, m.ReadAheadErrors);
    }

    [Fact]
    public async Task A_sequential_read_in_a_share_whose_protected_lines_are_full_wastes_no_read_ahead()
    {
        // 16 lines of share, 12 of them protected (re-used lines of another segment): probation has 4 lines. A window of
        // 8 lines would evict lines read ahead before the reader gets to them; the room the cache gives keeps it smaller.
        const int LineSize = 64 << 10;
        await using var store = new MemoryObjectStore();
        byte[] hot = TestBytes.Make(9, 12 * LineSize);
        byte[] data = TestBytes.Make(10, 64 * LineSize);
        var options = SegmentWriterTests.Small() with { MaxFlushSize = data.Length, MaxDirtyBytes = 2L * data.Length };
        await using (var writer = new SegmentWriter(store, new CountingNonceSource(), SegmentWriterTests.VolumeId, options))
        {
            writer.Append(hot);
            await writer.FlushAsync();
            writer.Append(data);
            await writer.FlushAsync();
        }
        var cache = new ReadCache(new ReadCacheOptions { BudgetBytes = 16L * LineSize, LineSize = LineSize });
        using var volume = cache.RegisterVolume("v");
        using var reader = new SegmentReader(store, volume, SegmentWriterTests.VolumeId);
        byte[] back = new byte[16 << 10];
        for (int round = 0; round < 2; round++)
        {
            for (int line = 0; line < 12; line++)
            {
                reader.Read(1, ((long)line * LineSize) + 100, back); // read twice: re-used
            }
        }
        for (int line = 0; line < 16; line++)
        {
            reader.Read(2, (long)line * LineSize, back); // pushes the re-used lines into protected
        }
        Assert.Equal(12L * LineSize, cache.Snapshot().Volumes.Single().ProtectedBytes);
        Assert.Equal(2L * LineSize, volume.ReadAheadRoom);

        var tracker = new ReadAheadTracker(new ReadAheadOptions { InitialWindow = 8 * LineSize, InitialWindowFromStart = 8 * LineSize, MaxWindow = 8 * LineSize });
        var before = cache.Snapshot().Volumes.Single();
        for (long offset = 16L * LineSize; offset < data.Length; offset += back.Length)
        {
            var ahead = tracker.OnRead(1, offset, back.Length, volume.ReadAheadRoom);
            reader.Read(2, offset, back);
            Assert.True(data.AsSpan((int)offset, back.Length).SequenceEqual(back));
            if (!ahead.IsEmpty)
            {
                reader.Prefetch(2, ahead.Offset, ahead.Length);
            }
            Eventually.True(() => cache.PrefetchInFlight == 0, "read-ahead finished"); // a reader slower than its read-ahead
        }
        var m = cache.Snapshot().Volumes.Single();
        Assert.Equal(0, m.ReadAheadBytesWasted);
        Assert.True(m.ReadAheadBytesUsed - before.ReadAheadBytesUsed >= 40L * LineSize, $"read ahead and used: {m.ReadAheadBytesUsed - before.ReadAheadBytesUsed}");
        Assert.Equal(12L * LineSize, m.ProtectedBytes); // the scan kept its hands off the protected lines
    }

    [Fact]
    public async Task Random_reads_of_a_segment_fetch_nothing_ahead()
    {
        const int LineSize = 64 << 10;
        await using var store = new MemoryObjectStore();
        byte[] data = TestBytes.Make(6, 32 * LineSize);
        var options = SegmentWriterTests.Small() with { MaxFlushSize = data.Length, MaxDirtyBytes = 2L * data.Length };
        await using (var writer = new SegmentWriter(store, new CountingNonceSource(), SegmentWriterTests.VolumeId, options))
        {
            writer.Append(data);
            await writer.FlushAsync();
        }
        var cache = new ReadCache(new ReadCacheOptions { BudgetBytes = 64L * LineSize, LineSize = LineSize });
        using var volume = cache.RegisterVolume("v");
        using var reader = new SegmentReader(store, volume, SegmentWriterTests.VolumeId);
        var tracker = new ReadAheadTracker();
        var random = new Random(3);
        byte[] back = new byte[4096];
        for (int i = 0; i < 200; i++)
        {
            long offset = 4096L * random.Next(1, (data.Length / 4096) - 1);
            var ahead = tracker.OnRead(1, offset, back.Length);
            if (!ahead.IsEmpty)
            {
                reader.Prefetch(1, ahead.Offset, ahead.Length);
            }
            reader.Read(1, offset, back);
            Assert.True(data.AsSpan((int)offset, back.Length).SequenceEqual(back));
        }
        Eventually.True(() => cache.PrefetchInFlight == 0, "read-ahead finished");
        var m = cache.Snapshot().Volumes.Single();
        Assert.True(m.ReadAheadBytesFetched <= 2L * 2 * (1 << 20), $"read-ahead fetched {m.ReadAheadBytesFetched}"); // at most a stray pair of adjacent reads
        Assert.Equal(m.BytesFetched - m.ReadAheadBytesFetched, (long)m.Misses * LineSize);
    }

    [Fact]
    public async Task Prefetch_never_waits_for_the_store_and_a_read_of_another_line_is_not_held_by_it()
    {
        const int LineSize = 64 << 10;
        await using var inner = new MemoryObjectStore();
        byte[] data = TestBytes.Make(8, 8 * LineSize);
        var options = SegmentWriterTests.Small() with { MaxFlushSize = data.Length, MaxDirtyBytes = 2L * data.Length };
        await using (var writer = new SegmentWriter(inner, new CountingNonceSource(), SegmentWriterTests.VolumeId, options))
        {
            writer.Append(data);
            await writer.FlushAsync();
        }
        var store = new ProbeStore(inner);
        var cache = new ReadCache(new ReadCacheOptions { BudgetBytes = 64L * LineSize, LineSize = LineSize });
        using var volume = cache.RegisterVolume("v");
        using var reader = new SegmentReader(store, volume, SegmentWriterTests.VolumeId);
        byte[] back = new byte[100];
        reader.Read(1, 0, back); // footer known, line 0 cached
        store.Gets.Close();
        reader.Prefetch(1, LineSize, 4 * LineSize); // returns although every GET is held
        Eventually.True(() => store.GetsWaiting == 1, "one ranged GET for the four read-ahead lines waits at the store");
        reader.Read(1, 10, back); // a cached line: served at once
        Assert.Equal(data.AsSpan(10, 100).ToArray(), back);
        store.Gets.Open();
        Eventually.True(() => cache.PrefetchInFlight == 0, "read-ahead finished");
        reader.Read(1, (4 * LineSize) + 5, back);
        Assert.Equal(data.AsSpan((4 * LineSize) + 5, 100).ToArray(), back);
        var m = cache.Snapshot().Volumes.Single();
        Assert.Equal(4L * LineSize, m.ReadAheadBytesFetched);
        Assert.Equal(1, m.Misses);
        Assert.Equal(2, reader.Metrics.LineGets); // line 0 on demand, lines 1-4 in one request
    }
}
