using ProxyFs.Core.ReplayLog;
using ProxyFs.Testing;
using static ProxyFs.Core.Tests.ReplayLog.ReplayLogTestSupport;

namespace ProxyFs.Core.Tests.ReplayLog;

/// <summary>Append, commit, replay, trim and reopen on an undamaged log.</summary>
public sealed class ReplayLogRoundTripTests
{
    [Fact]
    public void Committed_records_replay_in_order_and_byte_exact_before_and_after_reopen()
    {
        using TempDirectory dir = TempDirectory.Create();
        List<Written> written;
        using (var log = VolumeReplayLog.Open(dir.Path, VolumeA, Small))
        {
            Assert.True(log.Opened.Created);
            Assert.Equal(0UL, log.LastSequence);
            // ~38 KB of records: they cross pages (4 KiB) and segment files (16 KiB).
            written = AppendCommitted(log, 200, i => 1 + ((ulong)i / 50));
            Assert.Equal(Enumerable.Range(1, 200).Select(i => (ulong)i), written.Select(w => w.Position.Sequence));
            Assert.Equal(200UL, log.LastSequence);
            Assert.True(log.Statistics.SegmentFiles >= 2, $"{log.Statistics.SegmentFiles} segment files");
            (List<ReplayRecord> live, ReplayOutcome liveOutcome) = ReadAll(log);
            AssertSameRecords(written, live);
            Assert.Null(liveOutcome.TornTail);
        }

        using (var log = VolumeReplayLog.Open(dir.Path, VolumeA, Small with { ExpectExisting = true }))
        {
            Assert.Equal(new ReplayLogOpened(Created: false, Records: 200, LastSequence: 200, TornTail: null), log.Opened);
            (List<ReplayRecord> records, ReplayOutcome outcome) = ReadAll(log);
            AssertSameRecords(written, records);
            Assert.Equal(200, outcome.Replayed);
            Assert.Equal(0, outcome.Skipped);
            Assert.Equal(200UL, outcome.LastSequence);
            Assert.Null(outcome.TornTail);
        }
    }

    [Fact]
    public void Replay_from_an_epoch_skips_the_records_of_older_epochs()
    {
        using TempDirectory dir = TempDirectory.Create();
        using var log = VolumeReplayLog.Open(dir.Path, VolumeA, Small);
        List<Written> written = AppendCommitted(log, 100, i => 10 + ((ulong)i / 25)); // epochs 10..13, 25 each

        (List<ReplayRecord> records, ReplayOutcome outcome) = ReadAll(log, fromEpoch: 12);

        AssertSameRecords(written.Where(w => w.Epoch >= 12).ToList(), records);
        Assert.Equal(50, outcome.Replayed);
        Assert.Equal(50, outcome.Skipped);
        Assert.Equal(100UL, outcome.LastSequence);
        Assert.Empty(ReadAll(log, fromEpoch: 14).Records);
    }

    [Fact]
    public void Replay_is_repeatable_and_reopening_does_not_change_it()
    {
        using TempDirectory dir = TempDirectory.Create();
        using (var log = VolumeReplayLog.Open(dir.Path, VolumeA, Small))
        {
            AppendCommitted(log, 120, i => 1 + ((ulong)i % 3 == 0 ? 1UL : 0UL));
        }
        using (var log = VolumeReplayLog.Open(dir.Path, VolumeA, Small with { ExpectExisting = true }))
        {
            ReplayScan scan = log.Replay(1);
            List<ReplayRecord> first = [.. scan];
            ReplayOutcome firstOutcome = scan.Outcome!;
            List<ReplayRecord> second = [.. scan];
            Assert.Equal(firstOutcome, scan.Outcome);
            List<ReplayRecord> fresh = [.. log.Replay(1)];
            Assert.Equal(120, first.Count);
            foreach (List<ReplayRecord> again in new[] { second, fresh })
            {
                Assert.Equal(first.Select(Key), again.Select(Key));
            }
        }
        using (var log = VolumeReplayLog.Open(dir.Path, VolumeA, Small with { ExpectExisting = true }))
        {
            // Replaying did not consume or rewrite anything.
            Assert.Equal(120, ReadAll(log).Records.Count);
            Assert.Equal(120UL, log.LastSequence);
        }

        static string Key(ReplayRecord r) => $"{r.Sequence}/{r.Epoch}/{r.Address}/{Convert.ToHexString(r.Payload.Span)}";
    }

    [Fact]
    public void Records_appended_after_a_reopen_continue_the_sequence()
    {
        using TempDirectory dir = TempDirectory.Create();
        var written = new List<Written>();
        for (int session = 0; session < 3; session++)
        {
            using var log = VolumeReplayLog.Open(dir.Path, VolumeA, Small);
            Assert.Equal((ulong)written.Count, log.LastSequence);
            written.AddRange(AppendCommitted(log, 30, _ => 1, firstIndex: written.Count));
        }
        using var reopened = VolumeReplayLog.Open(dir.Path, VolumeA, Small);
        AssertSameRecords(written, ReadAll(reopened).Records);
        Assert.Equal(Enumerable.Range(1, 90).Select(i => (ulong)i), written.Select(w => w.Position.Sequence));
    }

