using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ProxyFs.Core.Cache;
using ProxyFs.Core.FileSystem;
using ProxyFs.Core.FileSystem.Memory;
using ProxyFs.Core.FileSystem.Posix;
using ProxyFs.Core.Volume;
using ProxyFs.Core.Volume.Inodes;
using ProxyFs.Host.Metrics;
using ProxyFs.ObjectStore;
using ProxyFs.ObjectStore.Decorators;

namespace ProxyFs.Host.Daemon;

/// <summary>A filesystem opened from a URI, and what to call it in logs and status.</summary>
public sealed record OpenedVolume(IFileSystem FileSystem, string Description, string FsName) : IDisposable
{
    /// <summary>A volume's checkpoints, store and cache, when the filesystem is one (null for memory://).</summary>
    public VolumeFileSystem? Volume => FileSystem as VolumeFileSystem;

    /// <summary>What the volume reports to status and metrics (null: the daemon finds what it can).</summary>
    public IVolumeStatusSource? Status { get; init; }

    /// <summary>Releases the filesystem; a volume checkpoints first and records a clean unmount.</summary>
    public void Dispose() => (FileSystem as IDisposable)?.Dispose();
}

/// <summary>A URI that names no volume this build can open, or a volume that cannot be opened (one line, actionable).</summary>
public sealed class VolumeUriException(string message) : Exception(message);

/// <summary>How <see cref="VolumeFactory.Open(string, VolumeOpenOptions, ILogger)"/> serves a volume: read-only, its part of the read cache, where its replay log lives.</summary>
public sealed record VolumeOpenOptions
{
    /// <summary>Serve it read-only.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>The daemon's read cache, shared by its volumes; null: the volume makes its own with the defaults.</summary>
    public ReadCache? Cache { get; init; }

    /// <summary>The volume's name in the read cache and its metrics (null: the volume id).</summary>
    public string? CacheName { get; init; }

    /// <summary>The volume's weight in the shared read cache.</summary>
    public double CacheWeight { get; init; } = 1;

    /// <summary>The daemon's local-disk tier of the read cache; null: none.</summary>
    public DiskLineTier? DiskTier { get; init; }

    /// <summary>The replay log directory itself (-o replay_log=); null: <see cref="ReplayLogParent"/>/&lt;volume id&gt;.</summary>
    public string? ReplayLogDirectory { get; init; }

    /// <summary>replay_log.directory; null: <see cref="RunPaths.DefaultReplayLogParent"/>.</summary>
    public string? ReplayLogParent { get; init; }

    /// <summary>-o accept_log_loss.</summary>
    public bool AcceptReplayLogLoss { get; init; }

    /// <summary>-o checkpoint_interval; null: the volume default (10 s).</summary>
    public TimeSpan? CheckpointInterval { get; init; }

    /// <summary>-o max_flush_size; null: the volume's segment size.</summary>
    public long? MaxFlushSize { get; init; }

    /// <summary>-o max_flush_time; null: the default (1 s).</summary>
    public TimeSpan? MaxFlushTime { get; init; }

    /// <summary>-o keep_checkpoints; null: the default (8).</summary>
    public int? KeepCheckpoints { get; init; }

    /// <summary>-o metadata_cache; null: the default (64 MiB).</summary>
    public long? MetadataCache { get; init; }
}

/// <summary>
/// Opens the filesystem a URI names. The host is the only layer that knows concrete filesystems and stores:
/// memory:// is the in-memory reference filesystem (nothing persists); file:///path and s3://bucket/prefix are
/// volumes made by `proxyfs format`. A volume's store is opened with its requests counted
/// (<see cref="MetricsObjectStore"/> under the retries) and its retries counted, for status and the metrics endpoint.
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
            "memory" => new OpenedVolume(new MemoryFileSystem(new MemoryFileSystemOptions { ProtectedHardlinks = HostKernel.ProtectedHardlinks }), "memory:// (in-memory, not persistent)", "proxyfs-memory"),
            "file" or "s3" => OpenVolume(uri, options, log),
            _ => throw new VolumeUriException($"'{uri}': unknown scheme '{parsed.Scheme}'; expected memory://, file:// or s3://"),
        };
    }

    private static OpenedVolume OpenVolume(string uri, VolumeOpenOptions options, ILogger log)
    {
        bool readOnly = options.ReadOnly;
        IObjectStore store;
        var metrics = new ObjectStoreMetrics(uri);
        try
        {
            store = ObjectStores.Open(uri, new ObjectStoreOpenOptions { Metrics = metrics });
        }
        catch (Exception e) when (e is ArgumentException or FormatException or ObjectStoreException or IOException)
        {
            throw new VolumeUriException($"'{uri}': {StoreErrors.Describe(e)}");
        }
        try
        {
            var volumeOptions = new VolumeOptions
            {
                ReadOnly = readOnly,
                ReplayLogDirectory = options.ReplayLogDirectory,
                ReplayLogParent = options.ReplayLogParent ?? RunPaths.DefaultReplayLogParent,
                AcceptReplayLogLoss = options.AcceptReplayLogLoss,
                ReadCacheName = options.CacheName,
                ReadCacheWeight = options.CacheWeight,
                ReadCacheDiskTier = options.DiskTier,
            };
            volumeOptions = Tuned(volumeOptions, options);
            VolumeFileSystem fs = VolumeFileSystem.OpenAsync(store, volumeOptions,
                new VolumeInodeStoreOptions(), new PosixFileSystemOptions { ProtectedHardlinks = HostKernel.ProtectedHardlinks }, options.Cache, log: log).GetAwaiter().GetResult();
            VolumeDescriptor d = fs.Core.Descriptor;
            string label = d.Label.Length > 0 ? $" '{d.Label}'" : "";
            return new OpenedVolume(fs, $"volume{label} {d.VolumeId} at {store.Location}{(readOnly ? " (read-only)" : "")}", "proxyfs:" + store.Location)
            {
                Status = new VolumeCoreStatusSource(fs.Core, metrics, store as RetryingObjectStore),
            };
        }
        catch (Exception e) when (e is VolumeFormatException or VolumeFencedException or ObjectStoreException or InvalidOperationException or IOException
            or ProxyFs.Core.ReplayLog.ReplayLogException)
        {
            (store as IDisposable)?.Dispose();
            throw new VolumeUriException(StoreErrors.Describe(e));
        }
    }

    /// <summary>The tuning mount options given (-o checkpoint_interval, max_flush_size, …) over the volume defaults.</summary>
    private static VolumeOptions Tuned(VolumeOptions v, VolumeOpenOptions o) => v with
    {
        CheckpointInterval = o.CheckpointInterval ?? v.CheckpointInterval,
        MaxFlushSize = o.MaxFlushSize is { } size ? (int)size : v.MaxFlushSize,
        Segments = o.MaxFlushTime is { } time ? v.Segments with { MaxFlushTime = time } : v.Segments,
        KeepCheckpoints = o.KeepCheckpoints ?? v.KeepCheckpoints,
        PageCacheBytes = o.MetadataCache ?? v.PageCacheBytes,
    };
}
