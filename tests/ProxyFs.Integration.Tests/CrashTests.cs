using ProxyFs.Core.Durability;
using ProxyFs.Integration.Tests.Support;
using ProxyFs.Testing;
using ProxyFs.Testing.Posix;
using Xunit.Abstractions;

namespace ProxyFs.Integration.Tests;

/// <summary>Runs only when PROXYFS_SOAK_CYCLES is set (make soak): hundreds of crash cycles.</summary>
public sealed class SoakFactAttribute : FactAttribute
{
    public const string Variable = "PROXYFS_SOAK_CYCLES";

    public SoakFactAttribute()
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable(Variable), out int n) || n <= 0)
        {
            Skip = $"set {Variable}=N to run N crash cycles (make soak)";
        }
    }
}

/// <summary>
/// kill -9 of the real daemon during a mixed workload on a file:// volume, at random times and at every named crash
/// point, then a remount that must show every fsynced byte, no half-made operation and consistent sizes and links
/// (docs/SEMANTICS.md; <see cref="CrashWorkload"/> says exactly what is checked).
/// </summary>
public sealed class CrashTests(ITestOutputHelper output)
{
    private const int StepsPerCycle = 120;

    [Fact]
    public void Kill_9_at_random_times_loses_nothing_fsynced()
    {
        using var run = new CrashRun(output, seed: 11);
        var random = new Random(11);
        for (int cycle = 0; cycle < 10; cycle++)
        {
            run.Cycle(crashPoint: null, killAfter: TimeSpan.FromMilliseconds(150 + random.Next(1200)));
        }
        Assert.True(run.Crashes >= 8, $"only {run.Crashes} of 10 cycles were cut by the kill");
    }

    [Fact]
    public void A_crash_at_each_named_point_loses_nothing_fsynced()
    {
        using var run = new CrashRun(output, seed: 23);
        var random = new Random(23);
        // spill.* is reached only by an unmount while the store is down: StoreOutageTests kills the daemon there.
        foreach (string point in Reachable)
        {
            run.Cycle(Arm(point, random), killAfter: null);
            Assert.True(run.LastCycleCrashed, $"crash point {point} was not reached");
        }
    }

    [SoakFact]
    public void Soak()
    {
        int cycles = int.Parse(Environment.GetEnvironmentVariable(SoakFactAttribute.Variable)!, System.Globalization.CultureInfo.InvariantCulture);
        int seed = int.TryParse(Environment.GetEnvironmentVariable("PROXYFS_SOAK_SEED"), out int given) ? given : Environment.TickCount;
        using var run = new CrashRun(output, seed);
        var random = new Random(seed);
        for (int cycle = 0; cycle < cycles; cycle++)
        {
            bool atPoint = cycle % 2 == 1;
            run.Cycle(atPoint ? Arm(Reachable[random.Next(Reachable.Count)], random) : null,
                atPoint ? null : TimeSpan.FromMilliseconds(100 + random.Next(2000)));
        }
        output.WriteLine($"soak: {cycles} cycles, {run.Crashes} crashes, {run.Calls} calls, {run.Fsyncs} fsyncs, {run.Survived} of {run.Uncertain} calls after the last fsync survived");
    }

    /// <summary>The crash points this workload reaches (spill.* needs the store down).</summary>
    private static IReadOnlyList<string> Reachable { get; } = [.. CrashPoints.All.Where(p => !p.StartsWith("spill.", StringComparison.Ordinal))];

    /// <summary>The point and which hit of it kills: late enough that the workload has state, early enough to be reached.</summary>
    private static string Arm(string point, Random random) => point switch
    {
        _ when point.StartsWith("checkpoint.", StringComparison.Ordinal) => point, // the unmount's checkpoint
        CrashPoints.JournalAfterAppend or CrashPoints.JournalAfterCommit => $"{point}:{5 + random.Next(30)}",
        CrashPoints.SegmentBeforeUpload or CrashPoints.SegmentAfterUpload or CrashPoints.FsyncAfterSegments => $"{point}:{2 + random.Next(4)}",
        _ => $"{point}:{1 + random.Next(3)}",
    };

    /// <summary>One volume and its replay log, mounted, crashed and remounted cycle after cycle.</summary>
    private sealed class CrashRun : IDisposable
    {
        private readonly ITestOutputHelper _output;
        private readonly FileVolume _volume = new();
        private readonly TempDirectory _logs = TempDirectory.Create();
        private readonly TestMountPoint _mountPoint = new();
        private readonly CrashWorkload _workload;
        private bool _prepared;
        private bool _failed;

        public CrashRun(ITestOutputHelper output, int seed)
        {
            _output = output;
            _workload = new CrashWorkload(seed);
            output.WriteLine($"seed {seed}, volume {_volume.Uri}");
        }

        public int Crashes { get; private set; }

        public bool LastCycleCrashed { get; private set; }

        public long Calls => _workload.Completed;

        public long Fsyncs => _workload.Fsyncs;

