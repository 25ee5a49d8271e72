using System.Diagnostics;
using Microsoft.Win32.SafeHandles;
using Mono.Unix.Native;
using ProxyFs.Integration.Tests.Support;
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
            Assert.Contains("uploading again", daemon.Output, StringComparison.Ordinal);
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
