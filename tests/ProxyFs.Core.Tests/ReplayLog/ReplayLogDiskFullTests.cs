using System.Diagnostics;
using System.Runtime.CompilerServices;
using ProxyFs.Core.ReplayLog;
using ProxyFs.Testing;
using Xunit.Abstractions;
using static ProxyFs.Core.Tests.ReplayLog.ReplayLogTestSupport;

namespace ProxyFs.Core.Tests.ReplayLog;

/// <summary>
/// The log on a small tmpfs that it fills: appends and commits fail with a clear disk-full error, nothing
/// acknowledged is lost, and a trim past every epoch appended (after a checkpoint) brings the log back.
/// Mounting needs root (the test runs as root on the project's machines and in CI).
/// </summary>
public sealed class ReplayLogDiskFullTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public Task A_full_disk_fails_appends_and_commits_clearly_and_loses_nothing_acknowledged() => OnTmpfsAsync("256k", async mountPoint =>
    {
        string logDir = Path.Combine(mountPoint, "log");
        var acknowledged = new List<Written>();
        ulong epoch = 1;
        using (var log = VolumeReplayLog.Open(logDir, VolumeA, Small))
        {
            var pending = new List<Written>();
            ReplayLogWriteException failure = await Task.Run(async () =>
            {
                for (int i = 0; i < 100_000; i++)
                {
                    epoch = 1 + ((ulong)i / 100);
                    byte[] payload = Payload(0, i, epoch);
                    try
                    {
                        pending.Add(new Written(epoch, payload, log.Append(epoch, payload)));
                        if (pending.Count == 7)
                        {
                            await log.CommitAsync(pending[^1].Position).AsTask().WaitAsync(Timeout);
                            acknowledged.AddRange(pending);
                            pending.Clear();
                        }
                    }
                    catch (ReplayLogWriteException e)
                    {
                        return e;
                    }
                }
                throw new Xunit.Sdk.XunitException("100,000 records fit in a 256 KiB file system");
            }).WaitAsync(Timeout);

            output.WriteLine($"{acknowledged.Count} records acknowledged, then: {failure.Message}");
            Assert.True(failure.IsDiskFull, failure.ToString());
            Assert.Contains("full", failure.Message);
            Assert.Contains("ENOSPC", failure.Message);
            Assert.Contains(logDir, failure.Message);
            Assert.NotEmpty(acknowledged);

            // The log is faulted: it says so, refuses records, and the unacknowledged ones are reported lost ...
            Assert.Same(failure, log.Faulted);
            Assert.Throws<ReplayLogWriteException>(() => log.Append(epoch, Payload(1, 0, epoch)));
            if (pending.Count > 0)
            {
                await Assert.ThrowsAsync<ReplayLogWriteException>(
                    () => log.CommitAsync(pending[^1].Position).AsTask().WaitAsync(Timeout));
            }
            // ... while what was acknowledged stays acknowledged.
            await log.CommitAsync(acknowledged[^1].Position).AsTask().WaitAsync(Timeout);
            // A restart needs a checkpoint past every epoch appended.
            Assert.Contains("after a checkpoint past epoch", Assert.Throws<ReplayLogWriteException>(() => log.Trim(epoch)).Message);
        }

        List<Written> after;
        using (var log = VolumeReplayLog.Open(logDir, VolumeA, Small with { ExpectExisting = true }))
        {
            (List<ReplayRecord> records, ReplayOutcome outcome) = ReadAll(log);
            Assert.Null(outcome.TornTail);
            AssertSameRecords(acknowledged, records.Take(acknowledged.Count).ToList());
            Assert.All(records, r => Assert.True(IsGenuine(r)));

            // The checkpoint covered everything: trimming past it frees the segment files, and the log works again.
            await log.TrimAsync(epoch + 1).WaitAsync(Timeout);
            Stopwatch waited = Stopwatch.StartNew();
            while (log.Statistics.SegmentFiles > 1)
            {
                Assert.True(waited.Elapsed < Timeout, $"{log.Statistics.SegmentFiles} segment files left after the trim");
                await Task.Delay(20);
            }
            after = await Task.Run(() => AppendCommitted(log, 100, _ => epoch + 1, firstIndex: 1_000_000)).WaitAsync(Timeout);
        }
        using (var log = VolumeReplayLog.Open(logDir, VolumeA, Small with { ExpectExisting = true }))
        {
            AssertSameRecords(after, ReadAll(log).Records);
        }
    });

    [Fact]
    public Task A_faulted_log_restarts_after_a_trim_past_every_epoch() => OnTmpfsAsync("192k", async mountPoint =>
    {
        using var log = VolumeReplayLog.Open(Path.Combine(mountPoint, "log"), VolumeA, Small);
        // Each record is committed before the next is appended, so the failure comes from a commit.
        ReplayLogPosition lost = await Task.Run(async () =>
        {
            for (int i = 0; i < 100_000; i++)
            {
                ReplayLogPosition p = log.Append(7, Payload(0, i, 7));
                try
                {
                    await log.CommitAsync(p).AsTask().WaitAsync(Timeout);
                }
                catch (ReplayLogWriteException e) when (e.IsDiskFull)
                {
                    return p;
                }
            }
            throw new Xunit.Sdk.XunitException("100,000 records fit in a 192 KiB file system");
        }).WaitAsync(Timeout);
        Assert.NotNull(log.Faulted);

        await log.TrimAsync(8).WaitAsync(Timeout);

        Assert.Null(log.Faulted);
        Assert.Empty(ReadAll(log).Records);
        // A position of the failed instance is still answered: it was lost.
        await Assert.ThrowsAsync<ReplayLogWriteException>(() => log.CommitAsync(lost).AsTask().WaitAsync(Timeout));
        Stopwatch waited = Stopwatch.StartNew();
        while (log.Statistics.SegmentFiles > 1)
        {
            Assert.True(waited.Elapsed < Timeout, $"{log.Statistics.SegmentFiles} segment files left after the restart");
            await Task.Delay(20);
        }
        List<Written> after = await Task.Run(() => AppendCommitted(log, 50, _ => 8, firstIndex: 500_000)).WaitAsync(Timeout);
        Assert.True(after[0].Position.Sequence > lost.Sequence, "sequence numbers are not reused after a restart");
        AssertSameRecords(after, ReadAll(log).Records);
    });

    /// <summary>Runs <paramref name="test"/> on a tmpfs of <paramref name="size"/> mounted in a fresh directory, unmounted afterwards whatever happened.</summary>
    internal static async Task OnTmpfsAsync(string size, Func<string, Task> test, [CallerMemberName] string name = "")
    {
        using TempDirectory dir = TempDirectory.Create(name);
        string mountPoint = Path.Combine(dir.Path, "tmpfs");
        Directory.CreateDirectory(mountPoint);
        Run(Timeout, "mount", "-t", "tmpfs", "-o", $"size={size},mode=0700", "tmpfs", mountPoint);
        try
        {
            await test(mountPoint);
        }
        finally
        {
            Run(Timeout, "umount", mountPoint);
        }
    }

    private static void Run(TimeSpan timeout, string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }
        using Process p = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        Task<string> errors = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill();
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish within {timeout}");
        }
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{program} {string.Join(' ', args)} failed with {p.ExitCode}: {errors.Result} (this test mounts a tmpfs: it needs root)");
        }
    }
}
