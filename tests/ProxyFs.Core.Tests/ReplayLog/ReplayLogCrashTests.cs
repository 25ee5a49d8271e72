using System.Globalization;
using ProxyFs.Core.ReplayLog;
using ProxyFs.Testing;
using Xunit.Abstractions;
using static ProxyFs.Core.Tests.ReplayLog.ReplayLogTestSupport;

namespace ProxyFs.Core.Tests.ReplayLog;

/// <summary>
/// kill -9 of a process that appends, commits and trims (<see cref="ReplayLogCrashChild"/>) at a random moment, then
/// reopen: every record whose commit had returned is there, byte-exact, with the sequence number it was acknowledged
/// with, unless a trim the child had started covers its epoch.
/// </summary>
public sealed class ReplayLogCrashTests(ITestOutputHelper output)
{
    private const int Cycles = 6;
    private const int Workers = 4;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public void Every_acknowledged_record_survives_kill_9_at_a_random_moment()
    {
        int seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        using TempDirectory dir = TempDirectory.Create();
        // Acknowledged records not (yet) covered by a trim, by (writer, index, epoch): the sequence they were acknowledged with.
        var mustSurvive = new Dictionary<(int Writer, long Index, ulong Epoch), ulong>();
        ulong trimmedBefore = 0;
        long acknowledged = 0;

        for (int cycle = 0; cycle < Cycles; cycle++)
        {
            // Each cycle's epochs are above the previous cycles', as a volume's checkpoint epochs only grow.
            ulong firstEpoch = (ulong)(cycle + 1) * 1_000_000;
            int minimumAcks = random.Next(1, 400);
            int extraDelayMs = random.Next(0, 150);
            IReadOnlyList<string> lines;
            using (ChildProcess child = ChildProcess.Start("replaylog-writer", dir.Path, VolumeA.ToString(), Workers.ToString(CultureInfo.InvariantCulture),
                       firstEpoch.ToString(CultureInfo.InvariantCulture)))
            {
                child.WaitForLine(l => l.StartsWith("ready ", StringComparison.Ordinal), Timeout);
                // The child holds the log: another process cannot open it.
                Assert.Throws<ReplayLogInUseException>(() => VolumeReplayLog.Open(dir.Path, VolumeA, Small));
                int ack = 0;
                for (int seen = 0; seen < minimumAcks; seen++)
                {
                    ack = child.WaitForLine(l => l.StartsWith("C ", StringComparison.Ordinal), Timeout, ack) + 1;
                }
                Thread.Sleep(extraDelayMs);
                child.Kill9();
                lines = child.Lines;
            }

            long cycleAcks = 0;
            foreach (string line in lines)
            {
                string[] f = line.Split(' ');
                switch (f[0])
                {
                    case "C":
                        var key = (int.Parse(f[2], CultureInfo.InvariantCulture), long.Parse(f[3], CultureInfo.InvariantCulture),
                            ulong.Parse(f[4], CultureInfo.InvariantCulture));
                        mustSurvive[key] = ulong.Parse(f[1], CultureInfo.InvariantCulture);
                        cycleAcks++;
                        break;
                    case "T":
                        trimmedBefore = Math.Max(trimmedBefore, ulong.Parse(f[1], CultureInfo.InvariantCulture));
                        break;
                    case "ready":
                        break;
                    default:
                        Assert.Fail($"unexpected line from the child: {line}");
                        break;
                }
            }
            acknowledged += cycleAcks;
            foreach (var key in mustSurvive.Keys.Where(k => k.Epoch < trimmedBefore).ToList())
            {
                mustSurvive.Remove(key);
            }

            using var log = VolumeReplayLog.Open(dir.Path, VolumeA, Small with { ExpectExisting = true });
            // A killed process leaves the page cache intact: its log ends cleanly at its last commit.
            Assert.Null(log.Opened.TornTail);
            (List<ReplayRecord> records, ReplayOutcome outcome) = ReadAll(log);
            Assert.Null(outcome.TornTail);
            var found = new Dictionary<(int, long, ulong), ReplayRecord>();
            foreach (ReplayRecord r in records)
            {
                Assert.True(IsGenuine(r), $"record {r.Sequence} at {r.Address} is not a payload the child wrote");
                (int writer, long index) = WriterAndIndex(r);
                Assert.True(found.TryAdd((writer, index, r.Epoch), r), $"record {r.Sequence} is in the log twice");
            }
            foreach (((int writer, long index, ulong epoch) key, ulong sequence) in mustSurvive)
            {
                Assert.True(found.TryGetValue(key, out ReplayRecord r),
                    $"cycle {cycle} (seed {seed}): acknowledged record {sequence} (writer {key.writer}, index {key.index}, epoch {key.epoch}) is lost");
                Assert.Equal(sequence, r.Sequence);
            }
            output.WriteLine($"cycle {cycle}: killed after {cycleAcks} acknowledged commits (waited for {minimumAcks} + {extraDelayMs} ms); " +
                $"{records.Count} records in the log, {mustSurvive.Count} of them checked, trims up to epoch {trimmedBefore}");
        }
        Assert.True(acknowledged >= Cycles, $"only {acknowledged} commits were acknowledged");
    }
}
