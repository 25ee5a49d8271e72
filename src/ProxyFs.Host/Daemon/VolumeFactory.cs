using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ProxyFs.Core.FileSystem;
using ProxyFs.Core.FileSystem.Memory;
using ProxyFs.Core.FileSystem.Posix;
using ProxyFs.Core.Volume;
using ProxyFs.Core.Volume.Inodes;
using ProxyFs.ObjectStore;

namespace ProxyFs.Host.Daemon;

/// <summary>A filesystem opened from a URI, and what to call it in logs and status.</summary>
public sealed record OpenedVolume(IFileSystem FileSystem, string Description, string FsName) : IDisposable
{
    /// <summary>A volume's checkpoints, store and cache, when the filesystem is one (null for memory://).</summary>
    public VolumeFileSystem? Volume => FileSystem as VolumeFileSystem;

    /// <summary>Releases the filesystem; a volume checkpoints first and records a clean unmount.</summary>
    public void Dispose() => (FileSystem as IDisposable)?.Dispose();
}

/// <summary>A URI that names no volume this build can open, or a volume that cannot be opened (one line, actionable).</summary>
public sealed class VolumeUriException(string message) : Exception(message);

/// <summary>
/// Opens the filesystem a URI names. The host is the only layer that knows concrete filesystems and stores:
/// memory:// is the in-memory reference filesystem (nothing persists); file:///path and s3://bucket/prefix are
/// volumes made by `proxyfs format`.
/// </summary>
public static class VolumeFactory
{
    public static OpenedVolume Open(string uri) => Open(uri, readOnly: false, NullLogger.Instance);

    public static OpenedVolume Open(string uri, bool readOnly, ILogger log)
    {
        ArgumentNullException.ThrowIfNull(log);
        if (!System.Uri.TryCreate(uri, UriKind.Absolute, out Uri? parsed))
        {
            throw new VolumeUriException($"'{uri}' is not a URI; expected memory://, file:///path or s3://bucket/prefix");
        }
        return parsed.Scheme switch
        {
            "memory" => new OpenedVolume(new MemoryFileSystem(), "memory:// (in-memory, not persistent)", "proxyfs-memory"),
            "file" or "s3" => OpenVolume(uri, readOnly, log),
            _ => throw new VolumeUriException($"'{uri}': unknown scheme '{parsed.Scheme}'; expected memory://, file:// or s3://"),
        };
    }

    private static OpenedVolume OpenVolume(string uri, bool readOnly, ILogger log)
    {
        IObjectStore store;
        try
        {
            store = ObjectStores.Open(uri);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or ObjectStoreException or IOException)
        {
            throw new VolumeUriException($"'{uri}': {StoreErrors.Describe(e)}");
        }
        try
        {
            VolumeFileSystem fs = VolumeFileSystem.OpenAsync(store, new VolumeOptions { ReadOnly = readOnly },
                new VolumeInodeStoreOptions(), new PosixFileSystemOptions(), log: log).GetAwaiter().GetResult();
            VolumeDescriptor d = fs.Core.Descriptor;
            string label = d.Label.Length > 0 ? $" '{d.Label}'" : "";
            return new OpenedVolume(fs, $"volume{label} {d.VolumeId} at {store.Location}{(readOnly ? " (read-only)" : "")}", "proxyfs:" + store.Location);
        }
        catch (Exception e) when (e is VolumeFormatException or VolumeFencedException or ObjectStoreException or InvalidOperationException or IOException)
        {
            (store as IDisposable)?.Dispose();
            throw new VolumeUriException(StoreErrors.Describe(e));
        }
    }
}
