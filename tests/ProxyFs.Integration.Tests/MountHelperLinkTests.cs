using ProxyFs.Host.Metrics;
using ProxyFs.Integration.Tests.Support;

namespace ProxyFs.Integration.Tests;

/// <summary>
/// proxyfs started by the names mount(8) gives its helpers (/sbin/mount.proxyfs for `mount -t proxyfs`,
/// mount.fuse.proxyfs for `-t fuse.proxyfs`) mounts as `proxyfs mount` does, in every build: the command line is named
/// proxyfs whatever argv[0] says (the NativeAOT executable started as mount.proxyfs used to name it "mount" and crash).
/// </summary>
public sealed class MountHelperLinkTests : IDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("proxyfs-test-helper-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("mount.proxyfs")]
    [InlineData("mount.fuse.proxyfs")]
    public void A_link_by_a_mount_helper_name_mounts_the_volume(string name)
    {
        using var mp = new TestMountPoint();
        string link = Path.Combine(_dir, name);
        File.CreateSymbolicLink(link, ProxyFsBinary.Executable);
        CommandResult mount = ProxyFsBinary.RunFile(link, CommandTimeout, "memory://", mp.Path, "-o", "rw,noatime", "-v");
        try
        {
            Assert.True(mount.ExitCode == 0, mount.ToString());
            Assert.True(mp.IsMounted, mount.ToString());
            File.WriteAllText(Path.Combine(mp.Path, "f"), "through the helper");
            Assert.Equal("through the helper", File.ReadAllText(Path.Combine(mp.Path, "f")));
            StatusSnapshot s = ProxyFsBinary.Status(mp.Path);
            Assert.Contains("noatime", s.Options);
        }
        finally
        {
            CommandResult unmount = ProxyFsBinary.Run(CommandTimeout, "unmount", mp.Path);
            Assert.True(unmount.ExitCode == 0 || !mp.IsMounted, unmount.ToString());
        }
    }

    [Fact]
    public void A_mount_helper_without_a_mount_point_is_a_usage_error()
    {
        string link = Path.Combine(_dir, "mount.proxyfs");
        File.CreateSymbolicLink(link, ProxyFsBinary.Executable);
        CommandResult r = ProxyFsBinary.RunFile(link, CommandTimeout, "memory://");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("usage: mount.proxyfs", r.Stderr, StringComparison.Ordinal);
    }
}
