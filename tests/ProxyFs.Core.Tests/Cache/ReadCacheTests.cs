using ProxyFs.Core.Cache;
using ProxyFs.Core.Tests.LogSegments;

namespace ProxyFs.Core.Tests.Cache;

public class ReadCacheTests
{
    private const int Line = 4096;

    private static ReadCache NewCache(int lines, int maxPrefetch = 16) =>
        new(new ReadCacheOptions { BudgetBytes = (long)lines * Line, LineSize = Line, MaxPrefetchInFlight = maxPrefetch });

    [Fact]
    public void Concurrent_misses_on_one_line_make_one_fill_and_other_lines_are_not_blocked()
    {
        var cache = NewCache(64);
        using var volume = cache.RegisterVolume("v");
        var source = new FakeLineSource { HeldSegment = 1 };
        source.Gate.Close();
        var readers = Enumerable.Range(0, 16).Select(i => new Thread(() => source.ReadAndCheck(volume, 1, 0, i * 100, 100))).ToArray();
        foreach (var r in readers)
        {
            r.Start();
        }
        Eventually.True(() => readers.All(r => r.ThreadState.HasFlag(ThreadState.WaitSleepJoin)), "every reader waits for the line");
        source.ReadAndCheck(volume, 2, 0, 0, 100); // another line: served while line 0 of segment 1 is still being filled
        Assert.All(readers, r => Assert.True(r.IsAlive));
        source.Gate.Open();
        foreach (var r in readers)
        {
            r.Join();
        }
        Assert.Equal(1, source.FillsOf(1, 0));
        var m = cache.Snapshot().Volumes.Single();
        Assert.Equal(2, m.Misses);
        Assert.Equal(15, m.Hits + m.JoinedFills);
    }

    [Fact]
    public void A_failed_fill_reaches_every_waiting_reader_and_nothing_is_cached()
    {
        var cache = NewCache(64);
        using var volume = cache.RegisterVolume("v");
        var source = new FakeLineSource { HeldSegment = 1, FailingSegment = 1 };
        source.Gate.Close();
        var errors = new Exception?[4];
        var readers = Enumerable.Range(0, 4).Select(i => new Thread(() => errors[i] = Record.Exception(() => source.ReadAndCheck(volume, 1, 0, 0, 10)))).ToArray();
        foreach (var r in readers)
        {
            r.Start();
        }
        Eventually.True(() => readers.All(r => r.ThreadState.HasFlag(ThreadState.WaitSleepJoin)), "every reader waits for the line");
        source.Gate.Open();
        foreach (var r in readers)
        {
            r.Join();
        }
        Assert.All(errors, e => Assert.Contains("injected failure of segment 1 line 0", Assert.IsType<IOException>(e).Message, StringComparison.Ordinal));
        Assert.False(volume.Contains(new LineKey(1, 0)));
        source.FailingSegment = null;
        source.ReadAndCheck(volume, 1, 0, 0, 10);
        Assert.True(volume.Contains(new LineKey(1, 0)));
        Assert.True(source.FillsOf(1, 0) >= 2);
    }

    [Theory]
    [InlineData(1024)] // four reads per line, each starting where the previous ended
    [InlineData(Line)] // one read per line
    public void A_hot_set_survives_a_long_sequential_scan(int readSize)
    {
        var cache = NewCache(64);
        using var volume = cache.RegisterVolume("v");
        var source = new FakeLineSource();
        for (int round = 0; round < 2; round++)
        {
            for (int line = 0; line < 16; line++)
            {
                source.ReadAndCheck(volume, 1, line, 100, 200); // re-read: the second round marks the lines re-used
            }
        }
        for (int line = 0; line < 10_000; line++)
        {
            for (int offset = 0; offset < Line; offset += readSize)
            {
                source.ReadAndCheck(volume, 2, line, offset, readSize);
            }
        }
        for (int line = 0; line < 16; line++)
        {
            source.ReadAndCheck(volume, 1, line, 100, 200);
            Assert.Equal(1, source.FillsOf(1, line));
        }
        Assert.True(volume.OccupancyBytes <= volume.ShareBytes);
        var m = cache.Snapshot().Volumes.Single();
        Assert.Equal(16, m.Promotions);
        Assert.Equal(10_000 + 16, m.Misses);
        Assert.Equal(16 * Line, m.ProtectedBytes);
    }

