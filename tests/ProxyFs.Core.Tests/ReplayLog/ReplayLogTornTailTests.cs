using ProxyFs.Core.ReplayLog;
using ProxyFs.Testing;
using static ProxyFs.Core.Tests.ReplayLog.ReplayLogTestSupport;

namespace ProxyFs.Core.Tests.ReplayLog;

/// <summary>
/// Logs damaged by hand: the segment file cut short, overwritten with garbage or zeroed from some offset on (a torn
/// tail), or damaged in the middle (corruption). Every committed record before the damage must come back
/// byte-exact, and nothing after it.
/// </summary>
public sealed class ReplayLogTornTailTests
{
    private const int Records = 40;

    public enum Damage
    {
        Truncate,
        Garbage,
        Zeros,
    }

    /// <summary>Where in which record the damage starts: at its first byte, one byte in, or in its middle.</summary>
    public enum Where
    {
        Start,
        Header,
        Middle,
    }

    public static TheoryData<Damage, int, Where> Cuts()
    {
        var data = new TheoryData<Damage, int, Where>();
        foreach (Damage damage in Enum.GetValues<Damage>())
        {
            foreach ((int record, Where where) in new[] { (0, Where.Middle), (11, Where.Start), (23, Where.Header), (Records - 1, Where.Middle) })
            {
                data.Add(damage, record, where);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cuts))]
    public void Replay_stops_at_the_last_intact_record_reports_the_torn_tail_and_new_records_follow_it(Damage damage, int record, Where where)
    {
        using TempDirectory dir = TempDirectory.Create();
        (List<Written> written, List<ReplayRecord> stored) = WriteLog(dir.Path);
        long at = stored[record].Address + where switch { Where.Start => 0, Where.Header => 1, _ => (stored[record].Payload.Length + 28) / 2 };
        Apply(dir.Path, at, damage);

        List<Written> intact = written.Take(record).ToList();
        List<Written> next;
        using (var log = VolumeReplayLog.Open(dir.Path, VolumeA, Small with { ExpectExisting = true }))
        {
            ReplayTornTail torn = log.Opened.TornTail ?? throw new Xunit.Sdk.XunitException($"no torn tail after {damage} at {at}");
            Assert.Equal(stored[record].Address, torn.Address);
            Assert.Equal((ulong)record, torn.LastSequence);
            Assert.True(torn.Repaired);
            Assert.True(torn.BytesLost > 0);
            Assert.Equal(record, log.Opened.Records);
            Assert.Equal((ulong)record, log.LastSequence);

            (List<ReplayRecord> records, ReplayOutcome outcome) = ReadAll(log);
            AssertSameRecords(intact, records);
            Assert.Equal(torn, outcome.TornTail);
            Assert.Equal((ulong)record, outcome.LastSequence);

            next = AppendCommitted(log, 5, _ => 2, firstIndex: 1000);
            Assert.Equal((ulong)record + 1, next[0].Position.Sequence);
        }
        using (var log = VolumeReplayLog.Open(dir.Path, VolumeA, Small with { ExpectExisting = true }))
        {
            Assert.Null(log.Opened.TornTail);
            AssertSameRecords([.. intact, .. next], ReadAll(log).Records);
        }
    }

    [Fact]
    public void A_read_only_open_reports_the_torn_tail_without_repairing_it()
    {
        using TempDirectory dir = TempDirectory.Create();
        (List<Written> written, List<ReplayRecord> stored) = WriteLog(dir.Path);
        Apply(dir.Path, stored[30].Address + 5, Damage.Garbage);
        byte[] commitBefore = File.ReadAllBytes(Path.Combine(dir.Path, "commit"));

        using (var log = VolumeReplayLog.Open(dir.Path, VolumeA, Small with { ReadOnly = true }))
        {
            ReplayTornTail torn = log.Opened.TornTail!;
            Assert.False(torn.Repaired);
            Assert.Equal(stored[30].Address, torn.Address);
            (List<ReplayRecord> records, ReplayOutcome outcome) = ReadAll(log);
            AssertSameRecords(written.Take(30).ToList(), records);
            Assert.Equal(torn.Address, outcome.TornTail!.Address);
        }
        Assert.Equal(commitBefore, File.ReadAllBytes(Path.Combine(dir.Path, "commit")));

        using (var log = VolumeReplayLog.Open(dir.Path, VolumeA, Small))
        {
            Assert.True(log.Opened.TornTail!.Repaired);
        }
    }

