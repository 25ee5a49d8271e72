using Microsoft.Extensions.Logging;
using ProxyFs.Host.Cli;
using ProxyFs.Host.Daemon;

namespace ProxyFs.Host.Config;

/// <summary>What `proxyfs mount` was given, before the configuration is consulted.</summary>
/// <param name="Source">A URI, or the name of a configured volume.</param>
/// <param name="MountPoint">The mount point, when given.</param>
/// <param name="Volume">--volume NAME.</param>
/// <param name="ConfigFile">--config FILE.</param>
/// <param name="OptionLists">The -o lists of the command line.</param>
public sealed record MountInvocation(string? Source, string? MountPoint, string? Volume, string? ConfigFile, IReadOnlyList<string> OptionLists);

/// <summary>A mount the command line and the configuration together describe.</summary>
/// <param name="Request">What the daemon serves.</param>
/// <param name="Invocation">The command line it came from (a detached daemon is started with the same).</param>
/// <param name="Config">The configuration.</param>
/// <param name="Volume">The configured volume, or null for a mount by URI.</param>
public sealed record ResolvedMount(MountRequest Request, MountInvocation Invocation, ProxyFsConfig Config, VolumeConfig? Volume);

/// <summary>A command line that does not say what to mount where.</summary>
public sealed class MountUsageException(string message) : Exception(message);

/// <summary>
/// Turns a mount command line into a <see cref="MountRequest"/>: finds the configuration file (--config, -o config=,
/// $PROXYFS_CONFIG, else /etc/proxyfs/proxyfs.yaml when it exists), the volume when the source is a name rather than a
/// URI, and merges settings: defaults, then the file, then PROXYFS_* variables, then the volume's options, then -o.
/// </summary>
public static class MountResolver
{
    /// <summary>Resolves <paramref name="invocation"/>. Throws <see cref="MountUsageException"/>, <see cref="MountOptionException"/> or <see cref="ConfigException"/>.</summary>
    public static ResolvedMount Resolve(MountInvocation invocation, IReadOnlyDictionary<string, string> environment) =>
        Resolve(invocation, environment, ProxyFsConfig.DefaultPath);

    /// <summary>As <see cref="Resolve(MountInvocation, IReadOnlyDictionary{string, string})"/> with another default configuration path (tests).</summary>
    public static ResolvedMount Resolve(MountInvocation invocation, IReadOnlyDictionary<string, string> environment, string defaultConfigPath)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        MountOptions commandLine = MountOptions.Parse(invocation.OptionLists);
        if (invocation.ConfigFile is not null && commandLine.ConfigFile is not null && invocation.ConfigFile != commandLine.ConfigFile)
        {
            throw new MountUsageException($"--config {invocation.ConfigFile} and -o config={commandLine.ConfigFile} disagree; give one");
        }
        string? configPath = ConfigPath(invocation.ConfigFile ?? commandLine.ConfigFile, environment, defaultConfigPath);
        ProxyFsConfig config = ConfigLoader.Load(configPath, environment);

        string? volumeName = invocation.Volume;
        string? mountPointArgument;
        if (volumeName is not null)
        {
            if (invocation.Source is not null && invocation.MountPoint is not null)
            {
                throw new MountUsageException($"with --volume {volumeName}, give at most the mount point (not '{invocation.Source}' and '{invocation.MountPoint}')");
            }
            mountPointArgument = invocation.MountPoint ?? invocation.Source;
        }
        else if (invocation.Source is null)
        {
            throw new MountUsageException("what to mount is missing: give a URI and a mount point, or --volume NAME (see proxyfs mount --help)");
        }
        else
        {
            if (!invocation.Source.Contains("://", StringComparison.Ordinal))
            {
                volumeName = invocation.Source;
            }
            mountPointArgument = invocation.MountPoint;
        }

        VolumeConfig? volume = null;
        if (volumeName is not null)
        {
            volume = config.FindVolume(volumeName) ?? throw NoSuchVolume(volumeName, config, invocation.Volume is not null);
        }
        string uri = volume?.Uri ?? invocation.Source!;
        string mountPoint = mountPointArgument ?? volume?.MountPoint ?? throw (volume is null
            ? new MountUsageException($"the mount point is missing: proxyfs mount {uri} MOUNTPOINT")
            : new ConfigException($"{volume.Where}: volume '{volume.Name}' has no mount_point; add one or give the mount point on the command line"));

        MountOptions options;
        try
        {
            options = MountOptions.Parse([.. volume?.Options ?? [], .. invocation.OptionLists]);
        }
        catch (MountOptionException e) when (volume is not null)
        {
            throw new ConfigException($"{volume.Where}: volume '{volume.Name}': {e.Message}");
        }

        ListenAddress? metrics = options.MetricsOff ? null
            : options.Metrics ?? (volume is null || volume.MetricsOff ? null : volume.MetricsListen ?? config.Metrics.Listen?.WithPortOffset(volume.Index));
        if (metrics is { IsLoopback: false } && !config.Metrics.AllowRemote)
        {
            throw new ConfigException($"metrics={metrics}: not a loopback address; the endpoint is unauthenticated, so set metrics.allow_remote: true in the configuration to expose it");
        }

