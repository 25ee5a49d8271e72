using Microsoft.Extensions.Logging;
using ProxyFs.Host.Config;

namespace ProxyFs.Integration.Tests.Host;

/// <summary>The configuration file: defaults, every key, validation messages that name the key and value, overrides.</summary>
public sealed class ConfigLoaderTests
{
    private static readonly Dictionary<string, string> NoEnvironment = [];

    private static ProxyFsConfig Parse(string yaml, Dictionary<string, string>? environment = null) =>
        ConfigLoader.Parse(yaml, "/etc/proxyfs/proxyfs.yaml", environment ?? NoEnvironment);

    private static string Error(string yaml, Dictionary<string, string>? environment = null) =>
        Assert.Throws<ConfigException>(() => Parse(yaml, environment)).Message;

    [Fact]
    public void No_file_and_an_empty_file_give_the_documented_defaults()
    {
        foreach (ProxyFsConfig c in new[] { ConfigLoader.Parse(null, null, NoEnvironment), Parse(""), Parse("# only a comment\n") })
        {
            Assert.Equal(LogLevel.Information, c.LogLevel);
            Assert.Equal(1L << 30, c.ReadCache.Size);
            Assert.Equal(1 << 20, c.ReadCache.LineSize);
            Assert.Equal(ProxyFs.Core.Cache.HugePagePolicy.Auto, c.ReadCache.HugePages);
            Assert.Null(c.Metrics.Listen);
            Assert.False(c.Metrics.AllowRemote);
            Assert.Null(c.CredentialsFile);
            Assert.Empty(c.Volumes);
        }
    }

    [Fact]
    public void Every_key_is_read()
    {
        ProxyFsConfig c = Parse("""
            log_level: debug
            read_cache:
              size: 2GiB
              line_size: 4MiB
              huge_pages: off
            metrics:
              listen: 127.0.0.1:9477
              allow_remote: false
            credentials_file: /etc/proxyfs/credentials
            volumes:
              - name: data
                uri: memory://
                mount_point: /srv/data
                read_cache_weight: 3
                options: [allow_other, ro]
                credentials_file: /etc/proxyfs/data.credentials
                metrics_listen: 127.0.0.1:9500
              - name: scratch
                uri: memory://
                options: noatime,entry_timeout=2
            """);
        Assert.Equal(LogLevel.Debug, c.LogLevel);
        Assert.Equal(2L << 30, c.ReadCache.Size);
        Assert.Equal(4 << 20, c.ReadCache.LineSize);
        Assert.Equal(ProxyFs.Core.Cache.HugePagePolicy.Never, c.ReadCache.HugePages);
        Assert.Equal(ProxyFs.Core.Cache.HugePagePolicy.Never, c.ReadCache.Options(1 << 30).HugePages);
        Assert.Equal("127.0.0.1:9477", c.Metrics.Listen!.ToString());
        Assert.Equal("/etc/proxyfs/credentials", c.CredentialsFile);
        Assert.Equal(2, c.Volumes.Count);
        VolumeConfig data = c.FindVolume("data")!;
        Assert.Equal("/srv/data", data.MountPoint);
        Assert.Equal(3, data.ReadCacheWeight);
        Assert.Equal(["allow_other", "ro"], data.Options);
        Assert.Equal("/etc/proxyfs/data.credentials", data.CredentialsFile);
        Assert.Equal("127.0.0.1:9500", data.MetricsListen!.ToString());
        Assert.Equal(["noatime", "entry_timeout=2"], c.FindVolume("scratch")!.Options);
        Assert.Equal(1, c.FindVolume("scratch")!.Index);
    }

    [Theory]
    [InlineData("log_levle: debug\n", "/etc/proxyfs/proxyfs.yaml:1:1: unknown key 'log_levle' (did you mean 'log_level'?)")]
    [InlineData("read_cache:\n  sise: 1GiB\n", "/etc/proxyfs/proxyfs.yaml:2:3: unknown key 'read_cache.sise' (did you mean 'read_cache.size'?)")]
    [InlineData("metrics:\n  listn: 127.0.0.1:1\n", "unknown key 'metrics.listn' (did you mean 'metrics.listen'?)")]
    [InlineData("volumes:\n  - name: a\n    uri: memory://\n    mountpoint: /x\n", "/etc/proxyfs/proxyfs.yaml:4:5: unknown key 'volumes[0].mountpoint' (did you mean 'volumes[0].mount_point'?)")]
    [InlineData("colour: blue\n", "unknown key 'colour'; expected one of: log_level, credentials_file, read_cache, metrics, gc, replay_log, volumes")]
    public void An_unknown_key_is_an_error_that_names_it_and_suggests_the_nearest(string yaml, string expected) =>
        Assert.Contains(expected, Error(yaml), StringComparison.Ordinal);

