using System.Globalization;
using Microsoft.Extensions.Logging;
using ProxyFs.Host.Cli;

namespace ProxyFs.Host.Config;

/// <summary>
/// Every key of the configuration file: its path, default, environment variable and how its value is parsed. One
/// table serves the file, the environment overrides, and the test that checks each key is documented.
/// </summary>
public static class ConfigSchema
{
    /// <summary>The prefix of every environment override.</summary>
    public const string EnvironmentPrefix = "PROXYFS_";

    /// <summary>The prefix of a volume's environment overrides: PROXYFS_VOLUME_&lt;NAME&gt;_&lt;KEY&gt;.</summary>
    public const string VolumeEnvironmentPrefix = "PROXYFS_VOLUME_";

    /// <summary>Top-level sections that are mappings.</summary>
    public static IReadOnlyList<string> Sections { get; } = ["read_cache", "metrics", "gc", "replay_log"];

    /// <summary>The daemon-wide keys (section.key for those in a section).</summary>
    public static IReadOnlyList<ConfigKey<ConfigBuilder>> Global { get; } =
    [
        new("log_level", "info", "trace, debug, info, warning or error",
            (b, v) => b.LogLevel = ParseLogLevel(v)),
        new("read_cache.size", "1GiB", "a size such as 512MiB or 2GiB",
            (b, v) => b.ReadCacheSize = ParseSize(v, 0)),
        new("read_cache.line_size", "1MiB", "a power of two from 4KiB to 64MiB",
            (b, v) => b.ReadCacheLineSize = ParseLineSize(v)),
        new("read_cache.huge_pages", "auto", "auto or off",
            (b, v) => b.ReadCacheHugePages = ParseHugePages(v)),
        new("read_cache.disk_path", "(off)", "an absolute path, or off",
            (b, v) => b.ReadCacheDiskPath = v == "off" ? null : ParsePath(v)),
        new("read_cache.disk_size", "10GiB", "a size such as 20GiB",
            (b, v) => b.ReadCacheDiskSize = ParseSize(v, 0)),
        new("metrics.listen", "(off)", "an address:port such as 127.0.0.1:9477, or off",
            (b, v) => b.MetricsListen = ParseListen(v)),
        new("metrics.allow_remote", "false", "true or false",
            (b, v) => b.MetricsAllowRemote = ParseBool(v)),
        new("credentials_file", "(none: the AWS chain)", "an absolute path",
            (b, v) => b.CredentialsFile = ParsePath(v)),
        new("gc.interval", "5m", "a duration such as 30s, 5m or 1h, or off",
            (b, v) => b.GcInterval = ParseDuration(v, allowOff: true)),
        new("gc.grace", "10m", "a duration such as 0s, 10m or 1h",
            (b, v) => b.GcGrace = ParseDuration(v, allowOff: false)),
        new("gc.compact_below", "50%", "a percentage from 0% (never compact) to 100%",
            (b, v) => b.GcCompactBelow = ParsePercent(v)),
        new("replay_log.directory", "/var/lib/proxyfs", "an absolute path on a local disk",
            (b, v) => b.ReplayLogDirectory = ParsePath(v)),
    ];

    /// <summary>The keys of one entry of volumes.</summary>
    public static IReadOnlyList<ConfigKey<VolumeBuilder>> Volume { get; } =
    [
        new("name", "(required)", "letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64",
            (b, v) => b.Name = ParseName(v)),
        new("uri", "(required)", "memory://, file:///path or s3://bucket/prefix",
            (b, v) => b.Uri = ParseUri(v)),
        new("mount_point", "(none)", "an absolute path",
            (b, v) => b.MountPoint = ParsePath(v)),
        new("read_cache_weight", "1", "a number greater than 0",
            (b, v) => b.ReadCacheWeight = ParseWeight(v)),
        new("options", "(none)", "mount options, as for -o: a list or a comma-separated string",
            (b, v) => b.Options = ParseOptions(v)),
        new("credentials_file", "(the top-level credentials_file)", "an absolute path",
            (b, v) => b.CredentialsFile = ParsePath(v)),
        new("metrics_listen", "(metrics.listen, port + the volume's index)", "an address:port, or off",
            (b, v) =>
            {
                b.MetricsListen = ParseListen(v);
                b.MetricsOff = b.MetricsListen is null;
            }),
    ];

