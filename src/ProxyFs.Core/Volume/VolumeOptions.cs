using ProxyFs.Core.HeadHunter;
using ProxyFs.Core.LogSegments;

namespace ProxyFs.Core.Volume;

/// <summary>How a volume is formatted (fixed for its life).</summary>
public sealed record VolumeFormatOptions
{
    public string Label { get; init; } = "";
    public int MaxSegmentSize { get; init; } = 10 << 20;
    public int PageSize { get; init; } = 16 * 1024;
    public int SegmentBlockSize { get; init; } = 64 << 10;
    /// <summary>Replace an existing volume (its objects are deleted first).</summary>
    public bool Force { get; init; }
}

/// <summary>How a volume is served (may change from mount to mount).</summary>
public sealed record VolumeOptions
{
    /// <summary>How often dirty metadata is checkpointed (ProxyFS's default: 10 s).</summary>
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Earlier checkpoint generations kept mountable (their pages and segments are not reclaimed).</summary>
    public int KeepCheckpoints { get; init; } = 8;

    /// <summary>Nonces reserved per root pointer write.</summary>
    public ulong NonceBatch { get; init; } = 1 << 16;

    /// <summary>Serve without writing anything: no checkpoints, no reservation, EROFS for every change.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>Mount an earlier checkpoint generation instead of the newest (read-only).</summary>
    public ulong? Generation { get; init; }

    /// <summary>Byte budget of the B+tree page cache.</summary>
    public long PageCacheBytes { get; init; } = 64L << 20;

    /// <summary>Tuning of the data segment writer; the key prefix and segment size come from the volume.</summary>
    public SegmentWriterOptions Segments { get; init; } = new();

    /// <summary>Seal and upload a data segment at this many bytes; null: the volume's segment size (its maximum, fixed at format).</summary>
    public int? MaxFlushSize { get; init; }

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>The volume's name in the read cache (its metrics carry it); null: the volume id.</summary>
    public string? ReadCacheName { get; init; }

    /// <summary>The daemon's local-disk tier of the read cache (lines kept on disk, checked on read); null: none.</summary>
    public Cache.DiskLineTier? ReadCacheDiskTier { get; init; }

    /// <summary>The volume's weight in the read cache it shares with other volumes (its share is budget × weight / Σ weights).</summary>
    public double ReadCacheWeight { get; init; } = 1;

    /// <summary>
    /// The replay log's directory on local disk; null: <c>/var/lib/proxyfs/&lt;volume id&gt;</c>
    /// (<see cref="ReplayLog.VolumeReplayLog.DefaultDirectory"/>).
    /// </summary>
    public string? ReplayLogDirectory { get; init; }

    /// <summary>Where the replay log directory named by the volume id is made when <see cref="ReplayLogDirectory"/> is null; null: /var/lib/proxyfs.</summary>
    public string? ReplayLogParent { get; init; }

    /// <summary>
    /// Mount even when the replay log of an uncleanly unmounted volume is missing, damaged or unreadable, losing the
    /// changes made after the last checkpoint (logged). Another volume's log is refused all the same.
    /// </summary>
    public bool AcceptReplayLogLoss { get; init; }

    /// <summary>How often the background group commit makes appended log records durable (fsync commits at once).</summary>
    public TimeSpan GroupCommitInterval { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Geometry of a new replay log (an existing one keeps its own); null: the defaults.</summary>
    public ReplayLog.ReplayLogOptions? ReplayLog { get; init; }

    internal HeadHunterOptions TreeOptions(VolumeDescriptor d) => new() { PageSize = d.PageSize, CacheBudgetBytes = PageCacheBytes };
}
