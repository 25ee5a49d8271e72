using ProxyFs.Core.Volume;
using ProxyFs.Core.Volume.Maintenance;
using ProxyFs.Host.Daemon;
using ProxyFs.Integration.Tests.Support;
using ProxyFs.ObjectStore;

namespace ProxyFs.Integration.Tests;

/// <summary>`proxyfs gc` and `proxyfs fsck` through the real binary, on file:// volumes written through real mounts.</summary>
public sealed class MaintenanceCommandTests
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(5);

    /// <summary>The daemon reclaims at once when asked (no grace period) and never on its own during the test.</summary>
    private static readonly Dictionary<string, string> ImmediateGc = new() { ["PROXYFS_GC_GRACE"] = "0s", ["PROXYFS_GC_INTERVAL"] = "off" };

    private static long StoreBytes(FileVolume volume)
    {
        string root = new Uri(volume.Uri).LocalPath;
        return Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
    }

    private static void WriteAndSync(string path, long bytes)
    {
        byte[] chunk = new byte[1 << 20];
        new Random(7).NextBytes(chunk);
        using var f = new FileStream(path, FileMode.Create, FileAccess.Write);
        for (long written = 0; written < bytes; written += chunk.Length)
        {
            f.Write(chunk, 0, (int)Math.Min(chunk.Length, bytes - written));
        }
        f.Flush(flushToDisk: true);
    }

    private static void Sync(string path)
    {
        using var f = new FileStream(path, FileMode.Create, FileAccess.Write);
        f.WriteByte(1);
        f.Flush(flushToDisk: true);
    }

    /// <summary>Periodic checkpoints 5 times a second, so the kept generations move past a deleted file quickly.</summary>
    private const string FrequentCheckpoints = "checkpoint_interval=0.2";

    /// <summary>
    /// Ten changes, each synced and followed by a periodic checkpoint of its own (fsync commits the replay log; only
    /// checkpoints move the kept generations on), so that more generations than are kept come after what went before.
    /// </summary>
    private static void Tick(TestMountPoint mountPoint)
    {
        for (int i = 0; i < 10; i++)
        {
            Sync(Path.Combine(mountPoint.Path, "tick" + i));
            // Two more: the first may have taken its snapshot before the change.
            long wanted = Checkpoints(mountPoint) + 2;
            DateTime deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (Checkpoints(mountPoint) < wanted)
            {
                Assert.True(DateTime.UtcNow < deadline, "no periodic checkpoint within 30 s of a change");
                Thread.Sleep(50);
            }
        }
    }

    private static long Checkpoints(TestMountPoint mountPoint) => ProxyFsBinary.Status(mountPoint.Path).Volume.Checkpoints ?? 0;

    private static ReclaimReport Gc(params string[] args)
    {
        CommandResult r = ProxyFsBinary.Run(CommandTimeout, ["gc", .. args, "--json"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        return VolumeGc.FromJson(r.Stdout);
    }

    /// <summary>Write 64 MiB through a mount, delete it, let the kept generations roll past it, gc: under 5% of it stays in the store.</summary>
    [Fact]
    public void Gc_on_a_mount_frees_a_deleted_file_once_the_kept_checkpoints_moved_on()
    {
        const long Size = 64L << 20;
        using var volume = new FileVolume();
        using var mountPoint = new TestMountPoint();
        using (DaemonProcess daemon = DaemonProcess.Start(volume.Uri, mountPoint, FrequentCheckpoints, environment: ImmediateGc))
        {
            string big = Path.Combine(mountPoint.Path, "big");
            WriteAndSync(big, Size);
            Assert.True(StoreBytes(volume) > Size);
            File.Delete(big);

            ReclaimReport pinned = Gc(mountPoint.Path);
            Assert.True(pinned.DeadBytes >= Size, pinned.ToString());
            Assert.True(pinned.WaitingBytes >= Size, "kept checkpoint generations still reach the file: " + pinned);

            Tick(mountPoint); // the kept generations move on
            ReclaimReport freed = Gc(mountPoint.Path);
            Assert.True(freed.DeletedBytes >= Size, freed.ToString());
            Assert.True(StoreBytes(volume) < Size / 20, $"{StoreBytes(volume)} bytes left of {Size}");
            Assert.False(daemon.HasExited, daemon.Output);
        }
        CommandResult fsck = ProxyFsBinary.Run(CommandTimeout, "fsck", volume.Uri);
        Assert.True(fsck.ExitCode == 0, fsck.ToString());
    }

    [Fact]
    public void The_daemon_reclaims_in_the_background_every_gc_interval()
    {
        const long Size = 8L << 20;
        using var volume = new FileVolume();
        using var mountPoint = new TestMountPoint();
        var environment = new Dictionary<string, string> { ["PROXYFS_GC_GRACE"] = "0s", ["PROXYFS_GC_INTERVAL"] = "1s" };
        using DaemonProcess daemon = DaemonProcess.Start(volume.Uri, mountPoint, FrequentCheckpoints, environment: environment);
        WriteAndSync(Path.Combine(mountPoint.Path, "big"), Size);
        File.Delete(Path.Combine(mountPoint.Path, "big"));
        Tick(mountPoint);
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (StoreBytes(volume) >= Size / 20 && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(200);
        }
        Assert.True(StoreBytes(volume) < Size / 20, $"{StoreBytes(volume)} bytes left of {Size}\n{daemon.Output}");
        Assert.False(daemon.HasExited, daemon.Output);
    }

    /// <summary>Offline, on the URI: --keep-checkpoints 0 --grace 0s frees a deleted file at once.</summary>
    [Fact]
    public void Gc_on_a_uri_frees_a_deleted_file()
    {
        const long Size = 16L << 20;
        using var volume = new FileVolume();
        using var mountPoint = new TestMountPoint();
        using (DaemonProcess daemon = DaemonProcess.Start(volume.Uri, mountPoint, FrequentCheckpoints, environment: ImmediateGc))
        {
            WriteAndSync(Path.Combine(mountPoint.Path, "big"), Size);
            File.WriteAllText(Path.Combine(mountPoint.Path, "small"), "kept");
            File.Delete(Path.Combine(mountPoint.Path, "big"));
        }
        CommandResult refused = ProxyFsBinary.Run(CommandTimeout, "gc", "/nonexistent-mount-point-of-proxyfs");
        Assert.Equal(1, refused.ExitCode);

        ReclaimReport report = Gc(volume.Uri, "--keep-checkpoints", "0", "--grace", "0s");
        Assert.True(report.DeletedBytes >= Size, report.ToString());
        Assert.True(StoreBytes(volume) < Size / 20, $"{StoreBytes(volume)} bytes left of {Size}");

        using (DaemonProcess daemon = DaemonProcess.Start(volume.Uri, mountPoint))
        {
            Assert.Equal("kept", File.ReadAllText(Path.Combine(mountPoint.Path, "small")));
        }
        CommandResult fsck = ProxyFsBinary.Run(CommandTimeout, "fsck", volume.Uri);
        Assert.True(fsck.ExitCode == 0, fsck.ToString());
    }

    private static FileVolume UsedVolume()
    {
        var volume = new FileVolume();
        using var mountPoint = new TestMountPoint("fsck-used");
        using (DaemonProcess daemon = DaemonProcess.Start(volume.Uri, mountPoint))
        {
            Directory.CreateDirectory(Path.Combine(mountPoint.Path, "d", "e"));
            WriteAndSync(Path.Combine(mountPoint.Path, "d", "f"), 3 << 20);
            File.WriteAllText(Path.Combine(mountPoint.Path, "g"), "small");
            File.CreateSymbolicLink(Path.Combine(mountPoint.Path, "l"), "g");
        }
        return volume;
    }

    [Fact]
    public void Fsck_is_clean_on_fresh_and_used_volumes()
    {
        using var fresh = new FileVolume();
        CommandResult r = ProxyFsBinary.Run(CommandTimeout, "fsck", fresh.Uri);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains(": clean", r.Stdout, StringComparison.Ordinal);

        using FileVolume used = UsedVolume();
        r = ProxyFsBinary.Run(CommandTimeout, "fsck", used.Uri);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("6 inodes", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Fsck_exits_4_on_a_flipped_page_byte_and_on_a_deleted_segment()
    {
        using FileVolume flipped = UsedVolume();
        RootPointer root = StoreAccess.ReadRoot(flipped.Uri);
        StoreAccess.With(flipped.Uri, store =>
        {
            string meta = VolumeLayout.MetadataSegments.KeyOf(root.TreeRoot.SegmentNonce);
            byte[] bytes = store.GetBytesAsync(meta).GetAwaiter().GetResult();
            bytes[root.TreeRoot.Offset + 40] ^= 0x10;
            store.PutAsync(meta, bytes).GetAwaiter().GetResult();
        });
        CommandResult r = ProxyFsBinary.Run(CommandTimeout, "fsck", flipped.Uri, "--repair");
        Assert.True(r.ExitCode == 4, r.ToString());
        Assert.Contains("CRC-32C mismatch", r.Stdout, StringComparison.Ordinal);

        using FileVolume missing = UsedVolume();
        string segment = missing.Keys(VolumeLayout.DataSegments.Prefix).First();
        StoreAccess.With(missing.Uri, store => store.DeleteAsync(segment).GetAwaiter().GetResult());
        r = ProxyFsBinary.Run(CommandTimeout, "fsck", missing.Uri);
        Assert.True(r.ExitCode == 4, r.ToString());
        Assert.Contains("which is missing", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Fsck_repair_fixes_a_wrong_nlink_and_exits_1_then_0()
    {
        using FileVolume volume = UsedVolume();
        SetRootNlink(volume.Uri, 9);
        CommandResult found = ProxyFsBinary.Run(CommandTimeout, "fsck", volume.Uri);
        Assert.True(found.ExitCode == 4, found.ToString());
        Assert.Contains("inode 1 (directory): nlink 9, but 3 links found", found.Stdout, StringComparison.Ordinal);
        CommandResult repaired = ProxyFsBinary.Run(CommandTimeout, "fsck", volume.Uri, "--repair");
        Assert.True(repaired.ExitCode == 1, repaired.ToString());
        Assert.Contains("repaired: inode 1", repaired.Stdout, StringComparison.Ordinal);
        CommandResult clean = ProxyFsBinary.Run(CommandTimeout, "fsck", volume.Uri);
        Assert.True(clean.ExitCode == 0, clean.ToString());
    }

    [Fact]
    public void Fsck_refuses_a_mounted_volume_with_8_unless_forced()
    {
        using var volume = new FileVolume();
        using var mountPoint = new TestMountPoint();
        using DaemonProcess daemon = DaemonProcess.Start(volume.Uri, mountPoint);
        CommandResult refused = ProxyFsBinary.Run(CommandTimeout, "fsck", volume.Uri);
        Assert.True(refused.ExitCode == 8, refused.ToString());
        Assert.Contains("is mounted", refused.Stderr, StringComparison.Ordinal);
        CommandResult forced = ProxyFsBinary.Run(CommandTimeout, "fsck", volume.Uri, "--force");
        Assert.True(forced.ExitCode == 0, forced.ToString());
    }

    /// <summary>Gives the root directory's record a wrong nlink, through the volume core, committed as a clean unmount.</summary>
    private static void SetRootNlink(string uri, uint nlink) => StoreAccess.With(uri, store =>
    {
        VolumeCore core = VolumeCore.OpenAsync(store, new VolumeOptions { CheckpointInterval = TimeSpan.Zero }).GetAwaiter().GetResult();
        try
        {
            byte[] key = new byte[9];
            VolumeKeys.OfInode(key, 1);
            Assert.True(core.Tree.TryGet(key, out byte[]? value));
            VolumeInodeRecord rootDir = VolumeInodeRecord.Decode(value, 1);
            byte[] changed = new byte[rootDir.EncodedLength];
            (rootDir with { Nlink = nlink }).Encode(changed);
            core.Tree.Put(key, changed);
        }
        finally
        {
            core.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    });
}
