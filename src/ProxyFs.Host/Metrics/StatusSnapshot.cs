using System.Text.Json;

namespace ProxyFs.Host.Metrics;

/// <summary>
/// What `proxyfs status` shows: the daemon fills it and returns it as one JSON line on its control socket
/// ("status"); `proxyfs status --json` prints that JSON. Null means "not known for this volume".
/// </summary>
public sealed record StatusSnapshot
{
    public int Pid { get; init; }
    public string Version { get; init; } = "";
    public DateTimeOffset Time { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public double UptimeSeconds { get; init; }
    public string MountPoint { get; init; } = "";
    public string Uri { get; init; } = "";
    public string? VolumeName { get; init; }
    public string Description { get; init; } = "";
    public string? ConfigFile { get; init; }
    public bool ReadOnly { get; init; }
    public IReadOnlyList<string> Options { get; init; } = [];
    public VolumeSection Volume { get; init; } = new();
    public SpaceSection? Space { get; init; }
    public CacheSection Cache { get; init; } = new();
    public StoreSection? Store { get; init; }
    public SegmentsSection? Segments { get; init; }
    public FuseSection? Fuse { get; init; }
    public MetricsSection Metrics { get; init; } = new();

    /// <summary>The JSON form: camelCase, one line (serializers generated at build time, <see cref="HostJsonContext"/>).</summary>
    public static JsonSerializerOptions JsonOptions => HostJsonContext.Default.Options;

    public string ToJson() => JsonSerializer.Serialize(this, HostJsonContext.Default.StatusSnapshot);

    public static StatusSnapshot FromJson(string json) =>
        JsonSerializer.Deserialize(json, HostJsonContext.Default.StatusSnapshot) ?? throw new JsonException("the status reply is empty");
}

public sealed record VolumeSection
{
    public string? Id { get; init; }
    public string? Label { get; init; }
    public string? StoreUri { get; init; }
    public long? DirtyBytes { get; init; }
    public int? OpenSegments { get; init; }
    public DateTimeOffset? LastCheckpoint { get; init; }
    public double? LastCheckpointAgeSeconds { get; init; }
    public long? Checkpoints { get; init; }
    public long? ReplayLogBytes { get; init; }
}

public sealed record SpaceSection
{
    public long SizeBytes { get; init; }
    public long UsedBytes { get; init; }
    public long AvailableBytes { get; init; }
    public long Files { get; init; }
    public long FilesFree { get; init; }
}

public sealed record CacheSection
{
    /// <summary>This daemon's read cache budget (its share of read_cache.size, or cache_size=).</summary>
    public long BudgetBytes { get; init; }
    public double Weight { get; init; }
    public long? UsedBytes { get; init; }
    public long? Lines { get; init; }
    public long? Hits { get; init; }
    public long? Misses { get; init; }
    public long? JoinedFills { get; init; }
    public double? HitRatio { get; init; }
    public long? BytesServed { get; init; }
    public long? BytesFetched { get; init; }
    public long? Evictions { get; init; }

    /// <summary>Bytes of the lines in the protected segment (lines re-used after their first use).</summary>
    public long? ProtectedBytes { get; init; }

    /// <summary>Lines moved from probation to protected (re-used after their first use).</summary>
    public long? Promotions { get; init; }

    /// <summary>Lines moved from protected back to probation.</summary>
    public long? Demotions { get; init; }

    /// <summary>This volume's share of the budget (budget × weight / Σ weights of the volumes the daemon serves).</summary>
    public long? ShareBytes { get; init; }

    /// <summary>Bytes read ahead from the store into the cache.</summary>
    public long? ReadAheadBytesFetched { get; init; }

    /// <summary>Bytes of read-ahead lines that a reader then used.</summary>
    public long? ReadAheadBytesUsed { get; init; }

    /// <summary>Bytes of read-ahead lines evicted unused.</summary>
    public long? ReadAheadBytesWasted { get; init; }

    /// <summary>Read-ahead fills not started because too many were in flight.</summary>
    public long? ReadAheadDropped { get; init; }

    /// <summary>Bytes of line memory mapped by the daemon's read cache (the most its lines used at once).</summary>
    public long? LineMemoryBytes { get; init; }

    /// <summary>Slabs of line memory advised to use transparent huge pages (read_cache.huge_pages).</summary>
    public long? HugePageSlabs { get; init; }

    /// <summary>Huge pages that were slow to back, each turning huge pages off for five minutes.</summary>
    public long? SlowHugePages { get; init; }

    /// <summary>The local-disk tier (read_cache.disk_path) of the daemon, when it has one.</summary>
    public DiskTierSection? Disk { get; init; }
}

public sealed record DiskTierSection
{
    public long Bytes { get; init; }
    public long Files { get; init; }
    public long MaxBytes { get; init; }
    public long Hits { get; init; }
    public long Misses { get; init; }
    public long Writes { get; init; }
    public long Corrupt { get; init; }
    public long Evictions { get; init; }
    public long Errors { get; init; }
    public long Dropped { get; init; }
    public long QueuedBytes { get; init; }
}

public sealed record StoreSection
{
    public long Requests { get; init; }
    public long Errors { get; init; }
    public long? Retries { get; init; }
    public long BytesRead { get; init; }
    public long BytesWritten { get; init; }
    public double RequestsPerSecond { get; init; }
    public double RateWindowSeconds { get; init; }
    public IReadOnlyList<StoreOperationSection> Operations { get; init; } = [];
}

public sealed record StoreOperationSection
{
    public string Operation { get; init; } = "";
    public long Requests { get; init; }
    public long Errors { get; init; }
    public long Bytes { get; init; }
    public double RequestsPerSecond { get; init; }
    public double MeanLatencyMs { get; init; }
    public double MaxLatencyMs { get; init; }
    public IReadOnlyDictionary<string, long> ErrorsByKind { get; init; } = new Dictionary<string, long>();
}

public sealed record SegmentsSection
{
    public long Written { get; init; }
    public long DataBytes { get; init; }
    public long BytesWaiting { get; init; }
    public int UploadsInFlight { get; init; }
    public long UploadRetries { get; init; }
    public long UploadFailures { get; init; }
    public double MeanUploadMs { get; init; }
}

public sealed record FuseSection
{
    public long Requests { get; init; }
    public long Errors { get; init; }
    public long BytesRead { get; init; }
    public long BytesWritten { get; init; }
    public long Interrupts { get; init; }
    public long ReplyFailures { get; init; }

    /// <summary>Times a parked reader was woken because the listening one was held by a slow request.</summary>
    public long ReaderHandoffs { get; init; }
    public double RequestsPerSecond { get; init; }
    public double ReadBytesPerSecond { get; init; }
    public double WrittenBytesPerSecond { get; init; }
    public double RateWindowSeconds { get; init; }
    /// <summary>Requests received since the mount, by opcode (LOOKUP, WRITE…).</summary>
    public IReadOnlyDictionary<string, long> Opcodes { get; init; } = new Dictionary<string, long>();

    /// <summary>Requests per second over the rate window, by opcode.</summary>
    public IReadOnlyDictionary<string, double> OpcodeRates { get; init; } = new Dictionary<string, double>();
}

public sealed record MetricsSection
{
    /// <summary>The URL of the Prometheus endpoint; null when it is off.</summary>
    public string? Endpoint { get; init; }

    /// <summary>Why the endpoint is not serving, when it was asked for and could not start.</summary>
    public string? Error { get; init; }
}
