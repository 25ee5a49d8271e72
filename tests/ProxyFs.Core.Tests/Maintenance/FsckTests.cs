using ProxyFs.Core.FileSystem;
using ProxyFs.Core.Volume;
using ProxyFs.Core.Volume.Maintenance;
using ProxyFs.ObjectStore;
using ProxyFs.Testing;
using ProxyFs.Testing.Differential;
using ProxyFs.Testing.Posix;

namespace ProxyFs.Core.Tests.Maintenance;

/// <summary>fsck on fresh, used and deliberately damaged volumes: what it finds, its exit code, and what --repair fixes.</summary>
public sealed class FsckTests
{
    private static string Problems(FsckReport r) => string.Join("\n", r.Problems);

    private static MaintenanceVolume Used()
    {
        var v = new MaintenanceVolume();
        Assert.Equal(0, v.Posix.Mkdir("/dir", 0x1ED));
        Assert.Equal(0, v.Posix.Mkdir("/dir/sub", 0x1ED));
        v.WriteFile("/dir/file", 300_000, seed: 1);
        v.WriteFile("/other", 2 << 20, seed: 2);
        Assert.Equal(0, v.Posix.Link("/dir/file", "/hard"));
        Assert.Equal(0, v.Posix.Symlink("dir/file", "/link"));
        Assert.Equal(0, v.Posix.SetXattr("/other", "user.k", "v"u8, XattrFlags.None));
        v.Unmount();
        return v;
    }

    [Fact]
    public void A_fresh_volume_is_clean()
    {
        using var v = new MaintenanceVolume();
        v.Unmount();
        FsckReport report = v.Fsck();
        Assert.Equal(FsckReport.Clean, report.ExitCode);
        Assert.Equal(1, report.Inodes);
    }

    [Fact]
    public void A_used_volume_is_clean()
    {
        using MaintenanceVolume v = Used();
        FsckReport report = v.Fsck();
        Assert.True(report.ExitCode == FsckReport.Clean, Problems(report));
        Assert.Equal(6, report.Inodes);
        Assert.Equal(6, report.DirectoryEntries);
    }

    /// <summary>Seeded random POSIX sequences (writes, overwrites, truncates, holes, copies, links, unlinks, remounts): the live counts match a recount.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Live_counts_match_a_recount_after_random_sequences(int batch)
    {
        using var v = new MaintenanceVolume();
        using TempDirectory dir = TempDirectory.Create();
        using var reference = new LibcTarget(dir.Path, "tmpfs");
        // The remount runs as root: the tester may be acting as another user, who cannot make the replay log directory.
        using (var subject = new FileSystemTarget(v.Fs!, "volume", remount: _ => PosixThread.AsRoot(() =>
        {
            v.Unmount();
            v.Mount();
            return v.Fs!;
        })))
        {
            var tester = new DifferentialTester(reference, subject) { RemountWeight = 3 };
            for (int i = batch; i < 16; i += 2)
            {
                DifferentialFailure? failure = tester.Run(1000 + i, 150);
                Assert.True(failure is null, failure?.ToString());
            }
        }
        v.Unmount();
        FsckReport report = v.Fsck();
        Assert.True(report.ExitCode == FsckReport.Clean, Problems(report));
    }

    [Fact]
    public async Task A_flipped_byte_in_a_tree_page_is_an_uncorrectable_error()
    {
        using MaintenanceVolume v = Used();
        RootPointer root = await new RootPointerStore(v.Store).ReadAsync();
        string key = VolumeLayout.MetadataSegments.KeyOf(root.TreeRoot.SegmentNonce);
        byte[] segment = await v.Store.GetBytesAsync(key);
        segment[root.TreeRoot.Offset + 40] ^= 0x20;
        await v.Store.PutAsync(key, segment);

        FsckReport report = v.Fsck(repair: true);
        Assert.Equal(FsckReport.Uncorrected, report.ExitCode);
        Assert.Contains(report.Errors, p => p.Message.Contains("CRC-32C mismatch", StringComparison.Ordinal));
        Assert.Contains(report.Errors, p => p.Message.Contains($"metadata segment {root.TreeRoot.SegmentNonce:x16} is corrupt", StringComparison.Ordinal));
    }

