using ProxyFs.Core.FileSystem;
using ProxyFs.Core.Volume;
using ProxyFs.Core.Volume.Maintenance;
using ProxyFs.ObjectStore;

namespace ProxyFs.Core.Tests.Maintenance;

/// <summary>Live bytes per segment against a recount of the extents, and the deletion of what no extent needs.</summary>
public sealed class SpaceReclamationTests
{
    [Fact]
    public void Live_counts_match_a_recount_after_overwrite_truncate_punch_copy_and_unlink()
    {
        using var v = new MaintenanceVolume();
        v.WriteFile("/a", 3 << 20, seed: 1);
        v.WriteFile("/b", 1 << 20, seed: 2);
        FileSystemTarget_Copy(v, "/a", 1 << 20, "/b", 512 << 10, 1 << 20);
        v.WriteFile("/a", 100_000, seed: 3, offset: 200_000); // overwrite
        Assert.Equal(0, v.Posix.Truncate("/a", 2_500_000));
        Assert.Equal(0, v.Posix.Open("/b", OpenFlags.O_RDWR, 0, out int fd));
        Assert.Equal(0, v.Posix.Fallocate(fd, FallocateMode.PunchHole | FallocateMode.KeepSize, 700_000, 300_000));
        Assert.Equal(0, v.Posix.Close(fd));
        Assert.Equal(0, v.Posix.Link("/a", "/c"));
        Assert.Equal(0, v.Posix.Unlink("/a"));
        v.Checkpoint();
        v.WriteFile("/d", 2 << 20, seed: 4);
        Assert.Equal(0, v.Posix.Unlink("/d")); // written and freed between two checkpoints
        Assert.Equal(0, v.Posix.Unlink("/c")); // the last link of the file that shares extents with /b
        FsckReport report = v.AssertFsckClean();
        Assert.True(report.Extents > 0);
    }

    private static void FileSystemTarget_Copy(MaintenanceVolume v, string from, long fromOffset, string to, long toOffset, long length)
    {
        Assert.Equal(0, v.Posix.Open(from, OpenFlags.O_RDONLY, 0, out int i));
        Assert.Equal(0, v.Posix.Open(to, OpenFlags.O_RDWR, 0, out int o));
        Assert.Equal(0, v.Posix.CopyFileRange(i, fromOffset, o, toOffset, length, out long copied));
        Assert.Equal(length, copied);
        Assert.Equal(0, v.Posix.Close(i));
        Assert.Equal(0, v.Posix.Close(o));
    }

    [Fact]
    public void A_deleted_file_s_segments_are_deleted_once_no_kept_generation_reaches_them()
    {
        using var v = new MaintenanceVolume(keepCheckpoints: 2);
        v.WriteFile("/keep", 100_000, seed: 5);
        v.WriteFile("/big", 6 << 20, seed: 6);
        v.Checkpoint();
        long before = v.DataSegmentBytes();
        Assert.True(before > 6 << 20);
        Assert.Equal(0, v.Posix.Unlink("/big"));

        // The two kept generations still reach the file: nothing goes yet (compaction only moves /keep's bytes).
        ReclaimReport waiting = v.Gc();
        Assert.True(v.DataSegmentBytes() >= before, $"{v.DataSegmentBytes()} < {before}");
        Assert.True(waiting.WaitingSegments >= 6, waiting.ToString());
        Assert.True(waiting.DeadBytes >= 6 << 20);

        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(0, v.Posix.Mkdir("/d" + i, 0x1ED));
            v.Checkpoint();
        }
        ReclaimReport done = v.Gc();
        Assert.True(done.DeletedBytes >= 6 << 20, done.ToString());
        Assert.Equal(0, done.WaitingSegments);
        Assert.True(v.DataSegmentBytes() < before - (6 << 20), $"{v.DataSegmentBytes()} of {before} left");
        Assert.Equal(100_000, v.ReadFile("/keep", 200_000).Length);

