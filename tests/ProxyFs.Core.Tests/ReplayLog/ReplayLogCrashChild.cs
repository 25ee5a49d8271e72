using System.Globalization;
using ProxyFs.Core.ReplayLog;

namespace ProxyFs.Core.Tests.ReplayLog;

/// <summary>
/// The child process of <see cref="ReplayLogCrashTests"/>: opens a log and, until it is killed, appends and commits
/// records from several workers while another task moves the epoch on and trims. Every line it prints is true when
/// printed: <c>ready LAST-SEQUENCE</c>; <c>C SEQUENCE WRITER INDEX EPOCH</c> after the commit of that record
/// returned; <c>T EPOCH</c> before a trim of the records before EPOCH starts (so a trim may have happened without
/// being reported done, never the other way round).
/// </summary>
internal static class ReplayLogCrashChild
{
    public static async Task<int> RunAsync(string directory, Guid volumeId, int workers, ulong firstEpoch)
    {
        using var log = VolumeReplayLog.Open(directory, volumeId, ReplayLogTestSupport.Small);
        long epoch = (long)firstEpoch;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        TextWriter output = Console.Out;
        output.WriteLine($"ready {log.LastSequence}");
        Task[] writers = Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            for (long i = 0; !stop.IsCancellationRequested; i++)
            {
                ulong e = (ulong)Interlocked.Read(ref epoch);
                ReplayLogPosition position = log.Append(e, ReplayLogTestSupport.Payload(w, i, e));
                await log.CommitAsync(position);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"C {position.Sequence} {w} {i} {e}"));
            }
        })).ToArray();
        Task epochs = Task.Run(async () =>
        {
            for (int bump = 1; !stop.IsCancellationRequested; bump++)
            {
                await Task.Delay(15);
                long now = Interlocked.Increment(ref epoch);
                if (bump % 3 == 0)
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"T {now - 1}"));
                    await log.TrimAsync((ulong)(now - 1));
                }
            }
        });
        await Task.WhenAll([.. writers, epochs]);
        return 0;
    }
}
