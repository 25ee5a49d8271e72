using Microsoft.Extensions.Logging;

namespace ProxyFs.Host.Config;

/// <summary>
/// The configuration file (/etc/proxyfs/proxyfs.yaml), after defaults, the file and the environment overrides
/// (PROXYFS_*) were applied and validated. Every key is listed in <see cref="ConfigSchema"/> and documented in
/// docs/CONFIGURATION.md and proxyfs.yaml(5).
/// </summary>
public sealed record ProxyFsConfig
{
    /// <summary>Where the configuration is read from when none is named: the package installs a sample there.</summary>
    public const string DefaultPath = "/etc/proxyfs/proxyfs.yaml";

    /// <summary>The variable that names another configuration file (as --config and -o config= do).</summary>
    public const string PathVariable = "PROXYFS_CONFIG";

    /// <summary>The file the configuration came from; null when there was none (defaults and environment only).</summary>
    public string? SourceFile { get; init; }

    /// <summary>log_level: the least severe messages the daemon logs.</summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    /// <summary>read_cache: the memory budget of the read cache, all configured volumes together.</summary>
    public ReadCacheConfig ReadCache { get; init; } = new();

    /// <summary>metrics: the Prometheus endpoint (off unless listen is set).</summary>
    public MetricsConfig Metrics { get; init; } = new();

    /// <summary>gc: space reclamation by the daemon.</summary>
    public GcConfig Gc { get; init; } = new();

    /// <summary>credentials_file: a file of AWS credentials for s3:// stores (mode 0600 or stricter); null: the AWS chain.</summary>
    public string? CredentialsFile { get; init; }

    /// <summary>replay_log.directory: where each volume's replay log directory (named by the volume id) is made; null: /var/lib/proxyfs.</summary>
    public string? ReplayLogDirectory { get; init; }

    /// <summary>volumes: the volumes this machine mounts, by name.</summary>
    public IReadOnlyList<VolumeConfig> Volumes { get; init; } = [];

    /// <summary>The volume named <paramref name="name"/>, or null.</summary>
    public VolumeConfig? FindVolume(string name) => Volumes.FirstOrDefault(v => v.Name == name);

    /// <summary>Where to say a volume was looked for in messages.</summary>
    public string Describe() => SourceFile ?? "the configuration (no file; defaults and PROXYFS_* variables)";
}

/// <summary>The read_cache section.</summary>
public sealed record ReadCacheConfig
{
    /// <summary>read_cache.size: bytes of cached lines, shared by every configured volume by weight.</summary>
    public long Size { get; init; } = 1L << 30;

    /// <summary>read_cache.line_size: bytes per cache line, fetched by one ranged GET.</summary>
    public int LineSize { get; init; } = 1 << 20;

    /// <summary>read_cache.huge_pages: whether line memory may use transparent huge pages (auto) or not (off).</summary>
    public ProxyFs.Core.Cache.HugePagePolicy HugePages { get; init; }

    /// <summary>The cache's settings with a budget of <paramref name="budget"/> bytes.</summary>
    public ProxyFs.Core.Cache.ReadCacheOptions Options(long budget) => new() { BudgetBytes = budget, LineSize = LineSize, HugePages = HugePages };

    /// <summary>read_cache.disk_path: the directory of the local-disk tier of the read cache; null: no disk tier.</summary>
    public string? DiskPath { get; init; }

    /// <summary>read_cache.disk_size: bytes of line files the disk tier keeps at most.</summary>
    public long DiskSize { get; init; } = 10L << 30;

    /// <summary>The disk tier's settings, or null when there is none.</summary>
    public ProxyFs.Core.Cache.DiskLineTierOptions? DiskTier => DiskPath is null ? null : new() { Directory = DiskPath, MaxBytes = DiskSize };
}

/// <summary>The gc section: background space reclamation (Core/Volume/Maintenance).</summary>
public sealed record GcConfig
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan DefaultGrace = TimeSpan.FromMinutes(10);
    public const double DefaultCompactBelow = 0.5;

    /// <summary>gc.interval: how often the daemon runs a reclamation pass; zero: never in the background.</summary>
    public TimeSpan Interval { get; init; } = DefaultInterval;

    /// <summary>gc.grace: how long a dead segment or an orphan object stays in the store before it is deleted.</summary>
    public TimeSpan Grace { get; init; } = DefaultGrace;

    /// <summary>gc.compact_below: data segments with a smaller share of live bytes are compacted (0: never).</summary>
    public double CompactBelow { get; init; } = DefaultCompactBelow;
}

/// <summary>The metrics section.</summary>
public sealed record MetricsConfig
{
    /// <summary>metrics.listen: the base address of the Prometheus endpoint; null: no endpoint.</summary>
    public ListenAddress? Listen { get; init; }

    /// <summary>metrics.allow_remote: allow an address other than loopback.</summary>
    public bool AllowRemote { get; init; }
}

/// <summary>One entry of the volumes list.</summary>
public sealed record VolumeConfig
{
    /// <summary>name: how the volume is named on the command line, in fstab and in proxyfs@NAME.service.</summary>
    public required string Name { get; init; }

    /// <summary>uri: where the volume is stored.</summary>
    public required string Uri { get; init; }

    /// <summary>mount_point: where it is mounted when no mount point is given.</summary>
    public string? MountPoint { get; init; }

    /// <summary>read_cache_weight: its share of read_cache.size relative to the other volumes.</summary>
    public double ReadCacheWeight { get; init; } = 1;

    /// <summary>options: mount options, as for -o (applied before those of the command line).</summary>
    public IReadOnlyList<string> Options { get; init; } = [];

    /// <summary>credentials_file: overrides the top-level credentials_file for this volume.</summary>
    public string? CredentialsFile { get; init; }

    /// <summary>metrics_listen: this volume's endpoint; null: the base address plus the volume's index.</summary>
    public ListenAddress? MetricsListen { get; init; }

    /// <summary>metrics_listen: off.</summary>
    public bool MetricsOff { get; init; }

    /// <summary>Its position in the volumes list (0 for the first).</summary>
    public int Index { get; init; }

    /// <summary>Where the entry is ("/etc/proxyfs/proxyfs.yaml:12:5"), for messages.</summary>
    public string Where { get; init; } = "";
}

/// <summary>A configuration error: one line that says where (file:line:column or the variable) and what is wrong.</summary>
public sealed class ConfigException(string message) : Exception(message);