    [Fact]
    public void A_missing_data_segment_is_an_uncorrectable_error()
    {
        using MaintenanceVolume v = Used();
        string victim = v.Store.ListAllAsync(VolumeLayout.DataSegments.Prefix).ToBlockingEnumerable().First().Key;
        v.DeleteObject(victim);
        FsckReport report = v.Fsck(repair: true);
        Assert.Equal(FsckReport.Uncorrected, report.ExitCode);
        Assert.Contains(report.Errors, p => p.Message.Contains(victim + ", which is missing", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_flipped_byte_in_a_data_segment_fails_its_block_checksum()
    {
        using MaintenanceVolume v = Used();
        ObjectInfo victim = v.Store.ListAllAsync(VolumeLayout.DataSegments.Prefix).ToBlockingEnumerable().First();
        byte[] bytes = await v.Store.GetBytesAsync(victim.Key);
        bytes[200] ^= 1;
        await v.Store.PutAsync(victim.Key, bytes);
        FsckReport report = v.Fsck();
        Assert.Equal(FsckReport.Uncorrected, report.ExitCode);
        Assert.Contains(report.Errors, p => p.Message.Contains("fails its checksum", StringComparison.Ordinal));
    }

    [Fact]
    public void Wrong_nlink_and_live_counts_are_repaired()
    {
        using MaintenanceVolume v = Used();
        v.EditTree(core =>
        {
            Span<byte> key = stackalloc byte[9];
            VolumeKeys.OfInode(key, 2); // /dir
            Assert.True(core.Tree.TryGet(key, out byte[]? value));
            VolumeInodeRecord dir = VolumeInodeRecord.Decode(value, 2);
            byte[] changed = new byte[dir.EncodedLength];
            (dir with { Nlink = 7 }).Encode(changed);
            core.Tree.Put(key, changed);
            var (live, _) = SegmentLiveness.Read(core.Tree);
            ulong nonce = live.Keys.First();
            byte[] usage = new byte[SegmentUsage.EncodedLength];
            new SegmentUsage(live[nonce].LiveBytes + 12345, live[nonce].DataBytes).Encode(usage);
            core.Tree.Put(key[..VolumeKeys.OfSegmentUsage(key, nonce)], usage);
            core.CheckpointAsync(cleanUnmount: true).GetAwaiter().GetResult();
        });

        FsckReport found = v.Fsck();
        Assert.Equal(FsckReport.Uncorrected, found.ExitCode);
        Assert.Contains(found.Errors, p => p.Message.Contains("inode 2 (directory): nlink 7, but 3 links found", StringComparison.Ordinal));
        Assert.Contains(found.Errors, p => p.Message.Contains("live bytes, but extents reference", StringComparison.Ordinal));

        FsckReport repaired = v.Fsck(repair: true);
        Assert.True(repaired.ExitCode == FsckReport.Corrected, Problems(repaired));
        Assert.All(repaired.Errors, p => Assert.True(p.Repaired));

        FsckReport after = v.Fsck();
        Assert.True(after.ExitCode == FsckReport.Clean, Problems(after));
        v.Mount();
        Assert.Equal(0, v.Posix.Stat("/dir", out PosixStat st));
        Assert.Equal(3u, st.Nlink);
    }

    [Fact]
    public void Dangling_entries_and_unreachable_inodes_are_repaired()
    {
        using MaintenanceVolume v = Used();
        v.EditTree(core =>
        {
            // An entry to an inode that does not exist, and a file no entry reaches.
            Span<byte> key = stackalloc byte[VolumeKeys.MaxLength];
            byte[] entry = new byte[DirentValues.ByNameLength];
            DirentValues.EncodeByName(entry, 99, 4242, 8);
            core.Tree.Put(key[..VolumeKeys.OfDirentByName(key, 1, "ghost"u8)], entry);
            byte[] byCookie = new byte[9 + 5];
            DirentValues.EncodeByCookie(byCookie, 4242, 8, "ghost"u8);
            core.Tree.Put(key[..VolumeKeys.OfDirentByCookie(key, 1, 99)], byCookie);
            core.Tree.Delete(key[..VolumeKeys.OfDirentByName(key, 1, "other"u8)]);
            core.CheckpointAsync(cleanUnmount: true).GetAwaiter().GetResult();
        });
        FsckReport found = v.Fsck(repair: true);
        Assert.True(found.ExitCode == FsckReport.Corrected, Problems(found));
        Assert.Contains(found.Errors, p => p.Message.Contains("points at inode 4242, which does not exist", StringComparison.Ordinal));
        Assert.Contains(found.Errors, p => p.Message.Contains("is not reachable from the root", StringComparison.Ordinal));

        // The next mount frees the unreachable file (and its segment bytes); then all is clean.
        v.Mount();
        Assert.Equal(Errno.ENOENT, v.Posix.Stat("/ghost", out _));
        v.Unmount();
        FsckReport after = v.Fsck();
        Assert.True(after.ExitCode == FsckReport.Clean, Problems(after));
    }

    [Fact]
    public void Orphan_objects_are_warnings_and_repair_deletes_them()
    {
        using MaintenanceVolume v = Used();
        v.Mount();
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(0, v.Posix.Mkdir("/again" + i, 0x1ED));
            v.Checkpoint();
        }
        v.Unmount();
        FsckReport found = v.Fsck();
        Assert.Equal(FsckReport.Clean, found.ExitCode);
        Assert.Contains(found.Problems, p => p.Severity == FsckSeverity.Warning && p.Message.Contains("no kept checkpoint generation reaches", StringComparison.Ordinal));
        FsckReport repaired = v.Fsck(repair: true);
        Assert.Equal(FsckReport.Clean, repaired.ExitCode);
        Assert.Contains(repaired.Problems, p => p.Repaired);
        FsckReport after = v.Fsck();
        Assert.DoesNotContain(after.Problems, p => p.Message.Contains("no kept checkpoint generation reaches", StringComparison.Ordinal));
    }

    [Fact]
    public void A_mounted_volume_is_refused_unless_forced()
    {
        using var v = new MaintenanceVolume();
        Assert.Throws<VolumeInUseException>(() => v.Fsck());
        FsckReport forced = v.Fsck(force: true);
        Assert.Equal(FsckReport.Clean, forced.ExitCode);
    }
}
