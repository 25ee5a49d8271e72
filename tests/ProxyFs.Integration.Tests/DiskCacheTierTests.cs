using ProxyFs.Host.Metrics;
using ProxyFs.Integration.Tests.Support;

namespace ProxyFs.Integration.Tests;

/// <summary>read_cache.disk_path on a real mount: lines read once are served from local disk by the next daemon, and a damaged line file is fetched from the store again.</summary>
public sealed class DiskCacheTierTests : IDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("proxyfs-test-disk-tier-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static StatusSnapshot Status(string mountPoint) => ProxyFsBinary.Status(mountPoint);

    private static long StoreBytesRead(string mountPoint) => Status(mountPoint).Store!.Operations.Single(o => o.Operation == "get").Bytes;

    [Fact]
    public void A_restarted_daemon_reads_lines_from_the_disk_tier_and_refetches_a_damaged_one()
    {
        using var mp = new TestMountPoint();
        string uri = "file://" + Path.Combine(_dir, "store");
        string tier = Path.Combine(_dir, "tier");
        Assert.Equal(0, ProxyFsBinary.Run(CommandTimeout, "format", uri).ExitCode);
        string config = Path.Combine(_dir, "proxyfs.yaml");
        File.WriteAllText(config, $"read_cache:\n  disk_path: {tier}\n  disk_size: 64MiB\nvolumes:\n  - name: v\n    uri: {uri}\n    mount_point: {mp.Path}\n");
        string[] mount = ["mount", "v", "--config", config, "--foreground"];
        const int FileBytes = 12 << 20;
        byte[] data = new byte[FileBytes];
        new Random(11).NextBytes(data);

        using (DaemonProcess writer = DaemonProcess.StartWith(mount, mp))
        {
            File.WriteAllBytes(Path.Combine(mp.Path, "data"), data);
        }
        using (DaemonProcess first = DaemonProcess.StartWith(mount, mp))
        {
            Assert.Equal(data, File.ReadAllBytes(Path.Combine(mp.Path, "data")));
            Assert.True(StoreBytesRead(mp.Path) >= FileBytes); // a cold daemon and an empty tier: from the store
            Assert.Equal(0, Status(mp.Path).Cache.Disk!.Dropped); // 12 MiB fit the write queue: written in the background, none dropped
        }
        string[] lines = Directory.GetFiles(tier, "*-*", SearchOption.AllDirectories);
        Assert.Equal(12, lines.Length); // 12 lines of 1 MiB

        using (DaemonProcess second = DaemonProcess.StartWith(mount, mp))
        {
            Assert.Equal(data, File.ReadAllBytes(Path.Combine(mp.Path, "data")));
            long fromStore = StoreBytesRead(mp.Path);
            Assert.True(fromStore < 1 << 20, $"{fromStore} bytes read from the store: only segment footers, the lines came from disk");
            DiskTierSection disk = Status(mp.Path).Cache.Disk!;
            Assert.Equal(12, disk.Hits);
            Assert.Equal(12, disk.Files);
            Assert.Equal(12L * (ProxyFs.Core.Cache.DiskLineTier.HeaderLength + (1 << 20)), disk.Bytes);
            Assert.Matches(@"disk cache  12 MiB of 64 MiB in 12 lines; 12 hits", ProxyFsBinary.Run(CommandTimeout, "status", mp.Path).Stdout);
        }

        byte[] damaged = File.ReadAllBytes(lines[0]);
        damaged[^1] ^= 0x01;
        File.WriteAllBytes(lines[0], damaged);
        using (DaemonProcess third = DaemonProcess.StartWith(mount, mp))
        {
            Assert.Equal(data, File.ReadAllBytes(Path.Combine(mp.Path, "data")));
            long fromStore = StoreBytesRead(mp.Path);
            Assert.InRange(fromStore, 1 << 20, 2 << 20); // the damaged line, fetched again, and footers
            Assert.Equal(1, Status(mp.Path).Cache.Disk!.Corrupt);
        }
        Assert.NotEqual(damaged, File.ReadAllBytes(lines[0])); // rewritten from the store
    }
}