        public long Survived { get; private set; }

        public long Uncertain { get; private set; }

        private static readonly TimeSpan FsckTimeout = TimeSpan.FromSeconds(120);

        private string Options => $"replay_log={Path.Combine(_logs.Path, "log")}";

        /// <summary>Mounts (checking what the last crash left), runs the workload, and kills the daemon or lets the crash point do it.</summary>
        public void Cycle(string? crashPoint, TimeSpan? killAfter)
        {
            _failed = true; // until the cycle completes: then the last check in Dispose would only hide the failure
            CycleOnce(crashPoint, killAfter);
            _failed = false;
        }

        private void CycleOnce(string? crashPoint, TimeSpan? killAfter)
        {
            var environment = new Dictionary<string, string>();
            if (crashPoint is not null)
            {
                environment[CrashPoints.EnvironmentVariable] = crashPoint;
            }
            using DaemonProcess daemon = DaemonProcess.Start(_volume.Uri, _mountPoint, Options, environment: environment);
            var target = new LibcTarget(_mountPoint.Path, "proxyfs");
            PosixThread.Run(() =>
            {
                if (!_prepared)
                {
                    CrashWorkload.Prepare(target);
                    _prepared = true;
                }
                else
                {
                    int pending = _workload.Pending.Count;
                    int kept = Verify(target, daemon);
                    Survived += kept;
                    Uncertain += pending;
                }
            });
            bool crashed;
            if (killAfter is { } delay)
            {
                Task<bool> work = Task.Run(() => RunWorkload(target, daemon, int.MaxValue / 2));
                Thread.Sleep(delay);
                daemon.Kill9();
                Assert.True(work.Wait(TimeSpan.FromSeconds(60)), "the workload did not stop after the kill");
                crashed = !work.Result || daemon.HasExited;
            }
            else
            {
                // Until the point kills the daemon, within a few rounds (a point of a rarer call needs more of them).
                crashed = false;
                int rounds = crashPoint is null ? 1 : 5;
                for (int round = 0; round < rounds && !crashed; round++)
                {
                    crashed = !RunWorkload(target, daemon, StepsPerCycle);
                }
                if (!crashed)
                {
                    // The checkpoint crash points are reached by the unmount's checkpoint.
                    daemon.Signal(Posix.SIGTERM);
                    Assert.True(daemon.WaitForExit(TimeSpan.FromSeconds(60)), "the daemon did not stop");
                    crashed = daemon.ExitCode != 0;
                }
                Assert.True(daemon.WaitForExit(TimeSpan.FromSeconds(30)), "the daemon did not die at its crash point");
            }
            LastCycleCrashed = crashed;
            Crashes += crashed ? 1 : 0;
            if (crashed)
            {
                // What the crash left in the store is the last checkpoint, which must be whole on its own (the replay
                // log holds what came after): fsck of it finds no error (objects nothing references yet are warnings).
                CommandResult fsck = ProxyFsBinary.Run(FsckTimeout, "fsck", "--force", "--quick", _volume.Uri);
                Assert.True(fsck.ExitCode == 0, $"fsck of the checkpoint a crash left: {fsck}");
            }
            _output.WriteLine($"{crashPoint ?? $"kill -9 after {killAfter!.Value.TotalMilliseconds:F0} ms"}: {(crashed ? "crashed" : "ran to the end")}, " +
                $"{_workload.Pending.Count} calls after the last fsync");
        }

        /// <summary>The workload's check, failing with what the daemon logged (what it replayed, where the log ended).</summary>
        private int Verify(LibcTarget target, DaemonProcess daemon)
        {
            try
            {
                return _workload.Verify(target);
            }
            catch (InvalidOperationException e)
            {
                throw new InvalidOperationException($"{e.Message}\ndaemon log:\n{daemon.Output}", e);
            }
        }

        private bool RunWorkload(LibcTarget target, DaemonProcess daemon, int steps)
        {
            bool done = false;
            PosixThread.Run(() => done = _workload.Run(target, steps, () => !daemon.HasExited));
            return done;
        }

        public void Dispose()
        {
            try
            {
                if (_failed)
                {
                    return;
                }
                // A last mount checks what the last cycle left, and unmounts cleanly.
                using (DaemonProcess daemon = DaemonProcess.Start(_volume.Uri, _mountPoint, Options))
                {
                    var target = new LibcTarget(_mountPoint.Path, "proxyfs");
                    PosixThread.Run(() => Verify(target, daemon));
                }
                Assert.False(Directory.Exists(Path.Combine(_logs.Path, "log")), "a clean unmount left its replay log");
                CommandResult fsck = ProxyFsBinary.Run(FsckTimeout, "fsck", _volume.Uri);
                Assert.True(fsck.ExitCode == 0, $"fsck after the last clean unmount: {fsck}");
            }
            finally
            {
                _mountPoint.Dispose();
                _logs.Dispose();
                _volume.Dispose();
            }
        }
    }
}