    [Fact]
    public void A_sequential_pass_delivered_out_of_order_promotes_nothing()
    {
        // The kernel's read-ahead READs reach the daemon on several threads and in any order: here each pair of adjacent
        // reads arrives swapped. Their boundaries fall inside sub-blocks (1000-byte reads, 64-byte sub-blocks), so the
        // later read of a pair touches a sub-block the earlier one touched without starting where it ended; it reads
        // nothing again, and a pass like this must only cycle through probation.
        var cache = NewCache(64);
        using var volume = cache.RegisterVolume("v");
        var source = new FakeLineSource();
        (int Offset, int Length)[] order = [(1000, 1000), (0, 1000), (3000, 1000), (2000, 1000), (4000, Line - 4000)];
        for (int line = 0; line < 2000; line++)
        {
            foreach (var (offset, length) in order)
            {
                source.ReadAndCheck(volume, 1, line, offset, length);
            }
        }
        var m = cache.Snapshot().Volumes.Single();
        Assert.Equal(0, m.Promotions);
        Assert.Equal(0, m.ProtectedBytes);
        Assert.Equal(2000, m.Misses);

        // A read of bytes read before still counts, however the reads around it arrived.
        source.ReadAndCheck(volume, 1, 1999, 500, 1000);
        for (int line = 0; line < 64; line++)
        {
            source.ReadAndCheck(volume, 2, line, 0, Line);
        }
        Assert.Equal(1, cache.Snapshot().Volumes.Single().Promotions);
        Assert.True(volume.Contains(new LineKey(1, 1999)));
    }

    [Fact]
    public void A_scan_does_flush_lines_that_were_used_only_once()
    {
        // The counterpart: lines read once are not protected, so the scan replaces them.
        var cache = NewCache(64);
        using var volume = cache.RegisterVolume("v");
        var source = new FakeLineSource();
        for (int line = 0; line < 16; line++)
        {
            source.ReadAndCheck(volume, 1, line, 0, 100);
        }
        for (int line = 0; line < 1000; line++)
        {
            source.ReadAndCheck(volume, 2, line, 0, Line);
        }
        Assert.All(Enumerable.Range(0, 16), line => Assert.False(volume.Contains(new LineKey(1, line))));
    }

    [Fact]
    public void Volumes_share_the_budget_by_weight_and_rebalance_when_one_joins_or_leaves()
    {
        var cache = NewCache(400);
        using var a = cache.RegisterVolume("a", 3);
        using var b = cache.RegisterVolume("b", 1);
        Assert.Equal(300L * Line, a.ShareBytes);
        Assert.Equal(100L * Line, b.ShareBytes);
        var source = new FakeLineSource();

        void Load(params ReadCacheVolume[] volumes)
        {
            var threads = volumes.SelectMany((v, vi) => Enumerable.Range(0, 2).Select(t => new Thread(() =>
            {
                var random = new Random((vi * 10) + t);
                for (int i = 0; i < 3000; i++)
                {
                    source.ReadAndCheck(v, (ulong)random.Next(1, 9), random.Next(0, 1000), 0, 64);
                }
            }))).ToArray();
            foreach (var t in threads)
            {
                t.Start();
            }
            foreach (var t in threads)
            {
                t.Join();
            }
        }

        Load(a, b);
        AssertRatio(a, b, 3.0);

        var c = cache.RegisterVolume("c", 4); // shares become 150 : 50 : 200 lines, and a and b shrink at once
        Assert.Equal(150L * Line, a.ShareBytes);
        Assert.Equal(50L * Line, b.ShareBytes);
        Assert.Equal(200L * Line, c.ShareBytes);
        Assert.True(a.OccupancyBytes <= a.ShareBytes);
        Assert.True(b.OccupancyBytes <= b.ShareBytes);
        Load(a, b, c);
        AssertRatio(c, b, 4.0);
        AssertRatio(a, b, 3.0);
        Assert.True(cache.Snapshot().OccupancyBytes <= cache.BudgetBytes);

        c.Dispose();
        Assert.Equal(300L * Line, a.ShareBytes);
        Assert.Equal(100L * Line, b.ShareBytes);
        Assert.Equal(2, cache.Volumes.Count);
        Load(a, b);
        AssertRatio(a, b, 3.0);

        a.SetWeight(1);
        Assert.Equal(200L * Line, a.ShareBytes);
        Assert.Equal(200L * Line, a.OccupancyBytes);
    }

    private static void AssertRatio(ReadCacheVolume big, ReadCacheVolume small, double expected)
    {
        double ratio = (double)big.OccupancyBytes / small.OccupancyBytes;
        Assert.InRange(ratio, expected * 0.9, expected * 1.1);
        Assert.True(big.OccupancyBytes <= big.ShareBytes && small.OccupancyBytes <= small.ShareBytes);
    }

