using Microsoft.Extensions.Logging;
using ProxyFs.Host.Cli;
using ProxyFs.Host.Config;

namespace ProxyFs.Integration.Tests.Host;

/// <summary>How a mount command line and the configuration file combine: which file, which volume, which settings win.</summary>
public sealed class MountResolverTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("proxyfs-test-resolver-").FullName;
    private readonly string _noDefault;

    public MountResolverTests() => _noDefault = Path.Combine(_dir, "no-default.yaml");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Config(string yaml, string name = "proxyfs.yaml")
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, yaml);
        return path;
    }

    private ResolvedMount Resolve(string? source, string? mountPoint, string? config = null, string? volume = null,
        string[]? options = null, Dictionary<string, string>? env = null, string? defaultPath = null) =>
        MountResolver.Resolve(new MountInvocation(source, mountPoint, volume, config, options ?? []), env ?? [], defaultPath ?? _noDefault);

    private const string TwoVolumes = """
        log_level: warning
        read_cache:
          size: 3GiB
        metrics:
          listen: 127.0.0.1:9400
        volumes:
          - name: data
            uri: memory://
            mount_point: /srv/data
            read_cache_weight: 2
            options: [ro, entry_timeout=5]
          - name: logs
            uri: memory://
            mount_point: /srv/logs
        """;

    [Fact]
    public void A_uri_without_a_file_uses_the_defaults()
    {
        ResolvedMount r = Resolve("memory://", "/mnt/x");
        Assert.Equal("memory://", r.Request.Uri);
        Assert.Equal("/mnt/x", r.Request.MountPoint);
        Assert.Null(r.Volume);
        Assert.Null(r.Request.Settings.ConfigFile);
        Assert.Null(r.Request.Settings.Metrics);
        Assert.Equal(1L << 30, r.Request.Settings.ReadCache.BudgetBytes);
        Assert.Equal(LogLevel.Information, r.Request.Settings.LogLevel);
    }

    [Fact]
    public void A_volume_name_takes_uri_mount_point_options_and_cache_share_from_the_file()
    {
        string config = Config(TwoVolumes);
        foreach (ResolvedMount r in new[] { Resolve("data", null, config), Resolve(null, null, config, volume: "data") })
        {
            Assert.Equal("data", r.Volume!.Name);
            Assert.Equal("/srv/data", r.Request.MountPoint);
            Assert.True(r.Request.Options.ReadOnly);
            Assert.Equal(TimeSpan.FromSeconds(5), r.Request.Options.EntryTimeout);
            Assert.Equal(LogLevel.Warning, r.Request.Settings.LogLevel);
            Assert.Equal(2L << 30, r.Request.Settings.ReadCache.BudgetBytes); // weight 2 of 3
            Assert.Equal("127.0.0.1:9400", r.Request.Settings.Metrics!.ToString());
            Assert.Equal(config, r.Request.Settings.ConfigFile);
        }
        ResolvedMount logs = Resolve("logs", null, config);
        Assert.Equal(1L << 30, logs.Request.Settings.ReadCache.BudgetBytes);
        Assert.Equal("127.0.0.1:9401", logs.Request.Settings.Metrics!.ToString());
    }

    [Fact]
    public void The_command_line_wins_over_the_volume()
    {
        string config = Config(TwoVolumes);
        ResolvedMount r = Resolve("data", "/mnt/elsewhere", config, options: ["rw,cache_size=64MiB,metrics=off,debug"]);
        Assert.Equal("/mnt/elsewhere", r.Request.MountPoint);
        Assert.False(r.Request.Options.ReadOnly);
        Assert.Equal(64L << 20, r.Request.Settings.ReadCache.BudgetBytes);
        Assert.Null(r.Request.Settings.Metrics);
        Assert.Equal(LogLevel.Debug, r.Request.Settings.LogLevel);
    }

    [Fact]
    public void The_file_is_found_by_option_variable_or_default_path()
    {
        string config = Config(TwoVolumes);
        Assert.Equal(config, Resolve("data", null, options: ["config=" + config]).Request.Settings.ConfigFile);
        Assert.Equal(config, Resolve("data", null, env: new() { ["PROXYFS_CONFIG"] = config }).Request.Settings.ConfigFile);
        Assert.Equal(config, Resolve("data", null, defaultPath: config).Request.Settings.ConfigFile);
        Assert.Null(Resolve("memory://", "/mnt/x").Request.Settings.ConfigFile);
    }

    [Fact]
    public void Environment_overrides_reach_the_mount()
    {
        string config = Config(TwoVolumes);
        ResolvedMount r = Resolve("logs", null, config, env: new() { ["PROXYFS_VOLUME_LOGS_MOUNT_POINT"] = "/srv/other", ["PROXYFS_LOG_LEVEL"] = "error" });
        Assert.Equal("/srv/other", r.Request.MountPoint);
        Assert.Equal(LogLevel.Error, r.Request.Settings.LogLevel);
    }

    [Fact]
    public void Mistakes_say_what_to_do()
    {
        string config = Config(TwoVolumes);
        Assert.Equal($"no volume 'nope' in {config} (volumes: data, logs)",
            Assert.Throws<ConfigException>(() => Resolve(null, null, config, volume: "nope")).Message);
        Assert.Contains("'nope' is not a URI (memory://, file:///path or s3://bucket/prefix) and names no volume in",
            Assert.Throws<ConfigException>(() => Resolve("nope", "/mnt/x", config)).Message, StringComparison.Ordinal);
        Assert.Contains("there is no configuration file to name a volume",
            Assert.Throws<ConfigException>(() => Resolve("nope", "/mnt/x")).Message, StringComparison.Ordinal);
        Assert.Equal("the mount point is missing: proxyfs mount memory:// MOUNTPOINT",
            Assert.Throws<MountUsageException>(() => Resolve("memory://", null)).Message);
        Assert.Contains("disagree", Assert.Throws<MountUsageException>(() => Resolve("data", null, config, options: ["config=/other.yaml"])).Message, StringComparison.Ordinal);
        Assert.Contains("metrics=0.0.0.0:9000: not a loopback address",
            Assert.Throws<ConfigException>(() => Resolve("memory://", "/mnt/x", options: ["metrics=0.0.0.0:9000"])).Message, StringComparison.Ordinal);
        Assert.Throws<MountOptionException>(() => Resolve("memory://", "/mnt/x", options: ["metrics=nowhere"]));
    }

    [Fact]
    public void A_volume_without_a_mount_point_needs_one_on_the_command_line()
    {
        string config = Config("volumes:\n  - name: bare\n    uri: memory://\n");
        Assert.Contains("volume 'bare' has no mount_point", Assert.Throws<ConfigException>(() => Resolve("bare", null, config)).Message, StringComparison.Ordinal);
        Assert.Equal("/mnt/bare", Resolve("bare", "/mnt/bare", config).Request.MountPoint);
    }

    [Fact]
    public void A_credentials_file_is_checked_before_the_daemon_starts()
    {
        string credentials = Path.Combine(_dir, "credentials");
        File.WriteAllText(credentials, "AWS_ACCESS_KEY_ID=a\nAWS_SECRET_ACCESS_KEY=b\n");
        File.SetUnixFileMode(credentials, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        string config = Config($"credentials_file: {credentials}\n");
        Assert.Contains("has mode 0640", Assert.Throws<ConfigException>(() => Resolve("memory://", "/mnt/x", config)).Message, StringComparison.Ordinal);
        File.SetUnixFileMode(credentials, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Equal(credentials, Resolve("memory://", "/mnt/x", config).Request.Settings.CredentialsFile);
    }
}