    [Fact]
    public void Damage_followed_by_intact_records_is_corruption_not_a_torn_tail()
    {
        using TempDirectory dir = TempDirectory.Create();
        (_, List<ReplayRecord> stored) = WriteLog(dir.Path);
        // Flip bytes inside record 10's payload: its CRC fails, records 11.. are intact.
        string file = Path.Combine(dir.Path, "log.0");
        using (FileStream f = File.OpenWrite(file))
        {
            f.Position = stored[9].Address + 4 + 24 + 8;
            f.Write([0xDE, 0xAD, 0xBE, 0xEF]);
        }

        foreach (ReplayLogOptions options in new[] { Small, Small with { ReadOnly = true } })
        {
            ReplayLogCorruptException e = Assert.Throws<ReplayLogCorruptException>(() => VolumeReplayLog.Open(dir.Path, VolumeA, options));
            Assert.Contains("corrupt", e.Message);
            Assert.Contains($"address {stored[9].Address}", e.Message);
            Assert.Contains("intact record 11", e.Message);
        }
    }

    [Fact]
    public void Bytes_past_the_committed_end_are_not_part_of_the_log()
    {
        using TempDirectory dir = TempDirectory.Create();
        (List<Written> written, List<ReplayRecord> stored) = WriteLog(dir.Path);
        long end = stored[^1].Address + 4 + ((24 + stored[^1].Payload.Length + 3) & ~3);
        using (FileStream f = File.OpenWrite(Path.Combine(dir.Path, "log.0")))
        {
            f.Position = end;
            byte[] garbage = new byte[300];
            new Random(3).NextBytes(garbage);
            f.Write(garbage);
        }

        using var log = VolumeReplayLog.Open(dir.Path, VolumeA, Small);
        Assert.Null(log.Opened.TornTail);
        AssertSameRecords(written, ReadAll(log).Records);
    }

    [Fact]
    public void A_commit_at_a_page_start_after_the_padding_of_a_record_moved_to_that_page_is_a_clean_end()
    {
        // A record that does not fit in what is left of a page goes to the next page; a commit taken just when the tail
        // has moved there (before the record is in it) ends the log at the page start, past the unused end of the page.
        using TempDirectory dir = TempDirectory.Create();
        (List<Written> written, List<ReplayRecord> stored) = WriteLog(dir.Path);
        int moved = stored.FindIndex(r => r.Address > 0 && (r.Address & ((1L << Small.PageSizeBits) - 1)) == 0);
        Assert.True(moved > 0, "the test log must have a record at the start of a later page");
        long previousEnd = stored[moved - 1].Address + 4 + ((24 + stored[moved - 1].Payload.Length + 3) & ~3);
        Assert.True(previousEnd < stored[moved].Address, "the page before must end with unused bytes");
        using (CommitFile commit = CommitFile.Open(dir.Path, create: false, readOnly: false))
        {
            commit.RewriteUntil(stored[moved].Address);
        }

        List<Written> next;
        using (var log = VolumeReplayLog.Open(dir.Path, VolumeA, Small with { ExpectExisting = true }))
        {
            Assert.Null(log.Opened.TornTail);
            Assert.Equal(moved, log.Opened.Records);
            (List<ReplayRecord> records, ReplayOutcome outcome) = ReadAll(log);
            Assert.Null(outcome.TornTail);
            AssertSameRecords(written.Take(moved).ToList(), records);
            next = AppendCommitted(log, 5, _ => 2, firstIndex: 1000);
            Assert.Equal((ulong)moved + 1, next[0].Position.Sequence);
        }
        using (var log = VolumeReplayLog.Open(dir.Path, VolumeA, Small with { ExpectExisting = true }))
        {
            Assert.Null(log.Opened.TornTail);
            AssertSameRecords([.. written.Take(moved), .. next], ReadAll(log).Records);
        }
    }

    /// <summary>Writes <see cref="Records"/> committed records, all in the first segment file, and returns them as written and as stored.</summary>
    private static (List<Written> Written, List<ReplayRecord> Stored) WriteLog(string directory)
    {
        using var log = VolumeReplayLog.Open(directory, VolumeA, Small);
        List<Written> written = AppendCommitted(log, Records, _ => 1);
        List<ReplayRecord> stored = ReadAll(log).Records;
        Assert.True(log.Statistics.TailAddress < 1 << Small.SegmentSizeBits, "the test log must fit in log.0");
        Assert.True(stored[^1].Address >> Small.PageSizeBits >= 1, "the test log must cross a page");
        return (written, stored);
    }

    /// <summary>Damages the log from <paramref name="address"/> (an offset in log.0) to the end of the file.</summary>
    private static void Apply(string directory, long address, Damage damage)
    {
        string file = Path.Combine(directory, "log.0");
        long length = new FileInfo(file).Length;
        Assert.True(address < length, $"{address} is past the end of {file} ({length} bytes)");
        if (damage == Damage.Truncate)
        {
            using FileStream f = File.OpenWrite(file);
            f.SetLength(address);
            return;
        }
        byte[] bytes = new byte[length - address];
        if (damage == Damage.Garbage)
        {
            new Random((int)address).NextBytes(bytes);
        }
        using (FileStream f = File.OpenWrite(file))
        {
            f.Position = address;
            f.Write(bytes);
        }
    }
}
