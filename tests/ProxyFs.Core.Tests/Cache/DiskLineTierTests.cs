using ProxyFs.Core.Cache;
using ProxyFs.Core.Tests.LogSegments;

namespace ProxyFs.Core.Tests.Cache;

/// <summary>The read cache's local-disk tier: reused after a restart, size-bounded, and a damaged line file is dropped and the line fetched again.</summary>
public sealed class DiskLineTierTests : IDisposable
{
    private const int Line = 4096;
    private const string Volume = "0123abcd-volume";
    private readonly TestDirectory _dir = new();
    private readonly List<DiskLineTier> _tiers = [];

    /// <summary>Lets every tier finish the writes it queued (lines a test fetched last) before its directory goes.</summary>
    public void Dispose()
    {
        foreach (DiskLineTier tier in _tiers)
        {
            Written(tier);
        }
        _dir.Dispose();
    }

    private DiskLineTier Tier(long maxBytes = 1L << 30)
    {
        var tier = new DiskLineTier(new DiskLineTierOptions { Directory = _dir.Path, MaxBytes = maxBytes });
        _tiers.Add(tier);
        return tier;
    }

    private static ReadCacheVolume Memory() => new ReadCache(new ReadCacheOptions { BudgetBytes = 64L * Line, LineSize = Line }).RegisterVolume("v");

