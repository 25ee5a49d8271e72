using ProxyFs.Core.Volume;

namespace ProxyFs.Host.Metrics;

/// <summary>
/// What a mounted file:// or s3:// volume reports through its <see cref="VolumeCore"/>'s public state: id, label,
/// store, checkpoints, the segment writer's counters and the bytes it holds that are not durable yet. What the core
/// does not expose today stays null (n/a): the read cache (the factory lets the core make its own), the store's
/// request counters (the store is opened without a MetricsObjectStore) and the open segment count. The replay log's
/// size is its bytes on local disk (null on a read-only mount without one).
/// </summary>
public sealed class VolumeCoreStatusSource(VolumeCore core) : IVolumeStatusSource
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
        ReplayLogBytes = core.Journal?.Log.Statistics.BytesOnDisk,
    };
}