    /// <summary>The environment variable that overrides a daemon-wide key: PROXYFS_READ_CACHE_SIZE for read_cache.size.</summary>
    public static string EnvironmentName(string path) => EnvironmentPrefix + path.Replace('.', '_').ToUpperInvariant();

    /// <summary>The environment variable that overrides a key of the volume <paramref name="volume"/>.</summary>
    public static string VolumeEnvironmentName(string volume, string key) =>
        VolumeEnvironmentPrefix + EnvironmentWord(volume) + "_" + key.ToUpperInvariant();

    /// <summary>A volume name as it appears in variable names: upper case, '-' and '.' as '_'.</summary>
    public static string EnvironmentWord(string name) => name.ToUpperInvariant().Replace('-', '_').Replace('.', '_');

    /// <summary>Key names that look like secrets: never accepted in the file.</summary>
    public static bool LooksLikeSecret(string key)
    {
        string k = key.ToLowerInvariant();
        return k.Contains("secret", StringComparison.Ordinal) || k.Contains("password", StringComparison.Ordinal)
            || k.Contains("access_key", StringComparison.Ordinal) || k.Contains("session_token", StringComparison.Ordinal)
            || k is "token" or "key_id" or "aws_access_key_id";
    }

    private static LogLevel ParseLogLevel(string v) => v.Trim().ToLowerInvariant() switch
    {
        "trace" => LogLevel.Trace,
        "debug" => LogLevel.Debug,
        "info" or "information" => LogLevel.Information,
        "warning" or "warn" => LogLevel.Warning,
        "error" => LogLevel.Error,
        _ => throw new FormatException($"'{v}' is not a log level (trace, debug, info, warning, error)"),
    };

    internal static long ParseSize(string v, long min) =>
        ByteSize.TryParse(v, out long n) && n >= min ? n : throw new FormatException($"'{v}' is not a size (e.g. 512MiB, 2GiB)");

    private static int ParseLineSize(string v)
    {
        long n = ParseSize(v, 1);
        return n is >= 4096 and <= 64L << 20 && long.IsPow2(n)
            ? (int)n
            : throw new FormatException($"'{v}' is not a power of two from 4KiB to 64MiB");
    }

