using System.Text;
using ProxyFs.Core.Durability;
using ProxyFs.Core.FileSystem;
using ProxyFs.Core.LogSegments;
using ProxyFs.Core.ReplayLog;
using ProxyFs.Core.Volume;
using ProxyFs.Testing.Posix;

namespace ProxyFs.Core.Tests.VolumeStore;

/// <summary>The volume's replay log: what a crash keeps, what it loses, and the logs a mount refuses.</summary>
public sealed class VolumeJournalTests
{
    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    private static void Write(IPosixTarget t, string path, byte[] data, bool fsync)
    {
        Assert.Equal(0, t.Open(path, OpenFlags.O_CREAT | OpenFlags.O_WRONLY | OpenFlags.O_TRUNC, 0x1A4, out int fd));
        Assert.Equal(0, t.Write(fd, data, out int n));
        Assert.Equal(data.Length, n);
        if (fsync)
        {
            Assert.Equal(0, t.Fsync(fd, dataOnly: false));
        }
        Assert.Equal(0, t.Close(fd));
    }

    private static byte[] Read(IPosixTarget t, string path)
    {
        Assert.Equal(0, t.Stat(path, out PosixStat st));
        var buffer = new byte[st.Size + 16];
        Assert.Equal(0, t.Open(path, OpenFlags.O_RDONLY, 0, out int fd));
        Assert.Equal(0, t.Read(fd, buffer, out int n));
        Assert.Equal(0, t.Close(fd));
        return buffer[..n];
    }

    /// <summary>A volume whose mount wrote and fsynced "f" and then died.</summary>
    private static VolumeStoreFixture CrashedAfterFsyncOf(byte[] content)
    {
        var volume = new VolumeStoreFixture();
        using (var t = new FileSystemTarget(volume.Fs, "volume"))
        {
            Write(t, "f", content, fsync: true);
        }
        volume.Fs.Core.AbandonForTest();
        return volume;
    }

    [Fact]
    public async Task A_crash_keeps_every_committed_operation_and_the_log_is_trimmed_by_the_next_checkpoint()
    {
        using var volume = new VolumeStoreFixture();
        using (var t = new FileSystemTarget(volume.Fs, "volume"))
        {
            Assert.Equal(0, t.Mkdir("d", 0x1ED));
            Write(t, "d/a", Bytes("alpha"), fsync: false);
            Write(t, "d/b", Bytes("beta"), fsync: false);
            Assert.Equal(0, t.Rename("d/a", "d/b"));             // over a target: one record
            Assert.Equal(0, t.Link("d/b", "d/c"));
            Assert.Equal(0, t.SetXattr("d/c", "user.k", Bytes("v"), XattrFlags.None));
            Write(t, "big", new byte[300_000], fsync: false);
            Assert.Equal(0, t.Truncate("big", 5000));             // frees extents
        }
        ulong epochBefore = volume.Fs.Core.Root.ReplayLogEpoch;
        volume.CrashRemount();
        using (var t = new FileSystemTarget(volume.Fs, "volume"))
        {
            Assert.Equal("alpha", Encoding.UTF8.GetString(Read(t, "d/b")));
            Assert.NotEqual(0, t.Stat("d/a", out _));
            Assert.Equal(0, t.Stat("d/c", out PosixStat c));
            Assert.Equal(2u, c.Nlink);
            Assert.Equal(0, t.Stat("big", out PosixStat big));
            Assert.Equal(5000, big.Size);
        }
        Assert.Equal(epochBefore, volume.Fs.Core.Root.ReplayLogEpoch); // nothing checkpointed: it all came from the log
        Assert.True(volume.Fs.Core.Journal!.Log.Replay(0).Any());
        await volume.Fs.Core.CheckpointAsync();
        Assert.True(volume.Fs.Core.Root.ReplayLogEpoch > epochBefore);
        Assert.Empty(volume.Fs.Core.Journal!.Log.Replay(0));
    }

    [Fact]
    public void Data_whose_segment_never_reached_the_store_reads_as_zeros_and_fsynced_data_is_intact()
    {
        using var volume = new VolumeStoreFixture(segments: new SegmentWriterOptions { MaxFlushTime = TimeSpan.FromHours(1) });
        byte[] synced = Bytes("fsynced bytes");
        using (var t = new FileSystemTarget(volume.Fs, "volume"))
        {
            Write(t, "synced", synced, fsync: true);
            Write(t, "unsynced", Bytes("in memory only"), fsync: false);
        }
        // The log records are committed (Close commits what was appended) but the open segment is not uploaded.
        volume.Fs.Core.AbandonForTest();
        volume.Reopen();
        using (var t = new FileSystemTarget(volume.Fs, "volume"))
        {
            Assert.Equal(synced, Read(t, "synced"));
            Assert.Equal(new byte["in memory only".Length], Read(t, "unsynced"));
        }
    }