    [Theory]
    [InlineData("log_level: loud\n", "/etc/proxyfs/proxyfs.yaml:1:12: log_level: 'loud' is not a log level")]
    [InlineData("read_cache:\n  size: lots\n", "/etc/proxyfs/proxyfs.yaml:2:9: read_cache.size: 'lots' is not a size")]
    [InlineData("read_cache:\n  line_size: 3000\n", "read_cache.line_size: '3000' is not a power of two from 4KiB to 64MiB")]
    [InlineData("read_cache:\n  huge_pages: always\n", "read_cache.huge_pages: 'always' is not auto or off")]
    [InlineData("metrics:\n  listen: 127.0.0.1\n", "metrics.listen: '127.0.0.1' is not an address:port")]
    [InlineData("metrics:\n  listen: example.com:9477\n", "the host must be an IP address or localhost")]
    [InlineData("metrics:\n  allow_remote: maybe\n", "metrics.allow_remote: 'maybe' is not true or false")]
    [InlineData("credentials_file: relative/path\n", "credentials_file: 'relative/path' is not an absolute path")]
    [InlineData("volumes:\n  - name: a\n    uri: ftp://x\n", "volumes[0].uri:")]
    [InlineData("volumes:\n  - name: -bad\n    uri: memory://\n", "volumes[0].name: '-bad' is not a volume name")]
    [InlineData("volumes:\n  - name: a\n    uri: memory://\n    read_cache_weight: 0\n", "volumes[0].read_cache_weight: '0' is not a number greater than 0")]
    [InlineData("volumes:\n  - name: a\n    uri: memory://\n    options: ro,frobnicate\n", "volumes[0].options: unknown mount option 'frobnicate'")]
    [InlineData("volumes:\n  - name: a\n    uri: memory://\n    options: config=/x\n", "'config=' makes no sense inside the configuration file")]
    public void A_bad_value_is_an_error_that_names_the_place_the_key_and_the_value(string yaml, string expected) =>
        Assert.Contains(expected, Error(yaml), StringComparison.Ordinal);

    [Theory]
    [InlineData("volumes:\n  - uri: memory://\n", "volumes[0]: name is missing")]
    [InlineData("volumes:\n  - name: a\n", "volumes[0] (a): uri is missing")]
    [InlineData("volumes:\n  - name: a\n    uri: memory://\n  - name: a\n    uri: memory://\n", "'a' is already the name of the volume at /etc/proxyfs/proxyfs.yaml:2:")]
    [InlineData("volumes:\n  - name: a-b\n    uri: memory://\n  - name: a.b\n    uri: memory://\n", "have the same PROXYFS_VOLUME_A_B_* variables")]
    [InlineData("volumes:\n  - name: a\n    uri: memory://\n    mount_point: /m\n  - name: b\n    uri: memory://\n    mount_point: /m/\n", "/m/ is already the mount point of volume 'a'")]
    [InlineData("log_level: info\nlog_level: debug\n", "/etc/proxyfs/proxyfs.yaml:2:1: log_level is given twice")]
    [InlineData("volumes: memory://\n", "volumes: expected a list of volumes")]
    [InlineData("read_cache: 1GiB\n", "read_cache: expected a mapping of keys (size, line_size, huge_pages, disk_path, disk_size)")]
    [InlineData("log_level: [a, b]\n", "log_level: expected a single value, not a list")]
    [InlineData("- a\n- b\n", "the configuration must be a mapping of keys")]
    [InlineData("log_level: info\n---\nlog_level: debug\n", "only one YAML document is allowed")]
    [InlineData("log_level: 'unterminated\n", "/etc/proxyfs/proxyfs.yaml:1:")]
    public void A_structural_mistake_is_one_line_that_says_where(string yaml, string expected)
    {
        string message = Error(yaml);
        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', message);
    }

