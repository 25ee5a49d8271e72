using Microsoft.Extensions.Logging;
using ProxyFs.Core.ReplayLog;
using ProxyFs.Testing;
using static ProxyFs.Core.Tests.ReplayLog.ReplayLogTestSupport;

namespace ProxyFs.Core.Tests.ReplayLog;

/// <summary>
/// What FasterLog says about recovery when a replay log opens: nothing above debug for a new or an intact log, its
/// failure to recover for a log whose commit record is damaged.
/// </summary>
public sealed class ReplayLogRecoveryLogTests
{
    private const string NoCommit = "Unable to recover using any available commit";

    [Fact]
    public void A_new_log_opens_without_an_information_line_about_failing_to_recover()
    {
        using TempDirectory dir = TempDirectory.Create();
        var log = new RecordingLogger();
        using (var created = VolumeReplayLog.Open(dir.Path, VolumeA, Small with { Logger = log }))
        {
            Assert.True(created.Opened.Created);
        }
        // Opened again before anything was committed (a daemon killed right after its first mount): still nothing to recover.
        using (var again = VolumeReplayLog.Open(dir.Path, VolumeA, Small with { Logger = log }))
        {
            Assert.False(again.Opened.Created);
            Assert.Equal(0, again.Opened.Records);
        }
        Assert.True(!log.Lines.Any(l => l.Level >= LogLevel.Information), string.Join("\n", log.Lines));
        // Lowered, not hidden: with debug logging the line is there.
        Assert.Contains(log.Lines, l => l.Level == LogLevel.Debug && l.Message == NoCommit);
    }

    [Fact]
    public void A_log_whose_commit_slots_are_both_damaged_reports_that_it_cannot_recover_as_a_warning()
    {
        using TempDirectory dir = TempDirectory.Create();
        CreateLog(dir.Path, 20);
        string commit = Path.Combine(dir.Path, "commit");
        using (var f = new FileStream(commit, FileMode.Open, FileAccess.Write))
        {
            // One byte of each slot's magic: neither slot reads back.
            foreach (long slot in new long[] { 0, 4096 })
            {
                f.Position = slot;
                f.WriteByte((byte)'X');
            }
        }
        var log = new RecordingLogger();
        using (var opened = VolumeReplayLog.Open(dir.Path, VolumeA, Small with { Logger = log }))
        {
            Assert.Contains(log.Lines, l => l.Level == LogLevel.Warning && l.Message == NoCommit);
        }
    }

    [Fact]
    public void A_log_that_must_be_replayed_is_refused_when_both_commit_records_are_damaged()
    {
        using TempDirectory dir = TempDirectory.Create();
        CreateLog(dir.Path, 20);
        DamageSlots(dir.Path, 0, 4096);
        // After an unclean unmount the log holds changes made since the last checkpoint: opening it empty would lose them.
        var e = Assert.Throws<ReplayLogCorruptException>(() => VolumeReplayLog.Open(dir.Path, VolumeA, Small with { ExpectExisting = true }));
        Assert.Contains("both commit records are damaged", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_first_commit_torn_by_a_crash_opens_as_an_empty_log_even_when_the_log_must_be_replayed()
    {
        using TempDirectory dir = TempDirectory.Create();
        using (VolumeReplayLog.Open(dir.Path, VolumeA, Small))
        {
        }
        DamageSlots(dir.Path, 0); // the first commit was being written when the power went: the other slot is still zeros
        using var opened = VolumeReplayLog.Open(dir.Path, VolumeA, Small with { ExpectExisting = true });
        Assert.Equal(0, opened.Opened.Records);
    }

    private static void DamageSlots(string directory, params long[] slots)
    {
        using var f = new FileStream(Path.Combine(directory, "commit"), FileMode.Open, FileAccess.Write);
        foreach (long slot in slots)
        {
            f.Position = slot;
            f.WriteByte((byte)'X');
        }
    }

    [Fact]
    public void A_committed_log_recovers_without_the_line_and_FasterLogs_statistics_are_at_debug_level()
    {
        using TempDirectory dir = TempDirectory.Create();
        List<Written> written = CreateLog(dir.Path, 20);
        var log = new RecordingLogger();
        using (var opened = VolumeReplayLog.Open(dir.Path, VolumeA, Small with { Logger = log }))
        {
            AssertSameRecords(written, ReadAll(opened).Records);
        }
        Assert.DoesNotContain(log.Lines, l => l.Message == NoCommit);
        // FasterLog's recovery statistics are at debug level.
        Assert.True(!log.Lines.Any(l => l.Level >= LogLevel.Information), string.Join("\n", log.Lines));
        Assert.Contains(log.Lines, l => l.Level == LogLevel.Debug);
    }

    /// <summary>Keeps every line logged, at every level.</summary>
    private sealed class RecordingLogger : ILogger
    {
        private readonly List<(LogLevel Level, string Message)> _lines = [];

        public IReadOnlyList<(LogLevel Level, string Message)> Lines
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_lines)
            {
                _lines.Add((logLevel, formatter(state, exception)));
            }
        }
    }
}