    [Fact]
    public void An_unclean_volume_without_its_log_is_refused_unless_the_loss_is_accepted()
    {
        using VolumeStoreFixture volume = CrashedAfterFsyncOf(Bytes("x"));
        Directory.Delete(volume.LogDirectory, recursive: true);
        var e = Assert.Throws<ReplayLogMissingException>(() => volume.Reopen());
        Assert.Contains(volume.LogDirectory, e.Message, StringComparison.Ordinal);
        volume.Reopen(VolumeStoreFixture.Manual with { AcceptReplayLogLoss = true });
        using var t2 = new FileSystemTarget(volume.Fs, "volume");
        Assert.NotEqual(0, t2.Stat("f", out _)); // lost with the log: the last checkpoint is the format's
    }

    [Fact]
    public void A_read_only_mount_of_a_crashed_volume_replays_its_log_in_memory()
    {
        using VolumeStoreFixture volume = CrashedAfterFsyncOf(Bytes("replayed"));
        string[] logFiles = Directory.GetFiles(volume.LogDirectory);
        volume.Reopen(VolumeStoreFixture.Manual with { ReadOnly = true });
        using (var t = new FileSystemTarget(volume.Fs, "volume"))
        {
            Assert.Equal(Bytes("replayed"), Read(t, "f"));
        }
        volume.Fs.Dispose();
        Assert.Equal(logFiles, Directory.GetFiles(volume.LogDirectory)); // nothing written, nothing removed
        volume.Reopen();
        using var t2 = new FileSystemTarget(volume.Fs, "volume");
        Assert.Equal(Bytes("replayed"), Read(t2, "f"));
    }

    [Fact]
    public void Another_volumes_log_is_never_replayed()
    {
        using var first = new VolumeStoreFixture();
        using var second = new VolumeStoreFixture();
        first.Fs.Core.AbandonForTest();
        second.Fs.Core.AbandonForTest();
        Assert.Throws<ReplayLogForeignException>(() => second.Reopen(VolumeStoreFixture.Manual with { ReplayLogDirectory = first.LogDirectory }));
        Assert.Throws<ReplayLogForeignException>(() => second.Reopen(VolumeStoreFixture.Manual with
        {
            ReplayLogDirectory = first.LogDirectory,
            AcceptReplayLogLoss = true,
        }));
    }

    [Fact]
    public void A_clean_unmount_leaves_nothing_on_local_disk()
    {
        using var volume = new VolumeStoreFixture();
        using (var t = new FileSystemTarget(volume.Fs, "volume"))
        {
            Write(t, "f", Bytes("x"), fsync: false);
        }
        Assert.True(Directory.Exists(volume.LogDirectory));
        volume.Fs.Dispose();
        Assert.False(Directory.Exists(volume.LogDirectory));
        Assert.Empty(Directory.GetFileSystemEntries(Path.GetDirectoryName(volume.LogDirectory)!));
        volume.Reopen();
        using var t2 = new FileSystemTarget(volume.Fs, "volume");
        Assert.Equal(Bytes("x"), Read(t2, "f"));
    }

    [Fact]
    public void Fsync_commits_the_log_without_a_checkpoint()
    {
        using var volume = new VolumeStoreFixture();
        long checkpoints = volume.Fs.Core.Checkpoints;
        ulong generation = volume.Fs.Core.Root.Generation;
        using (var t = new FileSystemTarget(volume.Fs, "volume"))
        {
            for (int i = 0; i < 5; i++)
            {
                Write(t, $"f{i}", Bytes($"data {i}"), fsync: true);
            }
        }
        Assert.Equal(checkpoints, volume.Fs.Core.Checkpoints);
        Assert.Equal(generation, volume.Fs.Core.Root.Generation);
        Assert.True(volume.Fs.Core.Journal!.Log.Statistics.Flushes > 0);
    }

    [Fact]
    public void An_operation_too_large_for_one_record_is_split_and_replayed_whole()
    {
        using var volume = new VolumeStoreFixture(replayLog: new ReplayLogOptions { PageSizeBits = 12 });
        int max = volume.Fs.Core.Journal!.MaxPayloadLength;
        using (var t = new FileSystemTarget(volume.Fs, "volume"))
        {
            Write(t, "f", Bytes("x"), fsync: false);
            // Two xattrs near the page size each: set in one operation each, but the record of a file with many
            // extents freed at once is what splits. Punch a file full of small extents and truncate it.
            Assert.Equal(0, t.Open("frag", OpenFlags.O_CREAT | OpenFlags.O_WRONLY, 0x1A4, out int fd));
            for (int i = 0; i < 400; i++)
            {
                Assert.Equal(0, t.PWrite(fd, [1], i * 8192L, out _));
            }
            Assert.Equal(0, t.Close(fd));
            Assert.Equal(0, t.Truncate("frag", 0)); // 400 extent deletes: more than one 4 KiB page of records
        }
        Assert.True(max < 4096);
        volume.CrashRemount();
        using var t2 = new FileSystemTarget(volume.Fs, "volume");
        Assert.Equal(0, t2.Stat("frag", out PosixStat st));
        Assert.Equal(0, st.Size);
        Assert.Equal(0L, st.Blocks);
        Assert.Contains(volume.Fs.Core.Journal!.Log.Replay(0), r => (r.Payload.Span[2] & JournalRecord.ContinuedFlag) != 0);
    }

