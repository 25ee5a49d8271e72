using System.Diagnostics;
using Microsoft.Win32.SafeHandles;
using Mono.Unix.Native;
using ProxyFs.Core.Durability;
using ProxyFs.Integration.Tests.Support;
using ProxyFs.Testing;
using ProxyFs.Testing.S3;
using Xunit.Abstractions;

namespace ProxyFs.Integration.Tests;

/// <summary>
/// The store goes away under a mounted s3:// volume (a proxy between the daemon and radosgw closes every connection and
/// refuses new ones) and comes back: what docs/SEMANTICS.md "While the store is down" promises.
/// </summary>
[Collection("s3-volume")]
public sealed class StoreOutageTests(S3VolumeMountFixture s3, ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(150);

    /// <summary>An unmount with the store down tries the uploads again at each flush (each ~15 s of retries) before it spills.</summary>
    private static readonly TimeSpan UnmountDeadline = TimeSpan.FromSeconds(300);

    [Fact]
    public async Task Writes_ride_out_an_outage_fsync_fails_while_it_lasts_and_nothing_written_is_lost_when_the_store_returns()
    {
        var volume = new S3Volume(s3.Server, "outage");
        string direct = volume.Uri;
        using var proxy = new OutageProxy(s3.Server.Endpoint);
        using var mountPoint = new TestMountPoint();
        byte[] before = Bytes(1, 300_000), during = Bytes(2, 200_000), after = Bytes(3, 100_000);

        using (DaemonProcess daemon = DaemonProcess.Start(s3.Server.VolumeUri(volume.Prefix, proxy.Endpoint), mountPoint, "checkpoint_interval=1",
                   environment: volume.Environment))
        {
            string path = Path.Combine(mountPoint.Path, "during");
            Assert.Equal(0, WriteAndFsync(Path.Combine(mountPoint.Path, "before"), before));

            proxy.Cut();
            using SafeFileHandle handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write);
            RandomAccess.Write(handle, during, 0); // into memory: the write does not wait for the store
            var watch = Stopwatch.StartNew();
            // WaitAsync throws TimeoutException when fsync hangs: the outage must end it with an error, not block it.
            Errno failed = await Task.Run(() => Fsync(handle)).WaitAsync(Deadline);
            Assert.Equal(Errno.EIO, failed);
            output.WriteLine($"fsync during the outage: EIO after {watch.Elapsed.TotalSeconds:F1} s");
            Assert.Equal(Path.GetFileName(path), Directory.GetFiles(mountPoint.Path, "during").Select(Path.GetFileName).Single());

            proxy.Restore();
            watch.Restart();
            Errno result;
            while ((result = Fsync(handle)) != 0 && watch.Elapsed < Deadline)
            {
                await Task.Delay(500);
            }
            Assert.True(result == 0, $"fsync still fails ({result}) {Deadline.TotalSeconds} s after the store came back\n{daemon.Output}");
            output.WriteLine($"fsync after the store came back: 0 after {watch.Elapsed.TotalSeconds:F1} s");
            Assert.Equal(0, WriteAndFsync(Path.Combine(mountPoint.Path, "after"), after));
            Assert.True(daemon.WaitForOutput("uploading again", TimeSpan.FromSeconds(10)), daemon.Output);
            Assert.False(daemon.HasExited, daemon.Output);
        }
        Assert.False(mountPoint.IsMounted, "the daemon left its mount behind");

        // Mounted again, straight on the server: everything written, during the outage too, is there.
        using (DaemonProcess daemon = DaemonProcess.Start(direct, mountPoint, environment: volume.Environment))
        {
            Assert.Equal(before, File.ReadAllBytes(Path.Combine(mountPoint.Path, "before")));
            Assert.Equal(during, File.ReadAllBytes(Path.Combine(mountPoint.Path, "during")));
            Assert.Equal(after, File.ReadAllBytes(Path.Combine(mountPoint.Path, "after")));
        }
    }

    /// <param name="crashPoint">
    /// Null: the daemon spills and exits. spill.before-rename: it is killed once the spilled file is written and
    /// fsynced under its temporary name, before the rename: the next mount finds the file whole and uploads it.
    /// </param>
    [Theory]
    [InlineData(null)]
    [InlineData(CrashPoints.SpillBeforeRename)]
    public async Task Unmounting_while_the_store_is_down_spills_the_unstored_segments_and_the_next_mount_reads_back_every_byte(string? crashPoint)
    {
        using var setup = new UnmountSetup(s3, "unmount");
        var (volume, direct, proxy, mountPoint, logDirectory, spill) = setup;
        var files = new Dictionary<string, byte[]>
        {
            ["synced"] = Bytes(11, 400_000),         // fsynced before the outage: in the store
            ["unsynced"] = Bytes(12, 2_500_000),     // written before the outage, never flushed
            ["during"] = Bytes(13, 1_500_000),       // written while the store is down
        };
        // No age flush and no periodic checkpoint: the bytes not fsynced are still in memory when the store goes away.
        string options = $"replay_log={logDirectory},max_flush_time=3600,checkpoint_interval=3600";
        var environment = new Dictionary<string, string>(volume.Environment);
        if (crashPoint is not null)
        {
            environment[CrashPoints.EnvironmentVariable] = crashPoint;
        }

        using (DaemonProcess daemon = DaemonProcess.Start(s3.Server.VolumeUri(volume.Prefix, proxy.Endpoint), mountPoint, options, environment: environment))
        {
            Assert.Equal(0, WriteAndFsync(Path.Combine(mountPoint.Path, "synced"), files["synced"]));
            await File.WriteAllBytesAsync(Path.Combine(mountPoint.Path, "unsynced"), files["unsynced"]);
            proxy.Cut();
            await File.WriteAllBytesAsync(Path.Combine(mountPoint.Path, "during"), files["during"]);

            var watch = Stopwatch.StartNew();
            daemon.Signal(Posix.SIGTERM);
            Assert.True(daemon.WaitForExit(UnmountDeadline), $"the daemon did not exit {UnmountDeadline.TotalSeconds} s after SIGTERM with the store down\n{daemon.Output}");
            output.WriteLine($"unmount with the store down: the daemon exited ({daemon.ExitCode}) after {watch.Elapsed.TotalSeconds:F1} s");
            if (crashPoint is null)
            {
                Assert.True(daemon.ExitCode == 0, $"exit code {daemon.ExitCode}\n{daemon.Output}");
                Assert.Contains("were written to " + spill, daemon.Output, StringComparison.Ordinal);
            }
            else
            {
                Assert.Contains($"crash point {crashPoint} reached", daemon.Output, StringComparison.Ordinal);
                Assert.NotEqual(0, daemon.ExitCode);
            }
            output.WriteLine(WarningLines(daemon.Output));
        }
        Assert.False(mountPoint.IsMounted, "the daemon left its mount behind");
        string[] spilled = Directory.GetFiles(spill);
        Assert.NotEmpty(spilled);
        Assert.All(spilled, f => Assert.Matches(crashPoint is null ? "^[0-9a-f]{16}\\.segment$" : "^[0-9a-f]{16}\\.segment\\.tmp$", Path.GetFileName(f)));
        output.WriteLine($"spilled: {string.Join(", ", spilled.Select(f => $"{Path.GetFileName(f)} ({new FileInfo(f).Length} bytes)"))}");

        proxy.Restore();
        if (crashPoint is null)
        {
            // The store is back. A read-only mount uploads nothing: it reads the spilled segments from their files.
            using (DaemonProcess daemon = DaemonProcess.Start(direct, mountPoint, $"ro,replay_log={logDirectory}", environment: volume.Environment))
            {
                Assert.True(daemon.WaitForOutput("this read-only mount reads them from there", TimeSpan.FromSeconds(10)), $"the read-only mount did not say where the spilled segments are read from\n{daemon.Output}");
                foreach ((string name, byte[] content) in files)
                {
                    Assert.True(content.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(mountPoint.Path, name))), $"{name} differs on the read-only mount\n{daemon.Output}");
                }
            }
            Assert.Equal(spilled, Directory.GetFiles(spill));
        }

        // The next read-write mount uploads the spilled segments, replays the log, and every byte reads back.
        using (DaemonProcess daemon = DaemonProcess.Start(direct, mountPoint, $"replay_log={logDirectory}", environment: volume.Environment))
        {
            Assert.False(Directory.Exists(spill), $"{spill} is still there after the mount\n{daemon.Output}");
            Assert.True(daemon.WaitForOutput("spilled data segments", TimeSpan.FromSeconds(10)), $"the mount did not log the upload of the spilled segments\n{daemon.Output}");
            output.WriteLine(WarningLines(daemon.Output));
            foreach ((string name, byte[] content) in files)
            {
                Assert.True(content.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(mountPoint.Path, name))), $"{name} differs after the remount\n{daemon.Output}");
            }
        }
        Assert.False(Directory.Exists(logDirectory), "a clean unmount removes the replay log directory");

        // Once more, with nothing local: all of it is in the store.
        using (DaemonProcess daemon = DaemonProcess.Start(direct, mountPoint, environment: volume.Environment))
        {
            foreach ((string name, byte[] content) in files)
            {
                Assert.True(content.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(mountPoint.Path, name))), $"{name} differs after a clean remount");
            }
        }
    }

    [Fact]
    public void A_spill_that_cannot_be_written_fails_the_unmount_with_a_clear_error_and_keeps_the_log()
    {
        using var setup = new UnmountSetup(s3, "nospill");
        var (volume, direct, proxy, mountPoint, logDirectory, spill) = setup;
        byte[] synced = Bytes(21, 300_000);
        string options = $"replay_log={logDirectory},max_flush_time=3600,checkpoint_interval=3600";
        using (DaemonProcess daemon = DaemonProcess.Start(s3.Server.VolumeUri(volume.Prefix, proxy.Endpoint), mountPoint, options, environment: volume.Environment))
        {
            Assert.Equal(0, WriteAndFsync(Path.Combine(mountPoint.Path, "synced"), synced));
            File.WriteAllBytes(Path.Combine(mountPoint.Path, "unsynced"), Bytes(22, 1_000_000));
            File.WriteAllText(spill, "a file where the spill directory would go"); // the spill cannot be written
            proxy.Cut();

            daemon.Signal(Posix.SIGTERM);
            Assert.True(daemon.WaitForExit(UnmountDeadline), $"the daemon did not exit {UnmountDeadline.TotalSeconds} s after SIGTERM with the store down\n{daemon.Output}");
            Assert.True(daemon.ExitCode == 1, $"exit code {daemon.ExitCode}\n{daemon.Output}");
            Assert.Contains("failed", daemon.Output, StringComparison.Ordinal);
            Assert.Contains("The replay log is kept for the next mount", daemon.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("Unhandled exception", daemon.Output, StringComparison.Ordinal);
            output.WriteLine(WarningLines(daemon.Output));
        }
        Assert.False(mountPoint.IsMounted, "the daemon left its mount behind");
        Assert.True(Directory.Exists(logDirectory), "the replay log directory is kept");

        // The store is back and the obstacle gone: what was fsynced is there (what was not is what the failure cost).
        File.Delete(spill);
        proxy.Restore();
        using (DaemonProcess daemon = DaemonProcess.Start(direct, mountPoint, $"replay_log={logDirectory}", environment: volume.Environment))
        {
            Assert.Equal(synced, File.ReadAllBytes(Path.Combine(mountPoint.Path, "synced")));
        }
    }

    /// <summary>
    /// A formatted s3:// volume reached straight (<c>Direct</c>) or through an outage proxy, a mount point, and a replay
    /// log directory (with the spill directory in it) of the test's own.
    /// </summary>
    private sealed class UnmountSetup : IDisposable
    {
        private readonly TempDirectory _logs = TempDirectory.Create();

        public UnmountSetup(S3VolumeMountFixture s3, string name)
        {
            Volume = new S3Volume(s3.Server, name);
            Direct = Volume.Uri; // formats it
            Proxy = new OutageProxy(s3.Server.Endpoint);
            LogDirectory = Path.Combine(_logs.Path, "log");
        }

        public S3Volume Volume { get; }

        public string Direct { get; }

        public OutageProxy Proxy { get; }

        public TestMountPoint MountPoint { get; } = new();

        public string LogDirectory { get; }

        public void Deconstruct(out S3Volume volume, out string direct, out OutageProxy proxy, out TestMountPoint mountPoint, out string logDirectory, out string spill)
        {
            (volume, direct, proxy, mountPoint, logDirectory) = (Volume, Direct, Proxy, MountPoint, LogDirectory);
            spill = Path.Combine(LogDirectory, "spill");
        }

        public void Dispose()
        {
            MountPoint.Dispose();
            Proxy.Dispose();
            _logs.Dispose();
        }
    }

    /// <summary>The warnings and errors of a daemon's log, each cut to its first 300 characters.</summary>
    private static string WarningLines(string log) =>
        string.Join('\n', log.Split('\n').Where(l => l.Contains(" warn: ", StringComparison.Ordinal) || l.Contains(" fail: ", StringComparison.Ordinal) || l.Contains(" crit: ", StringComparison.Ordinal))
            .Select(l => l.Length > 300 ? l[..300] + " …" : l));

    private static byte[] Bytes(int seed, int length)
    {
        byte[] b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    private static int WriteAndFsync(string path, byte[] bytes)
    {
        using SafeFileHandle handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write);
        RandomAccess.Write(handle, bytes, 0);
        return (int)Fsync(handle);
    }

    /// <summary>fsync(2) of <paramref name="handle"/>: 0 or the errno it failed with.</summary>
    private static Errno Fsync(SafeFileHandle handle) =>
        Syscall.fsync((int)handle.DangerousGetHandle()) == 0 ? 0 : Stdlib.GetLastError();
}
