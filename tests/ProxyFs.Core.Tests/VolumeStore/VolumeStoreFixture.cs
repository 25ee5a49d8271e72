using ProxyFs.Core.FileSystem.Inodes;
using ProxyFs.Core.FileSystem.Posix;
using ProxyFs.Core.Volume;
using ProxyFs.Core.Volume.Inodes;
using ProxyFs.ObjectStore;
using ProxyFs.ObjectStore.Memory;

namespace ProxyFs.Core.Tests.VolumeStore;

/// <summary>A formatted volume in an in-memory object store, served by the POSIX layer over its inode store; reopened at will.</summary>
internal sealed class VolumeStoreFixture : IDisposable
{
    public static readonly VolumeOptions Manual = new() { CheckpointInterval = TimeSpan.Zero };

    private readonly VolumeInodeStoreOptions _inodes;

    public VolumeStoreFixture(int unreferencedInodes = 3, IObjectStore? store = null, VolumeFormatOptions? format = null)
    {
        ObjectStore = store ?? new MemoryObjectStore("volume");
        _inodes = new VolumeInodeStoreOptions { UnreferencedInodes = unreferencedInodes };
        VolumeFormatter.FormatAsync(ObjectStore, format ?? new VolumeFormatOptions(), new RootDirectoryOptions()).GetAwaiter().GetResult();
        Fs = Open();
    }

    public IObjectStore ObjectStore { get; }

    public VolumeFileSystem Fs { get; private set; }

    public VolumeInodeStore Store => Fs.VolumeStore;

    /// <summary>A clean unmount and a new mount of the same store.</summary>
    public VolumeFileSystem Remount()
    {
        Fs.Dispose();
        Fs = Open();
        return Fs;
    }

    public static IInodeStore NewStore(bool evictEagerly) => new VolumeStoreFixture(evictEagerly ? 0 : 3).Store;

    private VolumeFileSystem Open() =>
        VolumeFileSystem.OpenAsync(ObjectStore, Manual, _inodes, new PosixFileSystemOptions()).GetAwaiter().GetResult();

    public void Dispose() => Fs.Dispose();
}