        v.AssertFsckClean();
    }

    [Fact]
    public void Nothing_is_deleted_within_the_grace_period()
    {
        using var v = new MaintenanceVolume();
        v.WriteFile("/big", 3 << 20, seed: 7);
        v.Checkpoint();
        Assert.Equal(0, v.Posix.Unlink("/big"));
        v.Checkpoint();
        v.Checkpoint();
        ReclaimReport report = v.Gc(grace: TimeSpan.FromHours(1));
        Assert.Equal(0, report.DeletedObjects);
        Assert.True(report.WaitingSegments >= 3);
        Assert.True(report.ReclaimableBytes >= 3 << 20);
    }

    [Fact]
    public void Old_metadata_segments_are_reclaimed_and_the_kept_ones_stay()
    {
        using var v = new MaintenanceVolume(keepCheckpoints: 1);
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(0, v.Posix.Mkdir("/m" + i, 0x1ED));
            v.Checkpoint();
        }
        int metaBefore = v.Store.ListAllAsync(VolumeLayout.MetadataSegments.Prefix).ToBlockingEnumerable().Count();
        ReclaimReport report = v.Gc();
        int metaAfter = v.Store.ListAllAsync(VolumeLayout.MetadataSegments.Prefix).ToBlockingEnumerable().Count();
        Assert.True(metaAfter < metaBefore, $"{metaBefore} → {metaAfter}");
        Assert.True(report.DeletedObjects >= metaBefore - metaAfter);
        v.Unmount();
        v.Mount();
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(0, v.Posix.Stat("/m" + i, out _));
        }
        v.AssertFsckClean();
    }

    [Fact]
    public void Segments_a_crashed_mount_uploaded_are_orphans_and_reclaimed_when_its_replay_log_is_lost()
    {
        using var v = new MaintenanceVolume();
        v.WriteFile("/kept", 50_000, seed: 8);
        v.Checkpoint();
        v.WriteFile("/lost", 2 << 20, seed: 9);
        v.FlushData(); // the segments are stored, no checkpoint names them
        long stored = v.DataSegmentBytes();
        v.Crash();
        v.LoseReplayLog();

        Assert.Throws<VolumeInUseException>(() => v.Fsck());
        v.Mount(acceptLogLoss: true);
        Assert.NotEqual(0, v.Posix.Stat("/lost", out _));
        ReclaimReport report = v.Gc();
        Assert.True(report.OrphanObjects >= 2, report.ToString());
        Assert.True(v.DataSegmentBytes() <= stored - (2 << 20));
        Assert.Equal(50_000, v.ReadFile("/kept", 100_000).Length);
        v.AssertFsckClean();
    }

    [Fact]
    public void Segments_that_only_the_replay_log_names_after_a_crash_are_kept()
    {
        using var v = new MaintenanceVolume();
        v.WriteFile("/kept", 50_000, seed: 8);
        v.Checkpoint();
        v.WriteFile("/synced", 2 << 20, seed: 9);
        byte[] expected = v.ReadFile("/synced", 4 << 20);
        v.Sync(); // the segments are stored and the log committed; no checkpoint names them
        v.Crash();

        long stored = v.DataSegmentBytes();
        v.Mount(); // replays the log: the tree names the segments again
        v.Gc(); // (metadata of generations no longer kept may go)
        Assert.Equal(stored, v.DataSegmentBytes());
        Assert.Equal(expected, v.ReadFile("/synced", 4 << 20));
        v.AssertFsckClean();
    }

    [Fact]
    public void A_crash_after_deleting_and_before_the_checkpoint_deletes_again_and_leaks_nothing()
    {
        using var v = new MaintenanceVolume();
        v.WriteFile("/big", 2 << 20, seed: 10);
        v.Checkpoint();
        Assert.Equal(0, v.Posix.Unlink("/big"));
        v.Checkpoint();
        v.Checkpoint();
        // What a pass does first, then a crash: objects gone, the 'P' records still in the committed tree.
        var (_, pending) = SegmentLiveness.Read(v.Fs!.Core.Tree);
        Assert.NotEmpty(pending);
        foreach (ulong nonce in pending.Keys)
        {
            v.DeleteObject(VolumeLayout.DataSegments.KeyOf(nonce));
        }
        v.Crash();
        v.Mount();
        Assert.Equal(pending.Count, SegmentLiveness.Read(v.Fs!.Core.Tree).Pending.Count);
        v.Gc();
        Assert.Empty(SegmentLiveness.Read(v.Fs!.Core.Tree).Pending);
        v.AssertFsckClean();
    }

    [Fact]
    public void Mostly_dead_segments_are_compacted_and_then_deleted_with_the_file_unchanged()
    {
        using var v = new MaintenanceVolume();
        v.WriteFile("/a", 1 << 20, seed: 11);
        v.Checkpoint();
        string first = v.Store.ListAllAsync(VolumeLayout.DataSegments.Prefix).ToBlockingEnumerable().Single().Key;
        v.WriteFile("/a", 800_000, seed: 12, offset: 100_000); // the first segment keeps 248,576 live bytes of 1 MiB
        byte[] expected = v.ReadFile("/a", 2 << 20);
        v.Checkpoint();

        ReclaimReport report = v.Gc();
        Assert.Equal(1, report.CompactedSegments);
        Assert.Equal((1 << 20) - 800_000, report.CompactedBytes);
        Assert.Equal(expected, v.ReadFile("/a", 2 << 20));
        v.Gc(); // the emptied segment is a pending deletion of an older root now
        Assert.DoesNotContain(first, v.Store.ListAllAsync(VolumeLayout.DataSegments.Prefix).ToBlockingEnumerable().Select(o => o.Key));
        v.Unmount();
        v.Mount();
        Assert.Equal(expected, v.ReadFile("/a", 2 << 20));
        v.AssertFsckClean();
    }

    /// <summary>Passes (compaction included) while another thread overwrites the same files: every byte is the last one written.</summary>
    [Fact]
    public void Passes_run_beside_foreground_writes_without_losing_any()
    {
        using var v = new MaintenanceVolume();
        const int Files = 4, Size = 600_000;
        var model = new byte[Files][];
        for (int f = 0; f < Files; f++)
        {
            model[f] = new byte[Size];
            new Random(f).NextBytes(model[f]);
            Write(v, "/f" + f, model[f], 0);
        }
        v.Checkpoint();
        for (int f = 0; f < Files; f++)
        {
            // Leaves a sixth of the first segments live: the first pass has them to compact whatever the writer does.
            byte[] rest = new byte[Size - 100_000];
            new Random(100 + f).NextBytes(rest);
            Write(v, "/f" + f, rest, 100_000);
            rest.CopyTo(model[f], 100_000);
        }
        v.Checkpoint();
        using var stop = new CancellationTokenSource();
        Exception? failure = null;
        var writer = new Thread(() =>
        {
            try
            {
                var random = new Random(99);
                while (!stop.IsCancellationRequested)
                {
                    int f = random.Next(Files);
                    int offset = random.Next(Size - 70_000);
                    byte[] piece = new byte[random.Next(1, 70_000)];
                    random.NextBytes(piece);
                    Write(v, "/f" + f, piece, offset);
                    piece.CopyTo(model[f], offset);
                }
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        writer.Start();
        int compacted = 0;
        for (int i = 0; i < 15; i++)
        {
            compacted += v.Gc().CompactedSegments;
        }
        stop.Cancel();
        writer.Join();
        Assert.Null(failure);
        Assert.True(compacted > 0, "no pass found a segment to compact");
        for (int f = 0; f < Files; f++)
        {
            Assert.Equal(model[f], v.ReadFile("/f" + f, Size));
        }
        v.AssertFsckClean();
    }

    private static void Write(MaintenanceVolume v, string path, byte[] data, long offset)
    {
        Assert.Equal(0, v.Posix.Open(path, OpenFlags.O_CREAT | OpenFlags.O_RDWR, 0x1A4, out int fd));
        Assert.Equal(0, v.Posix.PWrite(fd, data, offset, out int written));
        Assert.Equal(data.Length, written);
        Assert.Equal(0, v.Posix.Close(fd));
    }

    [Fact]
    public void Compaction_leaves_segments_above_the_ratio_alone()
    {
        using var v = new MaintenanceVolume();
        v.WriteFile("/a", 1 << 20, seed: 13);
        v.Checkpoint();
        v.WriteFile("/a", 300_000, seed: 14, offset: 0); // 70% still live
        v.Checkpoint();
        ReclaimReport report = v.Gc();
        Assert.Equal(0, report.CompactedSegments);
    }

    [Fact]
    public void Pending_deletion_record_golden_bytes()
    {
        byte[] b = new byte[PendingDeletion.EncodedLength];
        new PendingDeletion(0x0A0B0C, 0x0102030405060708, 0x1122334455667788).Encode(b);
        Assert.Equal("0C0B0A0000000000" + "0807060504030201" + "8877665544332211", Convert.ToHexString(b));
        Assert.Equal(new PendingDeletion(0x0A0B0C, 0x0102030405060708, 0x1122334455667788), PendingDeletion.Decode(b));
        byte[] key = new byte[9];
        VolumeKeys.OfPendingDeletion(key, 0xABCD);
        Assert.Equal("50000000000000ABCD", Convert.ToHexString(key));
    }
}
