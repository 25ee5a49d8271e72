using ProxyFs.Core.Cache;
using ProxyFs.Core.Volume;
using ProxyFs.ObjectStore.Decorators;

namespace ProxyFs.Host.Metrics;

/// <summary>
/// What a mounted file:// or s3:// volume reports through its <see cref="VolumeCore"/>'s public state: id, label,
/// store, checkpoints, the segment writer's counters and the bytes it holds that are not durable yet, its own part
/// of the read cache (hits, bytes served and fetched, read-ahead), when the volume factory opened the store with
/// them, the store's request counters (<paramref name="store"/>) and retries (<paramref name="retries"/>), and the
/// replay log's size (its bytes on local disk; null on a read-only mount without one). What the core does not expose
/// stays null (n/a): the open segment count.
/// </summary>
public sealed class VolumeCoreStatusSource(VolumeCore core, ObjectStoreMetrics? store = null, RetryingObjectStore? retries = null) : IVolumeStatusSource
{
    public VolumeStatus GetStatus() => new()
    {
        VolumeId = core.Descriptor.VolumeId,
        Label = core.Descriptor.Label,
        StoreUri = core.Location,
        DirtyBytes = core.Data?.BytesWaiting,
        // The age counts from the mount until the first checkpoint of this daemon (the state it loaded is durable).
        LastCheckpoint = DateTimeOffset.UtcNow - core.SinceLastCheckpoint,
        Checkpoints = core.Checkpoints,
        Segments = core.Data?.Metrics.Snapshot(),
        ReadCache = CacheOfThisVolume(core.DataReader.Cache),
        ReadCacheDisk = core.DataReader.DiskTier?.Snapshot(),
        Store = store,
        StoreRetries = store is null ? null : retries?.Retries ?? 0,
        ReplayLogBytes = core.Journal?.Log.Statistics.BytesOnDisk,
    };

    /// <summary>The cache's budget with this volume's line only: in a daemon serving several volumes each reports its own.</summary>
    private static ReadCacheMetricsSnapshot CacheOfThisVolume(ReadCacheVolume share)
    {
        ReadCacheMetricsSnapshot all = share.Cache.Snapshot();
        return all with { Volumes = [.. all.Volumes.Where(v => v.Volume == share.Name)] };
    }
}
