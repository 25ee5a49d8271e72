using ProxyFs.Fuse.Mounting;
using ProxyFs.Fuse.Native;

namespace ProxyFs.Fuse.Tests;

public class MountOptionTests
{
    [Fact]
    public void Flags_and_kernel_options_are_split_like_mount_8()
    {
        var (flags, kernel) = FuseMounter.SplitOptions(new FuseMountOptions
        {
            AllowOther = true,
            ReadOnly = true,
            ExtraOptions = ["noatime", "suid", "max_read=131072", "exec"],
        });
        Assert.Equal(Libc.MS_RDONLY | Libc.MS_NODEV | Libc.MS_NOATIME, flags);
        Assert.Equal(["default_permissions", "allow_other", "max_read=131072"], kernel);

        var (plainFlags, plainKernel) = FuseMounter.SplitOptions(new FuseMountOptions { DefaultPermissions = false });
        Assert.Equal(Libc.MS_NOSUID | Libc.MS_NODEV, plainFlags);
        Assert.Empty(plainKernel);

        var (named, _) = FuseMounter.SplitOptions(new FuseMountOptions { NoSuid = false, NoDev = false, NoExec = true, NoAtime = true });
        Assert.Equal(Libc.MS_NOEXEC | Libc.MS_NOATIME, named);
    }

    [Fact]
    public void Mountinfo_lines_are_parsed_and_unescaped()
    {
        var entries = MountInfo.Parse(
        [
            "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw",
            "98 22 0:52 / /tmp/with\\040space\\134x rw,nosuid,nodev,relatime shared:50 - fuse.proxyfs proxyfs rw,user_id=0,group_id=0",
            "99 22 0:53 / /mnt/two rw master:1 shared:2 - fuse fs\\040name rw",
            "garbage",
        ]);
        Assert.Equal(3, entries.Count);
        Assert.Equal("/tmp/with space\\x", entries[1].MountPoint);
        Assert.Equal("fuse.proxyfs", entries[1].FileSystemType);
        Assert.Equal("0:52", entries[1].Device);
        Assert.Equal(52u, entries[1].ConnectionId);
        Assert.True(entries[1].IsFuse);
        Assert.False(entries[0].IsFuse);
        Assert.Equal("fs name", entries[2].Source);
        Assert.Equal("fuse", entries[2].FileSystemType);
    }

    [Fact]
    public void Mountinfo_of_this_process_has_the_root()
    {
        Assert.NotNull(MountInfo.Find("/"));
        Assert.True(FuseMounter.IsMountPoint("/"));
        Assert.False(FuseMounter.IsMountPoint("/tmp/proxyfs-test-never-" + Guid.NewGuid().ToString("N")));
    }
}
