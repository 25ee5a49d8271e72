using ProxyFs.Fuse.Mounting;
using ProxyFs.Fuse.Native;
using ProxyFs.Fuse.Tests.Support;

namespace ProxyFs.Fuse.Tests;

/// <summary>Every way a mount can fail gives a reason and one line that says what to do.</summary>
[Collection(nameof(MountCollection))]
public class MountErrorTests
{
    [Fact]
    public void Missing_mount_point_is_refused()
    {
        string path = "/tmp/proxyfs-test-missing-" + Guid.NewGuid().ToString("N")[..12];
        var error = Assert.Throws<FuseMountException>(() => FuseSession.Mount(path, new TestFileSystem()));
        Assert.Equal(FuseMountError.MountPointMissing, error.Reason);
        Assert.Equal(2, error.Errno);
        Assert.Equal($"mount point {path} does not exist: create the directory first", error.Message);
    }

    [Fact]
    public void A_file_is_not_a_mount_point()
    {
        string dir = TestMount.NewMountPoint();
        try
        {
            string file = Path.Combine(dir, "file");
            File.WriteAllText(file, "x");
            var error = Assert.Throws<FuseMountException>(() => FuseSession.Mount(file, new TestFileSystem()));
            Assert.Equal(FuseMountError.NotADirectory, error.Reason);
            Assert.Contains("is not a directory", error.Message, StringComparison.Ordinal);
            var below = Assert.Throws<FuseMountException>(() => FuseSession.Mount(Path.Combine(file, "below"), new TestFileSystem()));
            Assert.Equal(FuseMountError.NotADirectory, below.Reason);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_mounted_directory_is_busy(bool forceFusermount)
    {
        using var mount = TestMount.Start(new TestFileSystem());
        var error = Assert.Throws<FuseMountException>(() => FuseSession.Mount(mount.Path, new TestFileSystem(), new FuseMountOptions { ForceFusermount = forceFusermount }));
        Assert.Equal(FuseMountError.Busy, error.Reason);
        Assert.Equal($"mount point {mount.Path} is already a mount point (fuse.proxyfs from proxyfs): unmount it first", error.Message);
        Assert.True(mount.Session.IsMounted);
        Assert.Equal(TestFileSystem.HelloContent, mount.Io(() => File.ReadAllBytes(mount["hello.txt"])));
    }

    [Fact]
    public void A_stale_mount_is_detected_and_the_error_says_how_to_clean_it()
    {
        string path = TestMount.NewMountPoint();
        try
        {
            // A mount whose daemon is gone: mount, then close the /dev/fuse fd without serving or unmounting.
            int fd = FuseMounter.MountWithSyscall(path, new FuseMountOptions());
            Assert.Equal(0, Libc.Close(fd));
            Assert.Equal(-Libc.ENOTCONN, Libc.StatMode(path, out _));

            var error = Assert.Throws<FuseMountException>(() => FuseSession.Mount(path, new TestFileSystem()));
            Assert.Equal(FuseMountError.Stale, error.Reason);
            Assert.Equal(107, error.Errno);
            Assert.Equal($"mount point {path} is a stale FUSE mount (transport endpoint is not connected): run `fusermount3 -uz {path}` first", error.Message);

            FuseMounter.Unmount(path, lazy: true);
            Assert.False(FuseMounter.IsMountPoint(path));
            using var mount = TestMount.Start(new TestFileSystem());
            Assert.True(mount.Session.IsMounted);
        }
        finally
        {
            TestMount.Cleanup(path);
        }
    }

    [Fact]
    public void An_unavailable_device_is_reported()
    {
        string path = TestMount.NewMountPoint();
        try
        {
            var error = Assert.Throws<FuseMountException>(() => FuseSession.Mount(path, new TestFileSystem(), new FuseMountOptions { DevicePath = "/nonexistent/fuse" }));
            Assert.Equal(FuseMountError.DeviceUnavailable, error.Reason);
            Assert.Equal("cannot open /nonexistent/fuse: No such file or directory: install fuse3 and run `modprobe fuse`", error.Message);
            Assert.False(FuseMounter.IsMountPoint(path));
        }
        finally
        {
            TestMount.Cleanup(path);
        }
    }

    [Fact]
    public void Fusermount_errors_come_back_as_one_line()
    {
        string path = TestMount.NewMountPoint();
        try
        {
            var error = Assert.Throws<FuseMountException>(() => FuseSession.Mount(path, new TestFileSystem(),
                new FuseMountOptions { ForceFusermount = true, ExtraOptions = ["no_such_option"] }));
            Assert.Equal(FuseMountError.FusermountFailed, error.Reason);
            // fusermount3 names itself by the path it was run from (/usr/bin/fusermount3, /bin/fusermount3, …).
            Assert.Matches($"^fusermount3 could not mount {path}: [/a-z]*fusermount3: unknown option 'no_such_option'$", error.Message);
            Assert.DoesNotContain('\n', error.Message);
            Assert.False(FuseMounter.IsMountPoint(path));
        }
        finally
        {
            TestMount.Cleanup(path);
        }
    }

    [Fact]
    public void Invalid_kernel_option_names_the_options()
    {
        string path = TestMount.NewMountPoint();
        try
        {
            var error = Assert.Throws<FuseMountException>(() => FuseSession.Mount(path, new TestFileSystem(),
                new FuseMountOptions { ExtraOptions = ["no_such_option"] }));
            Assert.Equal(FuseMountError.Failed, error.Reason);
            Assert.Equal(22, error.Errno);
            Assert.StartsWith($"mount(2) of {path} failed: Invalid argument (options fd=", error.Message, StringComparison.Ordinal);
            Assert.False(FuseMounter.IsMountPoint(path));
        }
        finally
        {
            TestMount.Cleanup(path);
        }
    }

    [Fact]
    public void Options_are_validated_before_anything_is_mounted()
    {
        Assert.Throws<ArgumentException>(() => FuseSession.Mount("/tmp", new TestFileSystem(), new FuseMountOptions { FsName = "a,b" }));
        Assert.Throws<ArgumentOutOfRangeException>(() => FuseSession.Mount("/tmp", new TestFileSystem(), new FuseMountOptions { ReaderThreads = 0 }));
        Assert.Throws<ArgumentException>(() => FuseSession.Mount("/tmp", new TestFileSystem(), new FuseMountOptions { ExtraOptions = ["a,b"] }));
    }

    [Fact]
    public void Unmounting_a_path_that_is_not_mounted_fails_clearly()
    {
        string path = TestMount.NewMountPoint();
        try
        {
            var error = Assert.Throws<FuseMountException>(() => FuseMounter.Unmount(path));
            Assert.Equal(FuseMountError.Failed, error.Reason);
            Assert.Equal($"cannot unmount {path}: Invalid argument", error.Message);
        }
        finally
        {
            TestMount.Cleanup(path);
        }
    }
}
