using System.Diagnostics;
using ProxyFs.Host.Metrics;
using ProxyFs.Integration.Tests.Support;

namespace ProxyFs.Integration.Tests;

/// <summary>
/// `proxyfs mount --all`: every volume of a configuration served by one daemon, each at its mount point, sharing one
/// read cache by weight; each unmounts on its own (the others keep serving, the shares rebalance), and the daemon
/// exits with its last mount.
/// </summary>
public sealed class MultiVolumeDaemonTests : IDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("proxyfs-test-multi-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static StatusSnapshot Status(string mountPoint) => ProxyFsBinary.Status(mountPoint);

    private static void WaitUntil(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "timed out waiting until " + what);
            Thread.Sleep(50);
        }
    }

    private string Volume(string name)
    {
        string uri = "file://" + Path.Combine(_dir, name);
        CommandResult format = ProxyFsBinary.Run(CommandTimeout, "format", uri);
        Assert.True(format.ExitCode == 0, format.ToString());
        return uri;
    }

    [Fact]
    public void One_daemon_serves_every_configured_volume_and_each_unmounts_on_its_own()
    {
        using var heavy = new TestMountPoint("multi-heavy");
        using var light = new TestMountPoint("multi-light");
        string config = Path.Combine(_dir, "proxyfs.yaml");
        File.WriteAllText(config, $"""
            read_cache:
              size: 64MiB
            volumes:
              - name: heavy
                uri: {Volume("heavy")}
                mount_point: {heavy.Path}
                read_cache_weight: 3
              - name: light
                uri: {Volume("light")}
                mount_point: {light.Path}
                read_cache_weight: 1
            """);
        using DaemonProcess daemon = DaemonProcess.StartWith(["mount", "--all", "--config", config, "--foreground"], heavy);
        Assert.True(light.IsMounted);

        StatusSnapshot h = Status(heavy.Path);
        StatusSnapshot l = Status(light.Path);
        Assert.Equal(daemon.Pid, h.Pid);
        Assert.Equal(daemon.Pid, l.Pid);
        Assert.Equal("heavy", h.VolumeName);
        Assert.Equal("light", l.VolumeName);
        Assert.Equal(64L << 20, h.Cache.BudgetBytes);
        Assert.Equal(48L << 20, h.Cache.ShareBytes); // 64 MiB × 3/4
        Assert.Equal(16L << 20, l.Cache.ShareBytes); // 64 MiB × 1/4

        byte[] data = new byte[3 << 20];
        new Random(5).NextBytes(data);
        File.WriteAllBytes(Path.Combine(heavy.Path, "h"), data);
        File.WriteAllBytes(Path.Combine(light.Path, "l"), data);

        // fusermount3 -u of one leaves the other serving, and its share grows to the whole budget.
        using (Process unmount = Process.Start("fusermount3", ["-u", light.Path]))
        {
            Assert.True(unmount.WaitForExit(30_000));
            Assert.Equal(0, unmount.ExitCode);
        }
        WaitUntil(() => !light.IsMounted, "the light volume is unmounted");
        WaitUntil(() => Status(heavy.Path).Cache.ShareBytes == 64L << 20, "the heavy volume's share grew to the whole budget");
        Assert.False(daemon.HasExited);
        Assert.Equal(data, File.ReadAllBytes(Path.Combine(heavy.Path, "h")));
        File.WriteAllBytes(Path.Combine(heavy.Path, "h2"), data);
        Assert.Equal(3, Status(heavy.Path).Cache.Weight);

        // The last unmount ends the daemon, and what both volumes held is in their stores.
        CommandResult last = ProxyFsBinary.Run(CommandTimeout, "unmount", heavy.Path);
        Assert.True(last.ExitCode == 0, last.ToString());
        Assert.True(daemon.WaitForExit(TimeSpan.FromSeconds(30)), daemon.Output);
        Assert.Equal(0, daemon.ExitCode);

        using DaemonProcess again = DaemonProcess.StartWith(["mount", "--all", "--config", config, "--foreground"], heavy);
        Assert.Equal(data, File.ReadAllBytes(Path.Combine(heavy.Path, "h2")));
        Assert.Equal(data, File.ReadAllBytes(Path.Combine(light.Path, "l")));
        Assert.Equal(48L << 20, Status(heavy.Path).Cache.ShareBytes);
        again.Signal(Posix.SIGTERM);
        Assert.True(again.WaitForExit(TimeSpan.FromSeconds(30)), again.Output);
        Assert.False(heavy.IsMounted);
        Assert.False(light.IsMounted);
    }

    [Fact]
    public void Mount_all_detaches_like_mount_and_refuses_a_volume_without_a_mount_point()
    {
        using var a = new TestMountPoint("multi-a");
        string config = Path.Combine(_dir, "proxyfs.yaml");
        File.WriteAllText(config, $"volumes:\n  - name: a\n    uri: memory://\n    mount_point: {a.Path}\n  - name: b\n    uri: memory://\n");
        CommandResult refused = ProxyFsBinary.Run(CommandTimeout, "mount", "--all", "--config", config);
        Assert.Equal(78, refused.ExitCode);
        Assert.Contains("volume 'b' has no mount_point", refused.Stderr, StringComparison.Ordinal);
        Assert.False(a.IsMounted);

        File.WriteAllText(config, $"volumes:\n  - name: a\n    uri: memory://\n    mount_point: {a.Path}\n");
        CommandResult mount = ProxyFsBinary.Run(CommandTimeout, "mount", "--all", "--config", config);
        try
        {
            Assert.True(mount.ExitCode == 0, mount.ToString());
            Assert.Contains($"'a' at {a.Path}", mount.Stdout, StringComparison.Ordinal);
            Assert.Equal("a", Status(a.Path).VolumeName);
        }
        finally
        {
            CommandResult unmount = ProxyFsBinary.Run(CommandTimeout, "unmount", a.Path);
            Assert.True(unmount.ExitCode == 0 || !a.IsMounted, unmount.ToString());
        }
    }
}
