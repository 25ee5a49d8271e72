using ProxyFs.Host.Daemon;
using ProxyFs.Integration.Tests.Support;

namespace ProxyFs.Integration.Tests;

/// <summary>The command-line contract: mount returns once the mount answers, unmount flushes and stops the daemon,
/// and every failure is one line with a non-zero exit.</summary>
public sealed class CommandLineTests
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public void Mount_detaches_a_daemon_that_serves_until_unmount()
    {
        using var mp = new TestMountPoint();
        CommandResult mount = ProxyFsBinary.Run(CommandTimeout, "mount", "memory://", mp.Path);
        try
        {
            Assert.True(mount.ExitCode == 0, mount.ToString());
            Assert.Contains("mounted memory:// at " + mp.Path, mount.Stdout, StringComparison.Ordinal);
            MountEntry? entry = MountTable.Find(mp.Path);
            Assert.NotNull(entry);
            Assert.Equal("fuse.proxyfs", entry.FsType);

            string file = Path.Combine(mp.Path, "hello.txt");
            File.WriteAllText(file, "hello, proxyfs\n");
            Assert.Equal("hello, proxyfs\n", File.ReadAllText(file));

            CommandResult unmount = ProxyFsBinary.Run(CommandTimeout, "unmount", mp.Path);
            Assert.True(unmount.ExitCode == 0, unmount.ToString());
            Assert.False(mp.IsMounted);
        }
        finally
        {
            if (mp.IsMounted)
            {
                ProxyFsBinary.Run(CommandTimeout, "unmount", mp.Path);
            }
        }
    }

    [Fact]
    public void Mount_on_a_missing_directory_fails_with_one_line()
    {
        string missing = "/tmp/proxyfs-test-missing-" + Guid.NewGuid().ToString("N");
        CommandResult r = ProxyFsBinary.Run(CommandTimeout, "mount", "memory://", missing);
        Assert.Equal(32, r.ExitCode);
        string line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(missing, line, StringComparison.Ordinal);
        Assert.Contains("does not exist", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Mount_on_a_busy_mount_point_fails()
    {
        using var mp = new TestMountPoint();
        using DaemonProcess first = DaemonProcess.Start("memory://", mp);
        CommandResult second = ProxyFsBinary.Run(CommandTimeout, "mount", "memory://", mp.Path);
        Assert.Equal(32, second.ExitCode);
        Assert.Contains("already", Assert.Single(second.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        Assert.True(mp.IsMounted);
    }

    [Fact]
    public void Unknown_mount_option_is_a_usage_error()
    {
        using var mp = new TestMountPoint();
        CommandResult r = ProxyFsBinary.Run(CommandTimeout, "mount", "memory://", mp.Path, "-o", "allow_other,frobnicate=3");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("unknown mount option 'frobnicate=3'", r.Stderr, StringComparison.Ordinal);
        Assert.False(mp.IsMounted);
    }

    [Fact]
    public void Unknown_uri_scheme_fails_with_the_reason()
    {
        using var mp = new TestMountPoint();
        CommandResult r = ProxyFsBinary.Run(CommandTimeout, "mount", "ftp://example/x", mp.Path);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("unknown scheme 'ftp'", r.Stderr, StringComparison.Ordinal);
        Assert.False(mp.IsMounted);
    }

    [Fact]
    public void Killed_daemon_leaves_a_stale_mount_that_mount_reports_and_unmount_detaches()
    {
        using var mp = new TestMountPoint();
        using DaemonProcess daemon = DaemonProcess.Start("memory://", mp);
        daemon.Kill9();
        Assert.True(mp.IsMounted);

        CommandResult again = ProxyFsBinary.Run(CommandTimeout, "mount", "memory://", mp.Path);
        Assert.Equal(32, again.ExitCode);
        Assert.Contains("stale", again.Stderr, StringComparison.OrdinalIgnoreCase);

        CommandResult unmount = ProxyFsBinary.Run(CommandTimeout, "unmount", mp.Path);
        Assert.True(unmount.ExitCode == 0, unmount.ToString());
        Assert.Contains("without a flush", unmount.Stderr, StringComparison.Ordinal);
        Assert.False(mp.IsMounted);
    }

    [Fact]
    public void Sigterm_flushes_unmounts_and_exits_cleanly()
    {
        using var mp = new TestMountPoint();
        using DaemonProcess daemon = DaemonProcess.Start("memory://", mp);
        File.WriteAllBytes(Path.Combine(mp.Path, "x"), new byte[100_000]);
        daemon.Signal(Posix.SIGTERM);
        Assert.True(daemon.WaitForExit(TimeSpan.FromSeconds(30)), daemon.Output);
        Assert.Equal(0, daemon.ExitCode);
        Assert.False(mp.IsMounted);
    }

    [Fact]
    public void Unmount_of_a_directory_that_is_not_mounted_fails()
    {
        using var mp = new TestMountPoint();
        CommandResult r = ProxyFsBinary.Run(CommandTimeout, "unmount", mp.Path);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("is not mounted", r.Stderr, StringComparison.Ordinal);
    }
}
