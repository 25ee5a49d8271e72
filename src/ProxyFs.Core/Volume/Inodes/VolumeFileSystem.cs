using Microsoft.Extensions.Logging;
using ProxyFs.Core.Cache;
using ProxyFs.Core.FileSystem.Posix;
using ProxyFs.ObjectStore;

namespace ProxyFs.Core.Volume.Inodes;

/// <summary>
/// A volume served as a POSIX filesystem: the POSIX layer (<see cref="PosixFileSystem"/>) over the volume's inode
/// store. Disposing it checkpoints (marking the volume cleanly unmounted) and releases the volume.
/// </summary>
public sealed class VolumeFileSystem : PosixFileSystem, IAsyncDisposable, IDisposable
{
    private int _disposed;

    private VolumeFileSystem(VolumeInodeStore store, PosixFileSystemOptions options)
        : base(store, options)
    {
        VolumeStore = store;
    }

    /// <summary>The inode store under the POSIX layer.</summary>
    public VolumeInodeStore VolumeStore { get; }

    /// <summary>The volume underneath.</summary>
    public VolumeCore Core => VolumeStore.Core;

    /// <summary>Opens the volume in <paramref name="store"/> and serves it.</summary>
    public static async Task<VolumeFileSystem> OpenAsync(IObjectStore store, VolumeOptions? options = null, VolumeInodeStoreOptions? inodes = null,
        PosixFileSystemOptions? posix = null, ReadCache? cache = null, ILogger? log = null, CancellationToken cancellationToken = default)
    {
        VolumeCore core = await VolumeCore.OpenAsync(store, options ?? new VolumeOptions(), cache, log, cancellationToken).ConfigureAwait(false);
        try
        {
            return new VolumeFileSystem(VolumeInodeStore.Open(core, inodes, log), posix ?? new PosixFileSystemOptions());
        }
        catch (Exception e)
        {
            // No checkpoint on the way out: the tree may hold half a replay, and the log must stay for the next try.
            core.Fence($"the volume could not be served: {e.Message}");
            await core.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Checkpoints with the clean-unmount mark (unless read-only or stopped) and releases the volume.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await Core.DisposeAsync().ConfigureAwait(false);
        }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
