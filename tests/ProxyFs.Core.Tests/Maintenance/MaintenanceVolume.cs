using ProxyFs.Core.FileSystem;
using ProxyFs.Core.FileSystem.Posix;
using ProxyFs.Core.Volume;
using ProxyFs.Core.Volume.Inodes;
using ProxyFs.Core.Volume.Maintenance;
using ProxyFs.ObjectStore;
using ProxyFs.ObjectStore.Memory;
using ProxyFs.Testing;
using ProxyFs.Testing.Posix;

namespace ProxyFs.Core.Tests.Maintenance;

/// <summary>
/// A volume in an in-memory store for space reclamation and fsck tests: POSIX calls by path, checkpoints by hand, its
/// replay log in a temporary directory of its own.
/// </summary>
internal sealed class MaintenanceVolume : IDisposable
{
    private readonly TempDirectory _logs = TempDirectory.Create();

    public MaintenanceVolume(int keepCheckpoints = 0, int maxSegmentSize = 1 << 20)
    {
        Options = new VolumeOptions
        {
            CheckpointInterval = TimeSpan.Zero,
            KeepCheckpoints = keepCheckpoints,
            ReplayLogDirectory = System.IO.Path.Combine(_logs.Path, "log"),
        };
        VolumeFormatter.FormatAsync(Store, new VolumeFormatOptions { MaxSegmentSize = maxSegmentSize }, new RootDirectoryOptions()).GetAwaiter().GetResult();
        Mount();
    }

    public MemoryObjectStore Store { get; } = new("volume");

    public VolumeOptions Options { get; }

    public VolumeFileSystem? Fs { get; private set; }

    public FileSystemTarget Posix { get; private set; } = null!;

    public VolumeInodeStore Inodes => Fs!.VolumeStore;

    /// <summary>Mounts; <paramref name="acceptLogLoss"/>: even when the last mount crashed and its replay log is gone.</summary>
    public void Mount(bool acceptLogLoss = false)
    {
        Fs = VolumeFileSystem.OpenAsync(Store, Options with { AcceptReplayLogLoss = acceptLogLoss }, new VolumeInodeStoreOptions(),
            new PosixFileSystemOptions()).GetAwaiter().GetResult();
        Posix = new FileSystemTarget(Fs, "volume");
    }

    /// <summary>A clean unmount.</summary>
    public void Unmount()
    {
        Fs?.Dispose();
        Fs = null;
    }

    /// <summary>
    /// Drops the mount without a checkpoint, as kill -9 would: nothing more reaches the store, and the replay log is
    /// closed as a dead process leaves it (the next mount replays it).
    /// </summary>
    public void Crash()
    {
        Fs!.Core.AbandonForTest();
        Fs = null;
    }

    /// <summary>Deletes the replay log (after <see cref="Crash"/>: the changes since the last checkpoint are lost).</summary>
    public void LoseReplayLog() => Directory.Delete(Options.ReplayLogDirectory!, recursive: true);

    /// <summary>syncfs: the data in the store, the replay log committed.</summary>
    public void Sync() => Assert.Equal(0, Fs!.SyncFs(Caller.Root));

    public void FlushData() => Fs!.Core.Data!.FlushAsync().GetAwaiter().GetResult();

    public void DeleteObject(string key) => Store.DeleteAsync(key).GetAwaiter().GetResult();

    public void Checkpoint() => Fs!.Core.CheckpointAsync().GetAwaiter().GetResult();

    public void WriteFile(string path, int length, int seed, long offset = 0)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        Assert.Equal(0, Posix.Open(path, OpenFlags.O_CREAT | OpenFlags.O_RDWR, 0x1A4, out int fd));
        Assert.Equal(0, Posix.PWrite(fd, data, offset, out int written));
        Assert.Equal(length, written);
        Assert.Equal(0, Posix.Close(fd));
    }

    public byte[] ReadFile(string path, int length)
    {
        byte[] data = new byte[length];
        Assert.Equal(0, Posix.Open(path, OpenFlags.O_RDONLY, 0, out int fd));
        Assert.Equal(0, Posix.PRead(fd, data, 0, out int read));
        Assert.Equal(0, Posix.Close(fd));
        return data.AsSpan(0, read).ToArray();
    }

    public ReclaimReport Gc(TimeSpan? grace = null) =>
        VolumeReclaimer.RunAsync(Inodes, new ReclaimOptions { Grace = grace ?? TimeSpan.Zero }).GetAwaiter().GetResult();

    public long DataSegmentBytes() => Bytes(VolumeLayout.DataSegments.Prefix);

    public long Bytes(string prefix) => Store.ListAllAsync(prefix).ToBlockingEnumerable().Sum(o => o.Size);

    /// <summary>fsck of the store (the volume must be unmounted, or <paramref name="force"/>).</summary>
    public FsckReport Fsck(bool repair = false, bool force = false) =>
        VolumeChecker.CheckAsync(Store, new FsckOptions { Repair = repair, Force = force, Grace = TimeSpan.Zero }).GetAwaiter().GetResult();

    /// <summary>Unmounts (cleanly) if mounted and asserts fsck finds no error.</summary>
    public FsckReport AssertFsckClean()
    {
        Unmount();
        FsckReport report = Fsck();
        Assert.True(report.ExitCode == FsckReport.Clean, string.Join("\n", report.Problems));
        return report;
    }

    /// <summary>Changes the tree of the unmounted volume directly (to corrupt it) and commits with a clean-unmount root.</summary>
    public void EditTree(Action<VolumeCore> edit)
    {
        VolumeCore core = VolumeCore.OpenAsync(Store, Options).GetAwaiter().GetResult();
        try
        {
            edit(core);
        }
        finally
        {
            core.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    public void Dispose()
    {
        try
        {
            Fs?.Dispose();
        }
        finally
        {
            _logs.Dispose();
        }
    }
}
