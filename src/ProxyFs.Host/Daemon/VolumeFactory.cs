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

/// <summary>How a volume is served beyond its URI: read-only, and where its replay log lives.</summary>
public sealed record VolumeOpenOptions
{
    public bool ReadOnly { get; init; }

    /// <summary>The replay log directory itself (-o replay_log=); null: <see cref="ReplayLogParent"/>/&lt;volume id&gt;.</summary>
    public string? ReplayLogDirectory { get; init; }

    /// <summary>replay_log.directory; null: /var/lib/proxyfs.</summary>
    public string? ReplayLogParent { get; init; }

    /// <summary>-o accept_log_loss.</summary>
    public bool AcceptReplayLogLoss { get; init; }
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
    public static OpenedVolume Open(string uri) => Open(uri, new VolumeOpenOptions(), NullLogger.Instance);

    public static OpenedVolume Open(string uri, bool readOnly, ILogger log) => Open(uri, new VolumeOpenOptions { ReadOnly = readOnly }, log);

    public static OpenedVolume Open(string uri, VolumeOpenOptions options, ILogger log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        if (!System.Uri.TryCreate(uri, UriKind.Absolute, out Uri? parsed))
        {
            throw new VolumeUriException($"'{uri}' is not a URI; expected memory://, file:///path or s3://bucket/prefix");
        }
        return parsed.Scheme switch
        {
            "memory" => new OpenedVolume(new MemoryFileSystem(), "memory:// (in-memory, not persistent)", "proxyfs-memory"),
            "file" or "s3" => OpenVolume(uri, options, log),
            _ => throw new VolumeUriException($"'{uri}': unknown scheme '{parsed.Scheme}'; expected memory://, file:// or s3://"),
        };
    }

    private static OpenedVolume OpenVolume(string uri, VolumeOpenOptions options, ILogger log)
    {
        bool readOnly = options.ReadOnly;
        IObjectStore store;
        try
        {
            store = ObjectStores.Open(uri);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or ObjectStoreException or IOException)
        {
            throw new VolumeUriException($"'{uri}': {e.Message}");
        }
        try
        {
            var volumeOptions = new VolumeOptions
            {
                ReadOnly = readOnly,
                ReplayLogDirectory = options.ReplayLogDirectory,
                ReplayLogParent = options.ReplayLogParent,
                AcceptReplayLogLoss = options.AcceptReplayLogLoss,
            };
            VolumeFileSystem fs = VolumeFileSystem.OpenAsync(store, volumeOptions,
                new VolumeInodeStoreOptions(), new PosixFileSystemOptions(), log: log).GetAwaiter().GetResult();
            VolumeDescriptor d = fs.Core.Descriptor;
            string label = d.Label.Length > 0 ? $" '{d.Label}'" : "";
            return new OpenedVolume(fs, $"volume{label} {d.VolumeId} at {store.Location}{(readOnly ? " (read-only)" : "")}", "proxyfs:" + store.Location);
        }
        catch (Exception e) when (e is VolumeFormatException or VolumeFencedException or ObjectStoreException or InvalidOperationException or IOException
            or ProxyFs.Core.ReplayLog.ReplayLogException)
        {
            (store as IDisposable)?.Dispose();
            throw new VolumeUriException(e.Message);
        }
    }
}
