using System.Security.Cryptography;
using System.Text;
using ProxyFs.Integration.Tests.Support;
using ProxyFs.ObjectStore;
using ProxyFs.Testing;
using ProxyFs.Testing.Posix;
using ProxyFs.Testing.Scenarios;

namespace ProxyFs.Integration.Tests;

/// <summary>A file:// volume formatted with `proxyfs format` in a temporary directory.</summary>
public sealed class FileVolume : IDisposable
{
    private readonly TempDirectory _dir = TempDirectory.Create();

    public FileVolume()
    {
        Uri = "file://" + Path.Combine(_dir.Path, "store");
        CommandResult format = ProxyFsBinary.Run(TimeSpan.FromSeconds(60), "format", Uri, "--label", "test");
        Assert.True(format.ExitCode == 0, format.ToString());
    }

    public string Uri { get; }

    /// <summary>Keys of the store under <paramref name="prefix"/>, listed through the object-store interface.</summary>
    public List<string> Keys(string prefix) =>
        StoreAccess.With(Uri, store => store.ListAllAsync(prefix).ToBlockingEnumerable().Select(o => o.Key).ToList());

    public void Dispose() => _dir.Dispose();
}

/// <summary>One daemon serving a file:// volume for the whole class.</summary>
public sealed class FileVolumeMountFixture : ScenarioMountFixture
{
    public FileVolumeMountFixture()
        : this(new FileVolume())
    {
    }

    private FileVolumeMountFixture(FileVolume volume)
        : base(volume.Uri, "volume-scenarios")
    {
        Volume = volume;
    }

    public FileVolume Volume { get; }

    public override void Dispose()
    {
        base.Dispose();
        Volume.Dispose();
    }
}

/// <summary>The POSIX scenario library through the kernel and the daemon serving a file:// volume, against tmpfs.</summary>
public sealed class FileVolumeScenarioTests(FileVolumeMountFixture mount) : IClassFixture<FileVolumeMountFixture>
{
    [Theory]
    [MemberData(nameof(PosixScenarios.Names), MemberType = typeof(PosixScenarios))]
    public void File_volume_mount_matches_tmpfs(string scenario)
    {
        mount.CompareWithTmpfs(scenario);
    }
}

/// <summary>What a volume keeps across unmounts and crashes, and how its writes are coalesced, through real mounts.</summary>
public sealed class VolumeMountTests
{
    [Fact]
    public void A_clean_unmount_keeps_the_whole_tree_byte_for_byte()
    {
        using var volume = new FileVolume();
        using var mountPoint = new TestMountPoint();
        string before;
        using (DaemonProcess daemon = DaemonProcess.Start(volume.Uri, mountPoint))
        {
            BuildTree(mountPoint.Path, seed: 1);
            before = Describe(mountPoint.Path);
        }
        Assert.False(mountPoint.IsMounted);
        using (DaemonProcess daemon = DaemonProcess.Start(volume.Uri, mountPoint))
        {
            Assert.Equal(before, Describe(mountPoint.Path));
        }
    }