    [Fact]
    public void A_log_cut_by_hand_in_its_last_record_recovers_to_the_record_before()
    {
        using var volume = new VolumeStoreFixture();
        using (var t = new FileSystemTarget(volume.Fs, "volume"))
        {
            foreach (string d in new[] { "x1", "x2", "x3" })
            {
                Assert.Equal(0, t.Mkdir(d, 0x1ED));
                Assert.Equal(0, volume.Store.SyncAll()); // committed: each mkdir is on disk before the next
            }
        }
        ReplayRecord last = volume.Fs.Core.Journal!.Log.Replay(0).Last();
        Assert.Equal((byte)FileSystem.Inodes.OperationKind.MkDir, last.Payload.Span[1]);
        volume.Fs.Core.AbandonForTest();
        using (var log = new FileStream(Path.Combine(volume.LogDirectory, "log.0"), FileMode.Open))
        {
            log.SetLength(last.Address + 10); // the crash tore the last record's bytes
        }
        volume.Reopen();
        Assert.NotNull(volume.Fs.Core.Journal!.Opened.TornTail);
        using var t2 = new FileSystemTarget(volume.Fs, "volume");
        Assert.Equal(0, t2.Stat("x1", out _));
        Assert.Equal(0, t2.Stat("x2", out _));
        Assert.Equal(Errno.ENOENT, t2.Stat("x3", out _));
        Assert.Equal(0, t2.Mkdir("x4", 0x1ED)); // the log goes on after the cut
        volume.CrashRemount();
        using var t3 = new FileSystemTarget(volume.Fs, "volume");
        Assert.Equal(0, t3.Stat("x4", out _));
        Assert.Equal(Errno.ENOENT, t3.Stat("x3", out _));
    }

    [Fact]
    public Task Fsync_with_a_full_log_disk_falls_back_to_checkpoints_and_loses_nothing() =>
        ReplayLog.ReplayLogDiskFullTests.OnTmpfsAsync("192k", mountPoint =>
        {
            using var volume = new VolumeStoreFixture(replayLog: new ReplayLogOptions { PageSizeBits = 12, SegmentSizeBits = 16 },
                logDirectory: Path.Combine(mountPoint, "log"));
            long checkpoints = volume.Fs.Core.Checkpoints;
            using (var t = new FileSystemTarget(volume.Fs, "volume"))
            {
                for (int i = 0; i < 600; i++)
                {
                    Write(t, $"f{i}", Bytes($"file {i}"), fsync: true); // every fsync returns 0
                }
            }
            Assert.True(volume.Fs.Core.Checkpoints > checkpoints, "the log never filled: no fsync fell back to a checkpoint");
            volume.Fs.Core.AbandonForTest();
            volume.Reopen();
            using var t2 = new FileSystemTarget(volume.Fs, "volume");
            for (int i = 0; i < 600; i++)
            {
                Assert.Equal(Bytes($"file {i}"), Read(t2, $"f{i}"));
            }
            return Task.CompletedTask;
        });

    [Fact]
    public void Step_crash_points_are_hit_at_each_change_of_a_rename()
    {
        using var volume = new VolumeStoreFixture();
        var hits = new List<string>();
        CrashPoints.Arming? previous = CrashPoints.Arm(CrashPoints.Parse(CrashPoints.RenameStep + ":1000000", out _)!.With(hits.Add));
        try
        {
            using var t = new FileSystemTarget(volume.Fs, "volume");
            Write(t, "a", Bytes("a"), fsync: false);
            Write(t, "b", Bytes("b"), fsync: false);
            Assert.Equal(0, t.Rename("a", "b"));
        }
        finally
        {
            CrashPoints.Arming? mine = CrashPoints.Arm(previous);
            // A rename over a target: two entries out, one in, the victim freed, records rewritten: several steps.
            Assert.True(mine!.HitCount >= 4, $"{mine.HitCount} rename steps");
        }
        Assert.Empty(hits); // the millionth hit never came
    }
}
