using Microsoft.Extensions.Logging;
using ProxyFs.Core.Cache;

namespace ProxyFs.Host.Config;

/// <summary>
/// What the configuration gives one mount beyond its URI, mount point and options: the daemon-wide settings as they
/// apply to this daemon (each mount is served by its own process). The volume factory reads <see cref="ReadCache"/>
/// (whose budget is already this volume's share) and <see cref="VolumeName"/>.
/// </summary>
public sealed record MountSettings
{
    public static MountSettings Default { get; } = new();

    /// <summary>The configuration file used, if any.</summary>
    public string? ConfigFile { get; init; }

    /// <summary>The volume's name in the configuration; null for a mount by URI.</summary>
    public string? VolumeName { get; init; }

    /// <summary>The least severe messages logged.</summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    /// <summary>The read cache of this daemon: BudgetBytes is this volume's share of read_cache.size (or cache_size=).</summary>
    public ReadCacheOptions ReadCache { get; init; } = new();

    /// <summary>The local-disk tier of the read cache (read_cache.disk_path, .disk_size); null: none.</summary>
    public DiskLineTierOptions? ReadCacheDisk { get; init; }

    /// <summary>The volume's read_cache_weight.</summary>
    public double ReadCacheWeight { get; init; } = 1;

    /// <summary>Where to serve the Prometheus endpoint; null: nowhere.</summary>
    public ListenAddress? Metrics { get; init; }

    /// <summary>Background space reclamation of the volume (gc.interval, gc.grace).</summary>
    public GcConfig Gc { get; init; } = new();

    /// <summary>The credentials file to hand to the AWS chain; null: the chain as the environment has it.</summary>
    public string? CredentialsFile { get; init; }

    /// <summary>replay_log.directory: the parent of the volume's replay log directory; null: /var/lib/proxyfs.</summary>
    public string? ReplayLogParent { get; init; }
}