    private static ListenAddress? ParseListen(string v)
    {
        string t = v.Trim();
        if (t.Length == 0 || t.Equals("off", StringComparison.OrdinalIgnoreCase) || t.Equals("false", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        return ListenAddress.TryParse(t, out ListenAddress? a, out string error) ? a : throw new FormatException(error);
    }

    /// <summary>A duration: a number with s, m, h or d (0 alone is allowed); "off" is TimeSpan.Zero when <paramref name="allowOff"/>.</summary>
    internal static TimeSpan ParseDuration(string v, bool allowOff)
    {
        string t = v.Trim().ToLowerInvariant();
        if (allowOff && t is "off" or "false" or "no")
        {
            return TimeSpan.Zero;
        }
        if (t == "0")
        {
            return TimeSpan.Zero;
        }
        double unit = t.Length == 0 ? 0 : t[^1] switch
        {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            _ => 0,
        };
        return unit > 0 && double.TryParse(t[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out double n) && n >= 0 && n * unit < 365 * 86400
            ? TimeSpan.FromSeconds(n * unit)
            : throw new FormatException($"'{v}' is not a duration (e.g. 30s, 5m, 1h{(allowOff ? ", or off" : "")})");
    }

    /// <summary>A percentage ("50%" or "50") as a share from 0 to 1.</summary>
    internal static double ParsePercent(string v)
    {
        string t = v.Trim().TrimEnd('%').Trim();
        return double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double n) && n is >= 0 and <= 100
            ? n / 100
            : throw new FormatException($"'{v}' is not a percentage from 0% to 100%");
    }

    internal static ProxyFs.Core.Cache.HugePagePolicy ParseHugePages(string v) => v.Trim().ToLowerInvariant() switch
    {
        "auto" => ProxyFs.Core.Cache.HugePagePolicy.Auto,
        "off" => ProxyFs.Core.Cache.HugePagePolicy.Never,
        _ => throw new FormatException($"'{v}' is not auto or off"),
    };

    internal static bool ParseBool(string v) => v.Trim().ToLowerInvariant() switch
    {
        "true" or "yes" or "on" or "1" => true,
        "false" or "no" or "off" or "0" => false,
        _ => throw new FormatException($"'{v}' is not true or false"),
    };

    private static string ParsePath(string v)
    {
        string t = v.Trim();
        return t.StartsWith('/') ? t : throw new FormatException($"'{v}' is not an absolute path");
    }

    private static string ParseName(string v)
    {
        string t = v.Trim();
        bool ok = t.Length is > 0 and <= 64 && char.IsAsciiLetterOrDigit(t[0])
            && t.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
        return ok ? t : throw new FormatException($"'{v}' is not a volume name (letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64)");
    }

    private static string ParseUri(string v)
    {
        string t = v.Trim();
        try
        {
            ProxyFs.ObjectStore.StoreUri.Parse(t);
        }
        catch (ArgumentException e)
        {
            throw new FormatException(ArgumentMessage(e));
        }
        return t;
    }

    /// <summary>An <see cref="ArgumentException"/>'s message without the " (Parameter 'x')" the runtime appends.</summary>
    internal static string ArgumentMessage(ArgumentException e) =>
        e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal);

    private static double ParseWeight(string v) =>
        double.TryParse(v, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double w) && w > 0 && w <= 1e6
            ? w
            : throw new FormatException($"'{v}' is not a number greater than 0");

    private static IReadOnlyList<string> ParseOptions(string v)
    {
        string[] items = v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        try
        {
            MountOptions parsed = MountOptions.Parse(items);
            if (parsed.ConfigFile is not null)
            {
                throw new FormatException("'config=' makes no sense inside the configuration file");
            }
        }
        catch (MountOptionException e)
        {
            throw new FormatException(e.Message);
        }
        return items;
    }
}

/// <summary>One key of the schema: its path, default (as documented), what it accepts, and how it is applied.</summary>
public sealed record ConfigKey<TBuilder>(string Path, string Default, string Accepts, Action<TBuilder, string> Apply)
{
    /// <summary>The last part of the path: the key as written in its mapping.</summary>
    public string Name => Path.Contains('.', StringComparison.Ordinal) ? Path[(Path.LastIndexOf('.') + 1)..] : Path;
}

/// <summary>The daemon-wide settings while they are being read.</summary>
public sealed class ConfigBuilder
{
    public LogLevel LogLevel { get; set; } = LogLevel.Information;
    public long ReadCacheSize { get; set; } = 1L << 30;
    public int ReadCacheLineSize { get; set; } = 1 << 20;
    public ProxyFs.Core.Cache.HugePagePolicy ReadCacheHugePages { get; set; }
    public string? ReadCacheDiskPath { get; set; }
    public long ReadCacheDiskSize { get; set; } = 10L << 30;
    public ListenAddress? MetricsListen { get; set; }
    public string MetricsListenWhere { get; set; } = "";
    public bool MetricsAllowRemote { get; set; }
    public string? CredentialsFile { get; set; }
    public TimeSpan GcInterval { get; set; } = GcConfig.DefaultInterval;
    public TimeSpan GcGrace { get; set; } = GcConfig.DefaultGrace;
    public double GcCompactBelow { get; set; } = GcConfig.DefaultCompactBelow;
    public string? ReplayLogDirectory { get; set; }
    public List<VolumeBuilder> Volumes { get; } = [];
}

/// <summary>One volume while it is being read.</summary>
public sealed class VolumeBuilder
{
    public string? Name { get; set; }
    public string? Uri { get; set; }
    public string? MountPoint { get; set; }
    public double ReadCacheWeight { get; set; } = 1;
    public IReadOnlyList<string> Options { get; set; } = [];
    public string? CredentialsFile { get; set; }
    public ListenAddress? MetricsListen { get; set; }
    public bool MetricsOff { get; set; }
    public string Where { get; set; } = "";

    /// <summary>Where each key was set (file:line:column or a variable), for cross-checks.</summary>
    public Dictionary<string, string> KeyWhere { get; } = new(StringComparer.Ordinal);
}