    [Fact]
    public void Trim_after_a_checkpoint_drops_the_older_epochs_frees_their_segment_files_and_survives_reopen()
    {
        using TempDirectory dir = TempDirectory.Create();
        List<Written> written;
        using (var log = VolumeReplayLog.Open(dir.Path, VolumeA, Small))
        {
            written = AppendCommitted(log, 400, i => 1 + ((ulong)i / 100)); // epochs 1..4, ~19 KB each
            int segmentsBefore = log.Statistics.SegmentFiles;
            long beginBefore = log.Statistics.BeginAddress;

            log.Trim(beforeEpoch: 3);

            List<Written> kept = written.Where(w => w.Epoch >= 3).ToList();
            AssertSameRecords(kept, ReadAll(log).Records);
            ReplayLogStatistics after = log.Statistics;
            Assert.Equal(200, after.Records);
            Assert.True(after.BeginAddress > beginBefore, $"begin address {after.BeginAddress} did not move from {beginBefore}");
            // FasterLog deletes the segment files wholly before the new begin address after the trim's commit, in the background.
            WaitUntil(() => log.Statistics.SegmentFiles < segmentsBefore, TimeSpan.FromSeconds(30),
                () => $"segment files still {log.Statistics.SegmentFiles} of {segmentsBefore} after the trim");
        }
        using (var log = VolumeReplayLog.Open(dir.Path, VolumeA, Small with { ExpectExisting = true }))
        {
            Assert.Equal(200, log.Opened.Records);
            Assert.Equal(400UL, log.LastSequence);
            AssertSameRecords(written.Where(w => w.Epoch >= 3).ToList(), ReadAll(log).Records);

            // Trimming past every epoch empties the log; records appended afterwards are all that is left.
            log.Trim(beforeEpoch: 5);
            Assert.Empty(ReadAll(log).Records);
            List<Written> next = AppendCommitted(log, 10, _ => 5, firstIndex: 1000);
            Assert.Equal(401UL, next[0].Position.Sequence);
            AssertSameRecords(next, ReadAll(log).Records);
        }
        using (var log = VolumeReplayLog.Open(dir.Path, VolumeA, Small with { ExpectExisting = true }))
        {
            Assert.Equal(10, ReadAll(log).Records.Count);
        }
    }

    [Fact]
    public void Trim_keeps_everything_from_the_first_record_of_a_kept_epoch_on()
    {
        // An appender that read the epoch before a checkpoint moved it on appends a late record of the old epoch
        // after records of the new one. Trim cuts at the first record of an epoch it keeps, so the late record stays
        // (replay from the new epoch skips it), and nothing of a kept epoch is ever dropped.
        using TempDirectory dir = TempDirectory.Create();
        using var log = VolumeReplayLog.Open(dir.Path, VolumeA, Small);
        ulong[] epochs = [1, 1, 2, 2, 1, 3, 2];
        List<Written> written = AppendCommitted(log, epochs.Length, i => epochs[i]);

        log.Trim(beforeEpoch: 2);

        AssertSameRecords(written.Skip(2).ToList(), ReadAll(log).Records);
        AssertSameRecords(written.Where((w, i) => i >= 2 && w.Epoch >= 2).ToList(), ReadAll(log, fromEpoch: 2).Records);
        Assert.Equal(5, log.Statistics.Records);
    }

    [Fact]
    public void A_payload_longer_than_a_page_allows_is_refused_and_the_longest_allowed_roundtrips()
    {
        using TempDirectory dir = TempDirectory.Create();
        using var log = VolumeReplayLog.Open(dir.Path, VolumeA, Small);
        Assert.True(log.MaxPayloadLength is > 3_000 and < 4_096, $"MaxPayloadLength {log.MaxPayloadLength}");

        ArgumentException e = Assert.Throws<ArgumentException>(() => log.Append(1, new byte[log.MaxPayloadLength + 1]));
        Assert.Contains($"at most {log.MaxPayloadLength} bytes", e.Message);

        byte[] largest = new byte[log.MaxPayloadLength];
        new Random(7).NextBytes(largest);
        byte[] empty = [];
        log.Commit(log.Append(1, largest));
        log.Commit(log.Append(1, empty));
        log.Commit(log.Append(1, largest));
        List<ReplayRecord> records = ReadAll(log).Records;
        Assert.Equal([largest, empty, largest], records.Select(r => r.Payload.ToArray()));
    }

    [Fact]
    public async Task Commit_returns_for_a_position_already_durable_and_after_dispose_appends_are_refused()
    {
        using TempDirectory dir = TempDirectory.Create();
        var log = VolumeReplayLog.Open(dir.Path, VolumeA, Small);
        ReplayLogPosition first = log.Append(1, Payload(0, 0, 1));
        ReplayLogPosition second = log.Append(1, Payload(0, 1, 1));
        await log.CommitAsync(second).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        // Committing a later position made the earlier one durable too.
        Assert.True(log.CommitAsync(first).IsCompletedSuccessfully);
        Assert.True(log.Statistics.DurableAddress >= second.Address);

        await log.DisposeAsync();
        Assert.Throws<ObjectDisposedException>(() => log.Append(1, Payload(0, 2, 1)));
        Assert.Throws<ObjectDisposedException>(() => log.Replay(0));
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails with <paramref name="describe"/> after <paramref name="timeout"/>.</summary>
    private static void WaitUntil(Func<bool> condition, TimeSpan timeout, Func<string> describe)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail(describe());
            }
            Thread.Sleep(20);
        }
    }
}
