using System.Globalization;
using ProxyFs.Core.Tests.ReplayLog;

namespace ProxyFs.Core.Tests;

/// <summary>
/// The test assembly is also a small program (the test host does not use this entry point):
/// <list type="bullet">
/// <item><c>replaylog-writer DIR VOLUME-ID WORKERS FIRST-EPOCH</c>: the child process of the replay log crash tests (<see cref="ReplayLogCrashChild"/>);</item>
/// <item><c>replaylog-bench DIR [COMMITS-PER-COMMITTER]</c>: replay log commit latency and throughput with 1 and 8 committers (<see cref="ReplayLogBenchmark"/>).</item>
/// </list>
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        switch (args.FirstOrDefault())
        {
            case "replaylog-writer" when args.Length == 5:
                return await ReplayLogCrashChild.RunAsync(args[1], Guid.Parse(args[2]), int.Parse(args[3], CultureInfo.InvariantCulture),
                    ulong.Parse(args[4], CultureInfo.InvariantCulture));
            case "replaylog-bench" when args.Length is 2 or 3:
                await ReplayLogBenchmark.RunAsync(args[1], args.Length == 3 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 2000, Console.Out);
                return 0;
            default:
                await Console.Error.WriteLineAsync("usage: replaylog-writer DIR VOLUME-ID WORKERS FIRST-EPOCH | replaylog-bench DIR [COMMITS-PER-COMMITTER]");
                return 2;
        }
    }
}
