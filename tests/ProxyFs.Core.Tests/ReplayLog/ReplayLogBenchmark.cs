using System.Diagnostics;
using System.Globalization;
using ProxyFs.Core.ReplayLog;

namespace ProxyFs.Core.Tests.ReplayLog;

/// <summary>
/// Commit latency of the replay log on a directory of the local disk with 1 and 8 concurrent committers, each
/// appending a 16..316-byte record and committing it, <c>perCommitter</c> times. Prints p50, p99, the commit rate
/// and how many flushes the group commit needed for how many waiting commits (records per flush: the grouping).
/// </summary>
internal static class ReplayLogBenchmark
{
    public static async Task RunAsync(string directory, int perCommitter, TextWriter output)
    {
        foreach (int committers in new[] { 1, 8 })
        {
            string dir = Path.Combine(directory, $"bench-{committers}-{Environment.ProcessId}");
            try
            {
                using var log = VolumeReplayLog.Open(dir, Guid.NewGuid(), new ReplayLogOptions());
                var latencies = new double[committers][];
                var clock = Stopwatch.StartNew();
                await Task.WhenAll(Enumerable.Range(0, committers).Select(c => Task.Run(async () =>
                {
                    latencies[c] = new double[perCommitter];
                    for (int i = 0; i < perCommitter; i++)
                    {
                        long start = Stopwatch.GetTimestamp();
                        ReplayLogPosition p = log.Append(1, ReplayLogTestSupport.Payload(c, i, 1));
                        await log.CommitAsync(p);
                        latencies[c][i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                    }
                })));
                double seconds = clock.Elapsed.TotalSeconds;
                double[] all = latencies.SelectMany(l => l).Order().ToArray();
                ReplayLogStatistics s = log.Statistics;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"committers {committers,2}: p50 {Percentile(all, 0.50):F3} ms  p99 {Percentile(all, 0.99):F3} ms  " +
                    $"{all.Length / seconds:F0} commits/s  {s.Flushes} flushes for {s.CommitWaits} waiting commits " +
                    $"({(double)all.Length / Math.Max(1, s.Flushes):F1} records/flush)"));
            }
            finally
            {
                if (Directory.Exists(dir))
                {
                    Directory.Delete(dir, recursive: true);
                }
            }
        }
    }

    private static double Percentile(double[] sorted, double q) => sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))];
}
