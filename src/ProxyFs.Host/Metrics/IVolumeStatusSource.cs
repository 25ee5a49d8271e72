using ProxyFs.Core.Cache;
using ProxyFs.Core.LogSegments;
using ProxyFs.Host.Daemon;
using ProxyFs.ObjectStore.Decorators;

namespace ProxyFs.Host.Metrics;

/// <summary>
/// What a volume tells `proxyfs status` and the metrics endpoint about itself. Implement it on the object a volume
/// is served through and the daemon finds it (<see cref="VolumeStatusSources.Find"/>); everything else (FUSE counters,
/// rates, space, the read cache budget, the JSON and Prometheus forms) the daemon does. Called on every status
/// request and scrape, from any thread: make it cheap and lock-free or briefly locked.
/// </summary>
public interface IVolumeStatusSource
{
    /// <summary>The volume's numbers now. Leave unknown fields null: they show as "n/a" and are left out of the metrics.</summary>
    VolumeStatus GetStatus();
}

/// <summary>One volume's numbers at one moment; every field is optional.</summary>
public sealed record VolumeStatus
{
    /// <summary>The volume's id (from its descriptor).</summary>
    public Guid? VolumeId { get; init; }

    /// <summary>Its label (proxyfs format --label).</summary>
    public string? Label { get; init; }

    /// <summary>The store it lives in, without credentials (IObjectStore.Location).</summary>
    public string? StoreUri { get; init; }

    /// <summary>Bytes written by applications that are not durable in the store yet.</summary>
    public long? DirtyBytes { get; init; }

    /// <summary>Log segments open for appends or still uploading.</summary>
    public int? OpenSegments { get; init; }

    /// <summary>When the last checkpoint completed.</summary>
    public DateTimeOffset? LastCheckpoint { get; init; }

    /// <summary>Checkpoints completed since the mount.</summary>
    public long? Checkpoints { get; init; }

    /// <summary>Bytes of the local replay log.</summary>
    public long? ReplayLogBytes { get; init; }

    /// <summary>The read cache's counters (budget, occupancy, hits, misses).</summary>
    public ReadCacheMetricsSnapshot? ReadCache { get; init; }

    /// <summary>The read cache's local-disk tier (read_cache.disk_path), when there is one: shared by the daemon's volumes.</summary>
    public DiskLineTierMetrics? ReadCacheDisk { get; init; }

    /// <summary>
    /// The store's live counters: the <see cref="ObjectStoreMetrics"/> given to ObjectStores.Open through
    /// ObjectStoreOpenOptions.Metrics. The daemon derives request rates from it.
    /// </summary>
    public ObjectStoreMetrics? Store { get; init; }

    /// <summary>Store requests tried again after a retryable failure.</summary>
    public long? StoreRetries { get; init; }

    /// <summary>The segment writer's counters.</summary>
    public SegmentWriterMetricsSnapshot? Segments { get; init; }
}

/// <summary>Where the daemon looks for a volume's <see cref="IVolumeStatusSource"/>.</summary>
public static class VolumeStatusSources
{
    /// <summary>
    /// The status source of <paramref name="volume"/>: its filesystem when that implements
    /// <see cref="IVolumeStatusSource"/>, else what a file:// or s3:// volume's core exposes; null for the in-memory
    /// reference filesystem, which reports nothing of its own.
    /// </summary>
    public static IVolumeStatusSource? Find(OpenedVolume volume)
    {
        ArgumentNullException.ThrowIfNull(volume);
        return volume.Status ?? volume.FileSystem as IVolumeStatusSource
            ?? (volume.Volume is { } v ? new VolumeCoreStatusSource(v.Core) : null);
    }
}
