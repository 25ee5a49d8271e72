using System.Globalization;

namespace ProxyFs.Host.Cli;

/// <summary>A bad mount option: names the option and what is wrong with it.</summary>
public sealed class MountOptionException(string message) : Exception(message);

/// <summary>
/// The options of `proxyfs mount -o a,b=c,…` (and of fstab lines). Every option is documented in
/// docs/CONFIGURATION.md; an unknown one is an error rather than silently ignored.
/// </summary>
public sealed record MountOptions
{
    public bool AllowOther { get; init; }
    public bool DefaultPermissions { get; init; } = true;
    public bool ReadOnly { get; init; }
    public bool WritebackCache { get; init; }
    public bool NoSuid { get; init; }
    public bool NoDev { get; init; }
    public bool NoExec { get; init; }
    public bool NoAtime { get; init; }
    public bool Debug { get; init; }
    public int? ReaderThreads { get; init; }
    public uint? ReadAheadKb { get; init; }

    /// <summary>reader_handoff_ms=N: how long the listening FUSE reader may be held before a parked one listens (0: all listen).</summary>
    public int? ReaderHandoffMs { get; init; }
    public TimeSpan EntryTimeout { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan AttrTimeout { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan NegativeTimeout { get; init; } = TimeSpan.FromSeconds(1);
    public string? FsName { get; init; }
    public string? LogFile { get; init; }

    /// <summary>config=PATH: the configuration file (daemon-wide settings, and the volume when the source is its name).</summary>
    public string? ConfigFile { get; init; }

    /// <summary>cache_size=SIZE: this mount's read cache budget, instead of its share of read_cache.size.</summary>
    public long? CacheSize { get; init; }

    /// <summary>metrics=ADDRESS:PORT: serve the Prometheus endpoint there; metrics=off: none (<see cref="MetricsOff"/>).</summary>
    public Config.ListenAddress? Metrics { get; init; }

    /// <summary>metrics=off.</summary>
    public bool MetricsOff { get; init; }

    /// <summary>replay_log=PATH: this volume's replay log directory (instead of replay_log.directory/&lt;volume id&gt;).</summary>
    public string? ReplayLog { get; init; }

    /// <summary>checkpoint_interval=S: seconds between this volume's periodic checkpoints (default 10).</summary>
    public TimeSpan? CheckpointInterval { get; init; }

    /// <summary>max_flush_size=SIZE: a data segment is sealed and uploaded at this size (default and at most the volume's segment size).</summary>
    public long? MaxFlushSize { get; init; }

    /// <summary>max_flush_time=S: a data segment is sealed this long after its first byte (default 1).</summary>
    public TimeSpan? MaxFlushTime { get; init; }

    /// <summary>keep_checkpoints=N: earlier checkpoint generations kept mountable (default 8).</summary>
    public int? KeepCheckpoints { get; init; }

    /// <summary>metadata_cache=SIZE: memory for the metadata tree's pages (default 64 MiB).</summary>
    public long? MetadataCache { get; init; }

    /// <summary>accept_log_loss: mount although the replay log of an uncleanly unmounted volume is missing or damaged.</summary>
    public bool AcceptLogLoss { get; init; }

    /// <summary>The options as given, to hand to a daemon that re-parses them.</summary>
    public IReadOnlyList<string> Raw { get; init; } = [];

    // fstab and mount(8) options that concern the mount helper or systemd, not the filesystem.
    private static readonly HashSet<string> Ignored = new(StringComparer.Ordinal)
    {
        "defaults", "auto", "noauto", "user", "nouser", "users", "owner", "group", "_netdev", "nofail",
        "suid", "dev", "exec", "atime", "relatime", "strictatime", "async", "comment",
    };

    /// <summary>Parses comma-separated option lists (several -o's allowed). Throws <see cref="MountOptionException"/>.</summary>
    public static MountOptions Parse(IEnumerable<string> lists)
    {
        var o = new MountOptions();
        var raw = new List<string>();
        foreach (string list in lists)
        {
            foreach (string item in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                raw.Add(item);
                int eq = item.IndexOf('=', StringComparison.Ordinal);
                string key = eq < 0 ? item : item[..eq];
                string? value = eq < 0 ? null : item[(eq + 1)..];
                o = Apply(o, key, value, item);
            }
        }
        return o with { Raw = raw };
    }

    /// <summary>True when <paramref name="item"/> (key or key=value) is an option proxyfs knows or deliberately ignores.</summary>
    public static bool IsKnown(string item)
    {
        try
        {
            Parse([item]);
            return true;
        }
        catch (MountOptionException)
        {
            return false;
        }
    }

    private static MountOptions Apply(MountOptions o, string key, string? value, string item)
    {
        if (Ignored.Contains(key) || key.StartsWith("x-", StringComparison.Ordinal) || key.StartsWith("comment=", StringComparison.Ordinal))
        {
            return o;
        }
        return key switch
        {
            "allow_other" => Flag(o with { AllowOther = true }, value, item),
            "default_permissions" => Flag(o with { DefaultPermissions = true }, value, item),
            "no_default_permissions" => Flag(o with { DefaultPermissions = false }, value, item),
            "ro" => Flag(o with { ReadOnly = true }, value, item),
            "rw" => Flag(o with { ReadOnly = false }, value, item),
            "writeback_cache" => Flag(o with { WritebackCache = true }, value, item),
            "nosuid" => Flag(o with { NoSuid = true }, value, item),
            "nodev" => Flag(o with { NoDev = true }, value, item),
            "noexec" => Flag(o with { NoExec = true }, value, item),
            "noatime" => Flag(o with { NoAtime = true }, value, item),
            "debug" => Flag(o with { Debug = true }, value, item),
            "readers" => o with { ReaderThreads = (int)Number(value, item, 1, 64) },
            "reader_handoff_ms" => o with { ReaderHandoffMs = (int)Number(value, item, 0, 1000) },
            "read_ahead_kb" => o with { ReadAheadKb = (uint)Number(value, item, 0, 1 << 20) },
            "entry_timeout" => o with { EntryTimeout = Seconds(value, item) },
            "attr_timeout" => o with { AttrTimeout = Seconds(value, item) },
            "negative_timeout" => o with { NegativeTimeout = Seconds(value, item) },
            "fsname" => o with { FsName = Text(value, item) },
            "log" => o with { LogFile = Text(value, item) },
            "config" => o with { ConfigFile = Text(value, item) },
            "cache_size" => o with { CacheSize = Size(value, item) },
            "metrics" => ParseMetrics(o, value, item),
            "replay_log" => o with { ReplayLog = AbsolutePath(value, item) },
            "accept_log_loss" => Flag(o with { AcceptLogLoss = true }, value, item),
            "checkpoint_interval" => o with { CheckpointInterval = PositiveSeconds(value, item) },
            "max_flush_size" => o with { MaxFlushSize = SizeBetween(value, item, 64L << 10, 1L << 30) },
            "max_flush_time" => o with { MaxFlushTime = PositiveSeconds(value, item) },
            "keep_checkpoints" => o with { KeepCheckpoints = (int)Number(value, item, 1, 10_000) },
            "metadata_cache" => o with { MetadataCache = SizeBetween(value, item, 1L << 20, 1L << 40) },
            _ => throw new MountOptionException($"unknown mount option '{item}' (see docs/CONFIGURATION.md)"),
        };
    }

    private static MountOptions Flag(MountOptions o, string? value, string item) =>
        value is null ? o : throw new MountOptionException($"mount option '{item}' takes no value");

    private static long Number(string? value, string item, long min, long max)
    {
        if (value is null || !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n < min || n > max)
        {
            throw new MountOptionException($"mount option '{item}' needs a whole number from {min} to {max}");
        }
        return n;
    }

    private static TimeSpan Seconds(string? value, string item)
    {
        if (value is null || !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) || s < 0 || s > 86400 || double.IsNaN(s))
        {
            throw new MountOptionException($"mount option '{item}' needs a number of seconds from 0 to 86400");
        }
        return TimeSpan.FromSeconds(s);
    }

    private static TimeSpan PositiveSeconds(string? value, string item)
    {
        TimeSpan s = Seconds(value, item);
        return s >= TimeSpan.FromMilliseconds(50) ? s : throw new MountOptionException($"mount option '{item}' needs a number of seconds from 0.05 to 86400");
    }

    private static long Size(string? value, string item) =>
        Config.ByteSize.TryParse(value, out long n) ? n : throw new MountOptionException($"mount option '{item}' needs a size such as 512MiB or 2GiB");

    private static long SizeBetween(string? value, string item, long min, long max)
    {
        long n = Size(value, item);
        return n >= min && n <= max ? n
            : throw new MountOptionException($"mount option '{item}' needs a size from {Config.ByteSize.Format(min)} to {Config.ByteSize.Format(max)}");
    }

    private static MountOptions ParseMetrics(MountOptions o, string? value, string item)
    {
        string v = Text(value, item);
        if (v.Equals("off", StringComparison.OrdinalIgnoreCase))
        {
            return o with { Metrics = null, MetricsOff = true };
        }
        if (!Config.ListenAddress.TryParse(v, out Config.ListenAddress? address, out string error))
        {
            throw new MountOptionException($"mount option '{item}': {error}");
        }
        return o with { Metrics = address, MetricsOff = false };
    }

    private static string AbsolutePath(string? value, string item) =>
        Path.IsPathRooted(Text(value, item)) ? value! : throw new MountOptionException($"mount option '{item}' needs an absolute path");

    private static string Text(string? value, string item) =>
        string.IsNullOrEmpty(value) ? throw new MountOptionException($"mount option '{item}' needs a value") : value;
}