    private string FileOf(ulong segment, long line) => Path.Combine(_dir.Path, Volume, Line.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{segment:x16}-{line}");

    [Fact]
    public void The_line_file_format_is_magic_length_crc32c_and_the_data()
    {
        byte[] file = DiskLineTier.Encode("abc"u8);
        Assert.Equal(Convert.FromHexString("5046534C494E4531" + "03000000" + "B73F4B36" + "616263"), file); // "PFSLINE1", 3, CRC-32C("abc") = 0x364B3FB7
    }

    [Fact]
    public void Lines_fetched_once_are_served_from_disk_after_a_restart()
    {
        var source = new FakeLineSource();
        FetchOnce(source, 7, [0, 1, 2, 3]);
        Assert.Equal(4, source.Fills);
        Assert.True(File.Exists(FileOf(7, 3)));

        // A new daemon: empty memory, the same directory.
        DiskLineTier again = Tier();
        Assert.Equal(4, again.Snapshot().Files);
        using (var memory = Memory())
        {
            ICacheLineSource tiered = again.Wrap(Volume, Line, source);
            for (long line = 0; line < 4; line++)
            {
                ReadAndCheck(memory, tiered, 7, line);
            }
        }
        Assert.Equal(4, source.Fills); // none from the store
        Assert.Equal(4, again.Snapshot().Hits);
    }

    [Fact]
    public void A_damaged_or_truncated_line_file_is_dropped_and_the_line_fetched_again()
    {
        var source = new FakeLineSource();
        DiskLineTier first = Tier();
        using (var memory = Memory())
        {
            ICacheLineSource tiered = first.Wrap(Volume, Line, source);
            ReadAndCheck(memory, tiered, 1, 0);
            ReadAndCheck(memory, tiered, 1, 1);
        }
        Written(first);
        byte[] bytes = File.ReadAllBytes(FileOf(1, 0));
        bytes[DiskLineTier.HeaderLength + 100] ^= 0x40;
        File.WriteAllBytes(FileOf(1, 0), bytes);
        File.WriteAllBytes(FileOf(1, 1), File.ReadAllBytes(FileOf(1, 1))[..(DiskLineTier.HeaderLength + 10)]);

        DiskLineTier again = Tier();
        using (var memory = Memory())
        {
            ICacheLineSource tiered = again.Wrap(Volume, Line, source);
            ReadAndCheck(memory, tiered, 1, 0); // right bytes: fetched again, not the damaged ones
            ReadAndCheck(memory, tiered, 1, 1);
        }
        Written(again);
        Assert.Equal(2, source.FillsOf(1, 0));
        Assert.Equal(2, source.FillsOf(1, 1));
        Assert.Equal(2, again.Snapshot().Corrupt);
        Assert.Equal(DiskLineTier.Encode(ExpectedLine(1, 0)), File.ReadAllBytes(FileOf(1, 0))); // rewritten whole
    }

    [Fact]
    public void The_tier_keeps_within_its_size_dropping_the_least_recently_used()
    {
        long fileBytes = DiskLineTier.HeaderLength + Line;
        DiskLineTier tier = Tier(3 * fileBytes);
        var source = new FakeLineSource();
        using var memory = Memory();
        ICacheLineSource tiered = tier.Wrap(Volume, Line, source);
        for (long line = 0; line < 5; line++)
        {
            ReadAndCheck(memory, tiered, 2, line);
            Written(tier); // in order: the least recently used are the first lines
        }
        DiskLineTierMetrics m = tier.Snapshot();
        Assert.Equal(3, m.Files);
        Assert.Equal(3 * fileBytes, m.Bytes);
        Assert.Equal(2, m.Evictions);
        Assert.False(File.Exists(FileOf(2, 0)));
        Assert.False(File.Exists(FileOf(2, 1)));
        Assert.True(File.Exists(FileOf(2, 4)));
        Assert.Equal(2, Tier(2 * fileBytes).Snapshot().Files); // reopened with a smaller bound: trimmed to it
    }

    [Fact]
    public void Read_ahead_takes_the_lines_on_disk_and_fetches_the_rest_in_one_request()
    {
        var source = new FakeLineSource();
        DiskLineTier first = Tier();
        using (var memory = Memory())
        {
            ICacheLineSource tiered = first.Wrap(Volume, Line, source);
            ReadAndCheck(memory, tiered, 3, 0);
            ReadAndCheck(memory, tiered, 3, 1);
        }
        Written(first);
        var cache = new ReadCache(new ReadCacheOptions { BudgetBytes = 64L * Line, LineSize = Line, PrefetchLinesPerRequest = 8 });
        using var volume = cache.RegisterVolume("v");
        DiskLineTier again = Tier();
        Assert.Equal(6, volume.Prefetch(3, 0, 6, again.Wrap(Volume, Line, source)));
        Eventually.True(() => cache.PrefetchInFlight == 0, "read-ahead finished");
        Assert.Equal([(3UL, 2L, 4)], source.Runs); // lines 0 and 1 from disk
        Assert.Equal(2, again.Snapshot().Hits);
        Written(again);
        for (long line = 0; line < 6; line++)
        {
            Assert.True(volume.Contains(new LineKey(3, line)));
            source.ReadAndCheck(volume, 3, line, 0, Line);
            Assert.True(File.Exists(FileOf(3, line)));
        }
    }

    [Fact]
    public void Read_ahead_asks_the_store_only_for_the_lines_missing_on_disk()
    {
        var source = new FakeLineSource();
        FetchOnce(source, 5, [0, 2, 3]);
        var cache = new ReadCache(new ReadCacheOptions { BudgetBytes = 64L * Line, LineSize = Line, PrefetchLinesPerRequest = 16 });
        using var volume = cache.RegisterVolume("v");
        DiskLineTier again = Tier();
        Assert.Equal(6, volume.Prefetch(5, 0, 6, again.Wrap(Volume, Line, source)));
        Eventually.True(() => cache.PrefetchInFlight == 0, "read-ahead finished");
        Assert.Equal([(5UL, 1L, 1), (5UL, 4L, 2)], source.Runs.OrderBy(r => r.First)); // lines 0, 2 and 3 from disk
        Assert.Equal(3, again.Snapshot().Hits);
        for (long line = 0; line < 6; line++)
        {
            source.ReadAndCheck(volume, 5, line, 0, Line);
        }
    }

    [Fact]
    public async Task A_read_does_not_wait_for_the_disk_tier_and_lines_beyond_its_queue_are_dropped()
    {
        long fileBytes = DiskLineTier.HeaderLength + Line;
        var tier = new DiskLineTier(new DiskLineTierOptions { Directory = _dir.Path, MaxQueuedBytes = 2 * Line });
        using var gate = new ManualResetEventSlim(false);
        tier.WriteGate = gate; // the disk "hangs": nothing queued is written until the gate opens
        var source = new FakeLineSource();
        using var memory = Memory();
        ICacheLineSource tiered = tier.Wrap(Volume, Line, source);
        var reads = Task.Run(() =>
        {
            for (long line = 0; line < 5; line++)
            {
                ReadAndCheck(memory, tiered, 4, line);
            }
        });
        await reads.WaitAsync(TimeSpan.FromSeconds(30)); // throws TimeoutException if a read waited for the held writer
        DiskLineTierMetrics held = tier.Snapshot();
        Assert.Equal(0, held.Writes);
        Assert.Equal(3, held.Dropped); // two lines fit the queue, the other three were not kept
        Assert.Equal(2L * Line, held.QueuedBytes);
        Assert.False(File.Exists(FileOf(4, 0)));

        gate.Set();
        Written(tier);
        DiskLineTierMetrics after = tier.Snapshot();
        Assert.Equal(2, after.Writes);
        Assert.Equal(2 * fileBytes, after.Bytes);
        Assert.Equal(0, after.QueuedBytes);
        Assert.Equal(DiskLineTier.Encode(ExpectedLine(4, 0)), File.ReadAllBytes(FileOf(4, 0)));
        Assert.Equal(DiskLineTier.Encode(ExpectedLine(4, 1)), File.ReadAllBytes(FileOf(4, 1)));
        Assert.False(File.Exists(FileOf(4, 2)));
    }

    /// <summary>A daemon that reads <paramref name="lines"/> of <paramref name="segment"/> once (from the source) and exits with them on disk.</summary>
    private void FetchOnce(FakeLineSource source, ulong segment, long[] lines)
    {
        DiskLineTier tier = Tier();
        using (var memory = Memory())
        {
            ICacheLineSource tiered = tier.Wrap(Volume, Line, source);
            foreach (long line in lines)
            {
                ReadAndCheck(memory, tiered, segment, line);
            }
        }
        Written(tier);
    }

    private static void Written(DiskLineTier tier) =>
        Assert.True(tier.WhenWrittenAsync().Wait(TimeSpan.FromSeconds(30)), "the disk tier wrote its queued lines");

    private static byte[] ExpectedLine(ulong segment, long line)
    {
        byte[] data = new byte[Line];
        for (int i = 0; i < Line; i++)
        {
            data[i] = FakeLineSource.ByteAt(segment, line, i);
        }
        return data;
    }

    private static void ReadAndCheck(ReadCacheVolume memory, ICacheLineSource tiered, ulong segment, long line)
    {
        byte[] back = new byte[Line];
        Assert.Equal(Line, memory.Read(new LineKey(segment, line), 0, back, tiered));
        Assert.Equal(ExpectedLine(segment, line), back);
    }
}
