using ProxyFs.Core.FileSystem.Inodes;
using ProxyFs.Core.FileSystem.Posix;
using ProxyFs.Core.LogSegments;
using ProxyFs.Core.ReplayLog;
using ProxyFs.Core.Volume;
using ProxyFs.Core.Volume.Inodes;
using ProxyFs.ObjectStore;
using ProxyFs.ObjectStore.Memory;
using ProxyFs.Testing;
using ProxyFs.Testing.Posix;

namespace ProxyFs.Core.Tests.VolumeStore;

/// <summary>A formatted volume in an in-memory object store, served by the POSIX layer over its inode store; reopened at will.</summary>
internal sealed class VolumeStoreFixture : IDisposable
{
    public static readonly VolumeOptions Manual = new() { CheckpointInterval = TimeSpan.Zero };

    private readonly VolumeInodeStoreOptions _inodes;
    private readonly VolumeOptions _options;
    private readonly TempDirectory _logs = TempDirectory.Create();

    public VolumeStoreFixture(int unreferencedInodes = 3, IObjectStore? store = null, VolumeFormatOptions? format = null,
        SegmentWriterOptions? segments = null, ReplayLogOptions? replayLog = null, string? logDirectory = null)
    {
        LogDirectory = logDirectory ?? Path.Combine(_logs.Path, "log");
        _options = Manual with { ReplayLogDirectory = LogDirectory, Segments = segments ?? new SegmentWriterOptions(), ReplayLog = replayLog };
        ObjectStore = store ?? new MemoryObjectStore("volume");
        _inodes = new VolumeInodeStoreOptions { UnreferencedInodes = unreferencedInodes };
        VolumeFormatter.FormatAsync(ObjectStore, format ?? new VolumeFormatOptions(), new RootDirectoryOptions()).GetAwaiter().GetResult();
        Fs = Open();
    }

    public IObjectStore ObjectStore { get; }

    public VolumeFileSystem Fs { get; private set; }

    public VolumeInodeStore Store => Fs.VolumeStore;

    /// <summary>A clean unmount and a new mount of the same store.</summary>
    public VolumeFileSystem Remount() => PosixThread.AsRoot(() =>
    {
        Fs.Dispose();
        Fs = Open();
        return Fs;
    });

    /// <summary>
    /// A crash right after a syncfs, and a new mount of the same store and replay log: with no checkpoint in between
    /// (checkpoints are manual here), everything the new mount shows comes from replaying the log.
    /// </summary>
    public VolumeFileSystem CrashRemount() => PosixThread.AsRoot(() =>
    {
        Assert.Equal(0, Store.SyncAll());
        Fs.Core.AbandonForTest();
        Fs = Open();
        return Fs;
    });

    public static IInodeStore NewStore(bool evictEagerly) => new VolumeStoreFixture(evictEagerly ? 0 : 3).Store;

    /// <summary>A new mount after the last one was abandoned (<see cref="VolumeCore.AbandonForTest"/>) or disposed.</summary>
    public VolumeFileSystem Reopen(VolumeOptions? options = null)
    {
        Fs = Open(options);
        return Fs;
    }

    /// <summary>The replay log directory of every mount of this volume.</summary>
    public string LogDirectory { get; }

    private VolumeFileSystem Open(VolumeOptions? options = null) =>
        VolumeFileSystem.OpenAsync(ObjectStore, options is null ? _options : options with { ReplayLogDirectory = options.ReplayLogDirectory ?? LogDirectory },
            _inodes, new PosixFileSystemOptions()).GetAwaiter().GetResult();

    public void Dispose()
    {
        try
        {
            Fs.Dispose();
        }
        finally
        {
            _logs.Dispose();
        }
    }
}