        double weight = volume?.ReadCacheWeight ?? 1;
        double weights = config.Volumes.Sum(v => v.ReadCacheWeight) + (volume is null ? 1 : 0);
        long share = options.CacheSize ?? (long)(config.ReadCache.Size * (weight / weights));

        string? credentials = volume?.CredentialsFile ?? config.CredentialsFile;
        if (credentials is not null)
        {
            // Checked here too, so that `proxyfs mount` fails at once with the reason rather than through its daemon.
            CredentialsFile.Read(credentials);
        }

        var settings = new MountSettings
        {
            ConfigFile = config.SourceFile,
            VolumeName = volume?.Name,
            LogLevel = options.Debug ? LogLevel.Debug : config.LogLevel,
            ReadCache = config.ReadCache.Options(share),
            ReadCacheWeight = weight,
            ReadCacheDisk = config.ReadCache.DiskTier,
            Metrics = metrics,
            CredentialsFile = credentials,
            Gc = config.Gc,
            ReplayLogParent = config.ReplayLogDirectory,
        };
        var request = new MountRequest(uri, mountPoint, options) { Settings = settings };
        return new ResolvedMount(request, invocation, config, volume);
    }

    /// <summary>
    /// `proxyfs mount --all`: every volume of the configuration at its mount_point, each resolved as `proxyfs mount
    /// --volume NAME` would be with the same -o lists, and the read cache they share: read_cache.size (or -o
    /// cache_size=, which then sets the whole budget), split by the volumes' weights. One process has one set of AWS
    /// credentials: volumes naming different credentials files are refused.
    /// </summary>
    public static (IReadOnlyList<ResolvedMount> Mounts, ProxyFs.Core.Cache.ReadCacheOptions Cache) ResolveAll(
        string? configFile, IReadOnlyList<string> optionLists, IReadOnlyDictionary<string, string> environment, string? defaultConfigPath = null)
    {
        ArgumentNullException.ThrowIfNull(optionLists);
        defaultConfigPath ??= ProxyFsConfig.DefaultPath;
        MountOptions commandLine = MountOptions.Parse(optionLists);
        if (configFile is not null && commandLine.ConfigFile is not null && configFile != commandLine.ConfigFile)
        {
            throw new MountUsageException($"--config {configFile} and -o config={commandLine.ConfigFile} disagree; give one");
        }
        string? configPath = ConfigPath(configFile ?? commandLine.ConfigFile, environment, defaultConfigPath);
        ProxyFsConfig config = ConfigLoader.Load(configPath, environment);
        if (config.Volumes.Count == 0)
        {
            throw new ConfigException(config.SourceFile is null
                ? $"mount --all: there is no configuration file ({defaultConfigPath} does not exist; name one with --config)"
                : $"mount --all: {config.SourceFile} lists no volumes");
        }
        var mounts = config.Volumes
            .Select(v => Resolve(new MountInvocation(null, null, v.Name, configPath, optionLists), environment, defaultConfigPath))
            .ToList();
        var credentials = mounts.Select(m => m.Request.Settings.CredentialsFile).Distinct().ToList();
        if (credentials.Count > 1)
        {
            throw new ConfigException($"mount --all: one daemon has one set of credentials, but the volumes name {string.Join(" and ", credentials.Select(c => c ?? "none"))}; serve those volumes with proxyfs mount --volume NAME");
        }
        var mountPoints = mounts.GroupBy(m => Path.GetFullPath(m.Request.MountPoint)).FirstOrDefault(g => g.Count() > 1);
        if (mountPoints is not null)
        {
            throw new ConfigException($"mount --all: volumes {string.Join(" and ", mountPoints.Select(m => m.Volume!.Name))} have the same mount_point {mountPoints.Key}");
        }
        var cache = config.ReadCache.Options(commandLine.CacheSize ?? config.ReadCache.Size);
        return (mounts, cache);
    }

    private static string? ConfigPath(string? given, IReadOnlyDictionary<string, string> environment, string defaultConfigPath)
    {
        string? configPath = given ?? NonEmpty(environment.GetValueOrDefault(ProxyFsConfig.PathVariable));
        if (configPath is null && File.Exists(defaultConfigPath))
        {
            configPath = defaultConfigPath;
        }
        return configPath is null ? null : Path.GetFullPath(configPath);
    }

    private static ConfigException NoSuchVolume(string name, ProxyFsConfig config, bool explicitVolume)
    {
        string list = config.Volumes.Count == 0 ? "it lists no volumes" : "volumes: " + string.Join(", ", config.Volumes.Select(v => v.Name));
        if (config.SourceFile is null)
        {
            return new ConfigException(explicitVolume
                ? $"no volume '{name}': there is no configuration file ({ProxyFsConfig.DefaultPath} does not exist; name one with --config)"
                : $"'{name}' is not a URI (memory://, file:///path or s3://bucket/prefix), and there is no configuration file to name a volume ({ProxyFsConfig.DefaultPath} does not exist)");
        }
        return new ConfigException(explicitVolume
            ? $"no volume '{name}' in {config.SourceFile} ({list})"
            : $"'{name}' is not a URI (memory://, file:///path or s3://bucket/prefix) and names no volume in {config.SourceFile} ({list})");
    }

    private static string? NonEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