    [Fact]
    public void After_kill_9_everything_fsynced_is_there()
    {
        using var volume = new FileVolume();
        using var mountPoint = new TestMountPoint();
        string synced;
        using (DaemonProcess daemon = DaemonProcess.Start(volume.Uri, mountPoint))
        {
            BuildTree(mountPoint.Path, seed: 2);
            using (var f = new FileStream(Path.Combine(mountPoint.Path, "synced"), FileMode.Create))
            {
                f.Write(Encoding.UTF8.GetBytes("durable"));
                f.Flush(flushToDisk: true); // fsync: returns once the data and the metadata are in the store
            }
            synced = Describe(mountPoint.Path);
            daemon.Kill9();
            Native.LazyUnmount(mountPoint.Path);
        }
        using (DaemonProcess daemon = DaemonProcess.Start(volume.Uri, mountPoint))
        {
            Assert.Equal(synced, Describe(mountPoint.Path));
            Assert.True(daemon.WaitForOutput("replayed", TimeSpan.FromSeconds(10)), daemon.Output);
            Assert.Contains("not unmounted cleanly", daemon.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Ten_thousand_small_files_and_a_sync_write_at_most_ten_data_segments()
    {
        using var volume = new FileVolume();
        using var mountPoint = new TestMountPoint();
        using (DaemonProcess daemon = DaemonProcess.Start(volume.Uri, mountPoint))
        {
            byte[] block = new byte[4096];
            for (int i = 0; i < 10_000; i++)
            {
                block[0] = (byte)i;
                block[1] = (byte)(i >> 8);
                File.WriteAllBytes(Path.Combine(mountPoint.Path, $"f{i:D5}"), block);
            }
            Posix.sync(); // syncfs of every filesystem: a checkpoint, after the open segment is flushed
            List<string> segments = volume.Keys("segments/");
            Assert.InRange(segments.Count, 1, 10);
            Assert.Equal(10_000, Directory.GetFiles(mountPoint.Path).Length);
            Assert.Equal((byte)77, File.ReadAllBytes(Path.Combine(mountPoint.Path, "f00077"))[0]);
        }
    }

    [Fact]
    public void Tuning_options_set_the_flush_size_and_the_checkpoint_generations_kept()
    {
        using var volume = new FileVolume();
        using var mountPoint = new TestMountPoint();
        byte[] bytes = new byte[4 << 20];
        new Random(4).NextBytes(bytes);
        using (DaemonProcess daemon = DaemonProcess.Start(volume.Uri, mountPoint,
                   "max_flush_size=1MiB,max_flush_time=30,keep_checkpoints=2,metadata_cache=8MiB,checkpoint_interval=0.1"))
        {
            using (var f = new FileStream(Path.Combine(mountPoint.Path, "big"), FileMode.Create))
            {
                f.Write(bytes);
                f.Flush(flushToDisk: true);
            }
            // 4 MiB in segments of at most 1 MiB of data (the default is one segment of up to 10 MiB).
            Assert.InRange(volume.Keys("segments/").Count, 4, 6);
            for (int i = 0; i < 6; i++)
            {
                File.WriteAllText(Path.Combine(mountPoint.Path, $"n{i}"), "x");
                ulong generation = StoreAccess.ReadRoot(volume.Uri).Generation;
                Assert.True(SpinWait.SpinUntil(() => StoreAccess.ReadRoot(volume.Uri).Generation > generation, TimeSpan.FromSeconds(30)), daemon.Output);
            }
            Assert.Equal(2, StoreAccess.ReadRoot(volume.Uri).History.Count);
        }
        using (DaemonProcess daemon = DaemonProcess.Start(volume.Uri, mountPoint))
        {
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(mountPoint.Path, "big")));
        }
        using var other = new TestMountPoint();
        var e = Assert.Throws<InvalidOperationException>(() => DaemonProcess.Start(volume.Uri, other, "max_flush_size=20MiB"));
        Assert.Contains("this volume's segment size", e.Message, StringComparison.Ordinal);
    }

    /// <summary>A deterministic tree: directories, files of several sizes (some sparse), a symlink, a hard link, xattrs, modes.</summary>
    private static void BuildTree(string root, int seed)
    {
        var random = new Random(seed);
        for (int d = 0; d < 4; d++)
        {
            string dir = Directory.CreateDirectory(Path.Combine(root, $"d{d}")).FullName;
            for (int f = 0; f < 12; f++)
            {
                byte[] bytes = new byte[random.Next(0, 300_000)];
                random.NextBytes(bytes);
                string path = Path.Combine(dir, $"f{f}");
                File.WriteAllBytes(path, bytes);
                if (f % 4 == 0)
                {
                    using var s = new FileStream(path, FileMode.Open);
                    s.Seek(5 << 20, SeekOrigin.Begin); // a hole, then a tail
                    s.Write(bytes.AsSpan(0, Math.Min(bytes.Length, 1000)));
                }
                File.SetUnixFileMode(path, (UnixFileMode)(0x180 | (f % 8)));
            }
        }
        PosixThread.Run(() =>
        {
            using var libc = new LibcTarget(root, "proxyfs");
            Assert.Equal(0, libc.Symlink("d0/f1", Path.Combine(root, "link")));
            Assert.Equal(0, libc.Link(Path.Combine(root, "d1", "f2"), Path.Combine(root, "hard")));
            Assert.Equal(0, libc.SetXattr(Path.Combine(root, "d2", "f3"), "user.note", "hello"u8, Core.FileSystem.XattrFlags.None));
        });
        File.Move(Path.Combine(root, "d3", "f5"), Path.Combine(root, "d0", "moved"));
        File.Delete(Path.Combine(root, "d3", "f6"));
    }

    /// <summary>Every entry with type, mode, size, link count, blocks, symlink target, xattr and a content hash.</summary>
    private static string Describe(string root)
    {
        string described = "";
        PosixThread.Run(() => described = DescribeOnPosixThread(root));
        return described;
    }

    private static string DescribeOnPosixThread(string root)
    {
        using var libc = new LibcTarget(root, "proxyfs");
        var sb = new StringBuilder();
        byte[] xattr = new byte[256];
        foreach (string path in Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            Assert.Equal(0, libc.LStat(path, out PosixStat st));
            sb.Append(Path.GetRelativePath(root, path)).Append(' ').Append(Convert.ToString(st.Mode, 8))
                .Append(" nlink=").Append(st.Nlink).Append(" size=").Append(st.Size).Append(" blocks=").Append(st.Blocks)
                .Append(" mtime=").Append(st.Mtime);
            if (st.IsSymlink)
            {
                Assert.Equal(0, libc.ReadLink(path, out string target));
                sb.Append(" -> ").Append(target);
            }
            else if (st.IsRegular)
            {
                sb.Append(" sha=").Append(Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)))[..16]);
            }
            if (libc.GetXattr(path, "user.note", xattr, out int size) == 0)
            {
                sb.Append(" note=").Append(Encoding.UTF8.GetString(xattr, 0, size));
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
