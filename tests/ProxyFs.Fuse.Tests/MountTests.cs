using System.Security.Cryptography;
using ProxyFs.Fuse.Mounting;
using ProxyFs.Fuse.Native;
using ProxyFs.Fuse.Protocol;
using ProxyFs.Fuse.Tests.Support;

namespace ProxyFs.Fuse.Tests;

/// <summary>Mounts run one at a time: they share the kernel and /proc/mounts, and must never overlap in cleanup.</summary>
[CollectionDefinition(nameof(MountCollection), DisableParallelization = true)]
public sealed class MountCollection
{
}

/// <summary>Real mounts through /dev/fuse, by mount(2) and by fusermount3. Needs root (as here and in CI).</summary>
[Collection(nameof(MountCollection))]
public class MountTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Mount_serves_stat_read_write_readdir_and_unmounts(bool forceFusermount)
    {
        var fs = new TestFileSystem();
        var mount = TestMount.Start(fs, new FuseMountOptions { ForceFusermount = forceFusermount, ReaderThreads = 3 });
        using (mount)
        {
            string? line = TestMount.ProcMountsLine(mount.Path);
            Assert.NotNull(line);
            var fields = line.Split(' ');
            Assert.Equal("proxyfs", fields[0]);
            Assert.Equal("fuse.proxyfs", fields[2]);
            Assert.Contains("default_permissions", fields[3], StringComparison.Ordinal);
            Assert.Contains("user_id=0", fields[3], StringComparison.Ordinal);
            Assert.Contains("nosuid", fields[3], StringComparison.Ordinal);
            Assert.True(mount.Session.IsMounted);

            Assert.Equal(TestFileSystem.HelloContent, mount.Io(() => File.ReadAllBytes(mount["hello.txt"])));
            Assert.Equal(TestFileSystem.HelloContent.Length, mount.Io(() => new FileInfo(mount["hello.txt"]).Length));
            Assert.Equal(["data.bin", "hello.txt", "sub"], mount.Io(() => Directory.GetFileSystemEntries(mount.Path).Select(p => Path.GetFileName(p)!).Order().ToArray()));
            Assert.True(mount.Io(() => Directory.Exists(mount["sub"])));

            byte[] data = RandomNumberGenerator.GetBytes((3 << 20) + 12345);
            mount.Io(() => File.WriteAllBytes(mount["new.bin"], data));
            Assert.Equal(data, mount.Io(() => File.ReadAllBytes(mount["new.bin"])));
            Assert.Equal(data.Length, mount.Io(() => new FileInfo(mount["new.bin"]).Length));

            mount.Io(() => File.AppendAllText(mount["hello.txt"], "more\n"));
            Assert.EndsWith("more\n", mount.Io(() => File.ReadAllText(mount["hello.txt"])), StringComparison.Ordinal);
            mount.Io(() => File.WriteAllText(mount["hello.txt"], "truncated")); // O_TRUNC, done by OPEN (ATOMIC_O_TRUNC)
            Assert.Equal("truncated", mount.Io(() => File.ReadAllText(mount["hello.txt"])));

            mount.Io(() => Directory.CreateDirectory(mount["made"]));
            mount.Io(() => File.Move(mount["new.bin"], mount["made/moved.bin"]));
            Assert.Equal(data.Length, mount.Io(() => new FileInfo(mount["made/moved.bin"]).Length));
            mount.Io(() => File.Delete(mount["made/moved.bin"]));
            mount.Io(() => Directory.Delete(mount["made"]));
            Assert.False(mount.Io(() => Directory.Exists(mount["made"])));

            var connection = mount.Session.Connection;
            Assert.Equal(7u, connection.ProtocolMajor);
            Assert.True(connection.ProtocolMinor >= 31);
            Assert.Equal(0UL, connection.Capabilities & (FuseKernel.FUSE_POSIX_LOCKS | FuseKernel.FUSE_FLOCK_LOCKS));
            // 3 MiB written by one write(2): the kernel splits it into WRITEs of max_write (1 MiB with 256 pages).
            Assert.Equal(connection.MaxWrite, (uint)fs.MaxWriteSeen);

            var stats = mount.Session.GetStatistics();
            Assert.True(stats.RequestCount(fuse_opcode.FUSE_LOOKUP) > 0);
            Assert.True(stats.RequestCount(fuse_opcode.FUSE_WRITE) >= 3);
            Assert.True(stats.BytesWritten >= data.Length);
            Assert.True(stats.BytesRead >= data.Length);
            Assert.Equal(0, stats.ReplyWriteFailures);

            mount.Session.Unmount();
            Assert.False(mount.Session.IsMounted);
            Assert.Null(TestMount.ProcMountsLine(mount.Path));
            await mount.Session.Completion.WaitAsync(Timeout);
            Assert.Equal(1, fs.DestroyCalls);
        }
        Assert.False(Directory.Exists(mount.Path));
    }

    [Fact]
    public void Readers_use_cloned_channels_and_read_ahead_is_raised()
    {
        using var mount = TestMount.Start(new TestFileSystem(), new FuseMountOptions { ReaderThreads = 4, ReadAheadKb = 2048 });
        Assert.Equal(4, mount.Session.ReaderCount);
        Assert.Equal(2048u, mount.Session.ReadAheadKb);
        var entry = MountInfo.Find(mount.Path)!;
        Assert.Equal("2048", File.ReadAllText($"/sys/class/bdi/{entry.Device}/read_ahead_kb").Trim());
        Assert.Equal(mount.Session.Connection.MaxWrite + 4096, (uint)mount.Session.BufferSize);

        // Many readers at once: every request answered on the channel it came from.
        mount.Io(() => Parallel.For(0, 64, i => Assert.Equal(TestFileSystem.HelloContent, File.ReadAllBytes(mount["hello.txt"]))));
        Assert.Equal(0, mount.Session.GetStatistics().ReplyWriteFailures);
    }

    [Fact]
    public async Task Unmount_while_a_file_is_open_detaches_lazily_and_the_file_stays_readable()
    {
        var fs = new TestFileSystem();
        using var mount = TestMount.Start(fs);
        var stream = mount.Io(() => new FileStream(mount["data.bin"], FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None));
        try
        {
            mount.Session.Unmount();
            Assert.False(mount.Session.IsMounted);
            Assert.Null(TestMount.ProcMountsLine(mount.Path));
            Assert.Contains(mount.LogLines, l => l.Contains("detaching lazily", StringComparison.Ordinal));
            byte[] buffer = new byte[100];
            stream.Position = 1000;
            Assert.Equal(100, mount.Io(() => stream.Read(buffer)));
            Assert.Equal(fs.Find(fs.DataIno)!.Data.AsSpan(1000, 100).ToArray(), buffer);
            Assert.False(mount.Session.Completion.IsCompleted);
        }
        finally
        {
            mount.Io(stream.Dispose); // FLUSH and RELEASE go to the server: bounded like any other operation
        }
        await mount.Session.Completion.WaitAsync(Timeout);
        Assert.Equal(1, fs.DestroyCalls);
    }

    [Fact]
    public async Task Strict_unmount_of_a_busy_mount_throws_and_lazy_unmount_then_detaches()
    {
        var fs = new TestFileSystem();
        using var mount = TestMount.Start(fs);
        var stream = mount.Io(() => File.OpenRead(mount["hello.txt"]));
        try
        {
            var error = Assert.Throws<FuseMountException>(() => mount.Session.Unmount(lazy: false));
            Assert.Equal(FuseMountError.Busy, error.Reason);
            Assert.Equal(16, error.Errno);
            Assert.Equal($"cannot unmount {mount.Path}: Device or resource busy", error.Message);
            Assert.True(mount.Session.IsMounted);
            Assert.NotNull(TestMount.ProcMountsLine(mount.Path));

            mount.Session.Unmount(lazy: true);
            Assert.False(mount.Session.IsMounted);
            Assert.Null(TestMount.ProcMountsLine(mount.Path));
            Assert.Equal(TestFileSystem.HelloContent.Length, mount.Io(() => stream.Read(new byte[4096])));
        }
        finally
        {
            mount.Io(stream.Dispose);
        }
        await mount.Session.Completion.WaitAsync(Timeout);
        mount.Session.Unmount(lazy: false); // not mounted any more: nothing to do
    }

    [Fact]
    public async Task An_unmount_from_outside_ends_the_session()
    {
        var fs = new TestFileSystem();
        using var mount = TestMount.Start(fs);
        Assert.Equal(0, Libc.Umount2(mount.Path, 0));
        await mount.Session.Completion.WaitAsync(Timeout);
        Assert.False(mount.Session.IsMounted);
        Assert.Equal(1, fs.DestroyCalls);
        mount.Session.Unmount(); // nothing left to do
    }

    [Fact]
    public async Task A_stuck_operation_is_aborted_by_the_test_timeout_and_the_session_ends()
    {
        using var stuck = new ManualResetEventSlim();
        var fs = new TestFileSystem { StuckLookup = stuck };
        using var mount = TestMount.Start(fs, new FuseMountOptions { ReaderThreads = 2 });
        var error = Assert.Throws<TimeoutException>(() => mount.Io(() => File.Exists(mount["stuck"]), TimeSpan.FromSeconds(2)));
        Assert.Contains("the mount was aborted", error.Message, StringComparison.Ordinal);
        Assert.False(FuseMounter.IsMountPoint(mount.Path));
        stuck.Set(); // the handler returns; its reply finds the connection gone
        await mount.Session.Completion.WaitAsync(Timeout);
        Assert.False(mount.Session.IsMounted);
        Assert.Equal(1, fs.DestroyCalls);
    }

    [Fact]
    public void Dispose_is_idempotent_and_safe_from_many_threads()
    {
        var fs = new TestFileSystem();
        using var mount = TestMount.Start(fs);
        Assert.Equal(TestFileSystem.HelloContent, mount.Io(() => File.ReadAllBytes(mount["hello.txt"])));
        Parallel.For(0, 4, _ => mount.Session.Dispose());
        Assert.False(mount.Session.IsMounted);
        Assert.Null(TestMount.ProcMountsLine(mount.Path));
        Assert.True(mount.Session.Completion.IsCompletedSuccessfully);
        Assert.Equal(1, fs.DestroyCalls);
    }

    [Fact]
    public void Notifications_are_sent_from_outside_the_request_path()
    {
        var fs = new TestFileSystem();
        using var mount = TestMount.Start(fs);
        // A handler that notifies about its own directory while serving CREATE: sent inline this would deadlock.
        fs.OnCreate = name => mount.Session.Notifier.InvalidateEntry(FuseKernel.FUSE_ROOT_ID, name);
        mount.Io(() => File.WriteAllText(mount["created.txt"], "x"));
        Assert.True(mount.Io(() => File.Exists(mount["hello.txt"])));
        mount.Session.Notifier.InvalidateEntry(FuseKernel.FUSE_ROOT_ID, "hello.txt"u8);
        mount.Session.Notifier.InvalidateInode(fs.HelloIno, 0, 0);
        mount.Session.Notifier.Delete(FuseKernel.FUSE_ROOT_ID, fs.HelloIno, "gone.txt"u8);
        Assert.True(SpinWait.SpinUntil(() =>
        {
            var s = mount.Session.GetStatistics();
            return s.NotificationsSent + s.NotificationsNotFound >= 4;
        }, Timeout));
        var stats = mount.Session.GetStatistics();
        Assert.Equal(0, stats.NotificationsFailed);
        Assert.True(stats.NotificationsSent >= 2); // the cached entries of created.txt and hello.txt
        Assert.Equal("x", mount.Io(() => File.ReadAllText(mount["created.txt"])));
    }

    [Fact]
    public void Debug_mode_logs_every_request_and_reply_as_named_structs()
    {
        using var mount = TestMount.Start(new TestFileSystem(), new FuseMountOptions { Debug = true });
        mount.Io(() => File.ReadAllBytes(mount["hello.txt"]));
        string[] lines;
        lock (mount.LogLines)
        {
            lines = [.. mount.LogLines];
        }
        Assert.Contains(lines, l => l.StartsWith("Debug: <- INIT", StringComparison.Ordinal) && l.Contains("fuse_init_in{major=7", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Debug: -> INIT", StringComparison.Ordinal) && l.Contains("fuse_init_out{major=7", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Debug: <- LOOKUP", StringComparison.Ordinal) && l.Contains("name=\"hello.txt\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Debug: -> LOOKUP", StringComparison.Ordinal) && l.Contains("fuse_entry_out{nodeid=", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Debug: <- OPEN", StringComparison.Ordinal) && l.Contains("fuse_open_in{flags=", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Debug: <- READ", StringComparison.Ordinal) && l.Contains("fuse_read_in{fh=", StringComparison.Ordinal));
    }

    [Fact]
    public void Read_only_mount_refuses_writes()
    {
        using var mount = TestMount.Start(new TestFileSystem(), new FuseMountOptions { ReadOnly = true });
        Assert.Contains(" ro,", TestMount.ProcMountsLine(mount.Path)!, StringComparison.Ordinal);
        Assert.Equal(TestFileSystem.HelloContent, mount.Io(() => File.ReadAllBytes(mount["hello.txt"])));
        Assert.ThrowsAny<IOException>(() => mount.Io(() => File.WriteAllText(mount["hello.txt"], "no")));
    }
}