    [Fact]
    public void Eviction_under_concurrent_readers_never_serves_wrong_bytes()
    {
        var cache = NewCache(50);
        using var volume = cache.RegisterVolume("v");
        var source = new FakeLineSource();
        var threads = Enumerable.Range(0, 8).Select(t => new Thread(() =>
        {
            var random = new Random(t);
            for (int i = 0; i < 20_000; i++)
            {
                // A skewed load: a small hot range and a long tail.
                long line = random.Next(0, 4) == 0 ? random.Next(0, 2000) : random.Next(0, 30);
                int offset = random.Next(0, Line - 512);
                source.ReadAndCheck(volume, (ulong)(line % 8), line, offset, random.Next(1, 512));
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
        var m = cache.Snapshot().Volumes.Single();
        Assert.True(m.OccupancyBytes <= m.ShareBytes);
        Assert.True(m.Evictions > 0);
        Assert.True(m.HitRatio > 0.5, $"hit ratio {m.HitRatio}");
        Assert.Equal(m.Lines, (int)(m.OccupancyBytes / Line));
    }

    [Fact]
    public async Task Prefetch_returns_at_once_and_a_reader_joins_the_fill_it_started()
    {
        var cache = NewCache(64, maxPrefetch: 2);
        using var volume = cache.RegisterVolume("v");
        var source = new FakeLineSource { HeldSegment = 1 };
        source.Gate.Close();
        Assert.True(volume.Prefetch(new LineKey(1, 0), source)); // returns although the fill is held
        Assert.True(volume.Prefetch(new LineKey(1, 1), source));
        Assert.False(volume.Prefetch(new LineKey(1, 2), source)); // over MaxPrefetchInFlight: waits for a permit
        Assert.Equal(1, cache.PendingPrefetchLines);
        Assert.False(volume.Prefetch(new LineKey(1, 0), source)); // already being filled
        Eventually.True(() => source.Fills == 2, "both fills started");
        Assert.Equal(2, source.Fills); // the third waits
        var reader = Task.Run(() => source.ReadAndCheck(volume, 1, 0, 0, 100));
        source.Gate.Open();
        await reader;
        Eventually.True(() => cache.PrefetchInFlight == 0 && cache.PendingPrefetchLines == 0, "read-ahead finished");
        Assert.Equal(1, source.FillsOf(1, 0));
        Assert.Equal(1, source.FillsOf(1, 2)); // started once a permit came back
        var m = cache.Snapshot().Volumes.Single();
        Assert.Equal(3L * Line, m.ReadAheadBytesFetched);
        Assert.Equal(Line, m.ReadAheadBytesUsed);
        Assert.Equal(0, m.ReadAheadDropped);
        Assert.Equal(0, m.Misses);
    }

    [Fact]
    public void A_failed_read_ahead_is_counted_and_the_reader_fills_the_line_itself()
    {
        var cache = NewCache(64);
        using var volume = cache.RegisterVolume("v");
        var source = new FakeLineSource { FailingSegment = 1 };
        Assert.True(volume.Prefetch(new LineKey(1, 0), source));
        Eventually.True(() => cache.PrefetchInFlight == 0, "read-ahead finished");
        Assert.Equal(1, cache.Snapshot().Volumes.Single().ReadAheadErrors);
        Assert.NotNull(volume.Metrics.LastReadAheadError);
        source.FailingSegment = null;
        source.ReadAndCheck(volume, 1, 0, 0, 10);
        Assert.Equal(2, source.FillsOf(1, 0));
    }

    [Fact]
    public void Read_ahead_fetches_each_run_of_missing_lines_with_one_request()
    {
        var cache = new ReadCache(new ReadCacheOptions { BudgetBytes = 64L * Line, LineSize = Line, MaxPrefetchInFlight = 32, PrefetchLinesPerRequest = 8 });
        using var volume = cache.RegisterVolume("v");
        var source = new FakeLineSource();
        source.ReadAndCheck(volume, 1, 10, 0, 10); // line 10 is cached already
        Assert.Equal(19, volume.Prefetch(1, 0, 20, source));
        Eventually.True(() => cache.PrefetchInFlight == 0, "read-ahead finished");
        Assert.Equal([(1UL, 0L, 8), (1UL, 8L, 2), (1UL, 11L, 8), (1UL, 19L, 1)], source.Runs.OrderBy(r => r.First));
        for (long line = 0; line < 20; line++)
        {
            Assert.True(volume.Contains(new LineKey(1, line)));
            source.ReadAndCheck(volume, 1, line, 0, Line);
        }
        var m = cache.Snapshot().Volumes.Single();
        Assert.Equal(19L * Line, m.ReadAheadBytesFetched);
        Assert.Equal(1, m.Misses);
    }

    [Fact]
    public void A_run_that_waited_for_permits_starts_whole_when_they_are_back_not_one_line_per_permit()
    {
        var cache = new ReadCache(new ReadCacheOptions { BudgetBytes = 64L * Line, LineSize = Line, MaxPrefetchInFlight = 8, PrefetchLinesPerRequest = 4 });
        using var volume = cache.RegisterVolume("v");
        var source = new FakeLineSource { HeldSegment = 1 };
        source.Gate.Close();
        Assert.Equal(8, volume.Prefetch(1, 0, 8, source)); // every permit
        Assert.Equal(0, volume.Prefetch(2, 0, 4, source)); // waits: permits come back one line at a time
        Assert.Equal(4, cache.PendingPrefetchLines);
        Assert.Equal(0, volume.Prefetch(3, 0, 2, source)); // after it, in order
        source.Gate.Open();
        Eventually.True(() => cache.PrefetchInFlight == 0 && cache.PendingPrefetchLines == 0, "read-ahead finished");
        Assert.Equal([(2UL, 0L, 4)], source.Runs.Where(r => r.Segment == 2));
        Assert.Equal([(3UL, 0L, 2)], source.Runs.Where(r => r.Segment == 3));
        for (long line = 0; line < 4; line++)
        {
            source.ReadAndCheck(volume, 2, line, 0, Line);
        }
    }

    [Fact]
    public void A_run_longer_than_the_permit_limit_starts_with_all_the_permits_there_are()
    {
        var cache = new ReadCache(new ReadCacheOptions { BudgetBytes = 64L * Line, LineSize = Line, MaxPrefetchInFlight = 3, PrefetchLinesPerRequest = 8 });
        using var volume = cache.RegisterVolume("v");
        var source = new FakeLineSource { HeldSegment = 1 };
        source.Gate.Close(); // the first run holds its permits until every line is asked for
        Assert.Equal(3, volume.Prefetch(1, 0, 8, source));
        Assert.Equal(5, cache.PendingPrefetchLines);
        source.Gate.Open();
        Eventually.True(() => cache.PrefetchInFlight == 0 && cache.PendingPrefetchLines == 0, "read-ahead finished");
        Assert.Equal([(1UL, 0L, 3), (1UL, 3L, 3), (1UL, 6L, 2)], source.Runs.OrderBy(r => r.First));
    }

    [Fact]
    public void Read_ahead_beyond_its_permits_waits_in_order_and_the_oldest_is_dropped_past_the_limit()
    {
        var cache = new ReadCache(new ReadCacheOptions { BudgetBytes = 64L * Line, LineSize = Line, MaxPrefetchInFlight = 2, PrefetchLinesPerRequest = 2 });
        using var volume = cache.RegisterVolume("v");
        var source = new FakeLineSource { HeldSegment = 1 };
        source.Gate.Close();
        Assert.Equal(2, volume.Prefetch(1, 0, 4, source)); // lines 2 and 3 wait
        Assert.Equal(2, cache.PendingPrefetchLines);
        Assert.Equal(0, volume.Prefetch(2, 0, 8, source)); // 8 more wait: 10 > 4 × 2, the oldest (segment 1) goes
        Assert.Equal(8, cache.PendingPrefetchLines);
        Assert.Equal(1, cache.Snapshot().Volumes.Single().ReadAheadDropped);
        source.Gate.Open();
        Eventually.True(() => cache.PrefetchInFlight == 0 && cache.PendingPrefetchLines == 0, "read-ahead finished");
        Assert.Equal(0, source.FillsOf(1, 2));
        for (long line = 0; line < 8; line++)
        {
            Assert.True(volume.Contains(new LineKey(2, line)), $"segment 2 line {line}");
        }
    }

    [Fact]
    public void Read_ahead_in_flight_is_bounded_by_lines_and_by_an_eighth_of_a_large_budget()
    {
        var cache = new ReadCache(new ReadCacheOptions { BudgetBytes = 256L << 20 }); // 1 MiB lines, 64 at most
        Assert.Equal(32, cache.PrefetchLimit); // 32 MiB: the floor
        cache.SetBudget(512L << 20);
        Assert.Equal(64, cache.PrefetchLimit); // 512 MiB / 8
        cache.SetBudget(8L << 30);
        Assert.Equal(64, cache.PrefetchLimit); // MaxPrefetchInFlight
        Assert.Equal(0, new ReadCache(new ReadCacheOptions { MaxPrefetchInFlight = 0 }).PrefetchLimit); // read-ahead off
        Assert.Equal(16, new ReadCache(new ReadCacheOptions { BudgetBytes = 16L << 20, MaxPrefetchInFlight = 16 }).PrefetchLimit);
    }
}