    [Theory]
    [InlineData("aws_secret_access_key: abc\n")]
    [InlineData("secret_key: abc\n")]
    [InlineData("volumes:\n  - name: a\n    uri: memory://\n    password: hunter2\n")]
    public void Secrets_are_refused_in_the_file_without_echoing_them(string yaml)
    {
        string message = Error(yaml);
        Assert.Contains("credentials never go in the configuration file", message, StringComparison.Ordinal);
        Assert.DoesNotContain("abc", message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Metrics_on_a_non_loopback_address_need_allow_remote()
    {
        string message = Error("metrics:\n  listen: 0.0.0.0:9477\n");
        Assert.Contains("metrics.listen: 0.0.0.0:9477 is not a loopback address", message, StringComparison.Ordinal);
        Assert.Contains("metrics.allow_remote: true", message, StringComparison.Ordinal);
        Assert.True(Parse("metrics:\n  listen: 0.0.0.0:9477\n  allow_remote: true\n").Metrics.AllowRemote);
        Assert.Contains("not a loopback address", Error("volumes:\n  - name: a\n    uri: memory://\n    metrics_listen: 10.1.2.3:9000\n"), StringComparison.Ordinal);
    }

    [Fact]
    public void Volumes_get_consecutive_metrics_ports_unless_they_name_their_own()
    {
        string yaml = "metrics:\n  listen: 127.0.0.1:9477\nvolumes:\n  - name: a\n    uri: memory://\n  - name: b\n    uri: memory://\n    metrics_listen: 127.0.0.1:9478\n";
        Assert.Contains("volumes[1].metrics_listen: volume 'b' would serve metrics on 127.0.0.1:9477 as volume 'a' does; give it another port", Error(yaml.Replace("9478", "9477", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Contains("would serve metrics on 127.0.0.1:9478", Error(yaml.Replace("name: a\n    uri: memory://\n", "name: a\n    uri: memory://\n    metrics_listen: 127.0.0.1:9478\n", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Equal(2, Parse(yaml).Volumes.Count);
    }

    [Fact]
    public void Environment_variables_override_the_file()
    {
        var env = new Dictionary<string, string>
        {
            ["PROXYFS_LOG_LEVEL"] = "warning",
            ["PROXYFS_READ_CACHE_SIZE"] = "256MiB",
            ["PROXYFS_READ_CACHE_LINE_SIZE"] = "64KiB",
            ["PROXYFS_METRICS_LISTEN"] = "[::1]:9100",
            ["PROXYFS_CREDENTIALS_FILE"] = "/root/creds",
            ["PROXYFS_VOLUME_MY_DATA_URI"] = "memory://other",
            ["PROXYFS_VOLUME_MY_DATA_OPTIONS"] = "ro",
            ["PROXYFS_RUN_DIR"] = "/tmp/not-an-override",
            ["PROXYFS_BENCH"] = "1",
        };
        ProxyFsConfig c = Parse("log_level: debug\nread_cache:\n  size: 4GiB\nvolumes:\n  - name: my-data\n    uri: memory://\n", env);
        Assert.Equal(LogLevel.Warning, c.LogLevel);
        Assert.Equal(256L << 20, c.ReadCache.Size);
        Assert.Equal(64 << 10, c.ReadCache.LineSize);
        Assert.Equal("[::1]:9100", c.Metrics.Listen!.ToString());
        Assert.Equal("/root/creds", c.CredentialsFile);
        Assert.Equal("memory://other", c.FindVolume("my-data")!.Uri);
        Assert.Equal(["ro"], c.FindVolume("my-data")!.Options);
    }

    [Fact]
    public void Environment_overrides_apply_without_a_file_and_set_metrics_off()
    {
        ProxyFsConfig c = ConfigLoader.Parse(null, null, new Dictionary<string, string> { ["PROXYFS_METRICS_LISTEN"] = "127.0.0.1:0" });
        Assert.Equal(0, c.Metrics.Listen!.Port);
        Assert.Null(Parse("metrics:\n  listen: 127.0.0.1:9477\n", new() { ["PROXYFS_METRICS_LISTEN"] = "off" }).Metrics.Listen);
    }

    [Theory]
    [InlineData("PROXYFS_LOG_LEVEL", "chatty", "PROXYFS_LOG_LEVEL: log_level: 'chatty' is not a log level")]
    [InlineData("PROXYFS_READ_CACHE_SIZ", "1GiB", "PROXYFS_READ_CACHE_SIZ: no configuration key has this variable (did you mean PROXYFS_READ_CACHE_SIZE?)")]
    [InlineData("PROXYFS_METRICS_LISTN", "127.0.0.1:1", "did you mean PROXYFS_METRICS_LISTEN?")]
    [InlineData("PROXYFS_METRICS_LISTEN", "0.0.0.0:9477", "PROXYFS_METRICS_LISTEN: metrics.listen: 0.0.0.0:9477 is not a loopback address")]
    [InlineData("PROXYFS_VOLUME_NOPE_URI", "memory://", "PROXYFS_VOLUME_NOPE_URI: names no key of a configured volume (volumes: a;")]
    public void A_bad_environment_override_names_the_variable(string name, string value, string expected) =>
        Assert.Contains(expected, Error("volumes:\n  - name: a\n    uri: memory://\n", new() { [name] = value }), StringComparison.Ordinal);

    [Fact]
    public void Load_says_when_the_file_is_missing()
    {
        string path = "/tmp/proxyfs-test-no-such-config-" + Guid.NewGuid().ToString("N") + ".yaml";
        Assert.Equal($"{path}: the configuration file does not exist", Assert.Throws<ConfigException>(() => ConfigLoader.Load(path, NoEnvironment)).Message);
    }

    [Theory]
    [InlineData("log_levl", "log_level")]
    [InlineData("volumes", "volumes")]
    [InlineData("xyz", null)]
    public void Nearest_suggests_only_close_words(string word, string? expected) =>
        Assert.Equal(expected, ConfigLoader.Nearest(word, ["log_level", "volumes", "metrics"]));
}
