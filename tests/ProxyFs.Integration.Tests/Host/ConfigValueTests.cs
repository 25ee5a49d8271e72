using ProxyFs.Host.Config;

namespace ProxyFs.Integration.Tests.Host;

/// <summary>Sizes and listen addresses as the configuration and mount options write them.</summary>
public sealed class ConfigValueTests
{
    [Theory]
    [InlineData("4096", 4096)]
    [InlineData("512MiB", 512L << 20)]
    [InlineData("2 GiB", 2L << 30)]
    [InlineData("1.5G", 3L << 29)]
    [InlineData("64k", 64 << 10)]
    [InlineData("10MB", 10 << 20)]
    [InlineData("1TiB", 1L << 40)]
    [InlineData("0", 0)]
    public void Sizes_parse(string text, long bytes)
    {
        Assert.True(ByteSize.TryParse(text, out long n));
        Assert.Equal(bytes, n);
    }

    [Theory]
    [InlineData("")]
    [InlineData("lots")]
    [InlineData("-1MiB")]
    [InlineData("1.5")]
    [InlineData("MiB")]
    [InlineData("99999999TiB")]
    public void Non_sizes_are_refused(string text) => Assert.False(ByteSize.TryParse(text, out _));

    [Theory]
    [InlineData("30s", 30)]
    [InlineData("5m", 300)]
    [InlineData("1.5h", 5400)]
    [InlineData("1d", 86400)]
    [InlineData("0", 0)]
    [InlineData("0s", 0)]
    [InlineData("off", 0)]
    public void Gc_durations_parse(string text, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), ConfigSchema.ParseDuration(text, allowOff: true));

    [Theory]
    [InlineData("5")]
    [InlineData("m")]
    [InlineData("-1m")]
    [InlineData("ten minutes")]
    [InlineData("400d")]
    public void Non_durations_are_refused(string text) =>
        Assert.Throws<FormatException>(() => ConfigSchema.ParseDuration(text, allowOff: true));

    [Fact]
    public void Off_is_a_duration_only_where_it_may_be() =>
        Assert.Throws<FormatException>(() => ConfigSchema.ParseDuration("off", allowOff: false));

    [Fact]
    public void Gc_keys_reach_the_mount_settings()
    {
        using var dir = ProxyFs.Testing.TempDirectory.Create();
        string file = Path.Combine(dir.Path, "proxyfs.yaml");
        File.WriteAllText(file, "gc:\n  interval: 30s\n  grace: 0s\n");
        ProxyFsConfig config = ConfigLoader.Load(file, new Dictionary<string, string>());
        Assert.Equal(TimeSpan.FromSeconds(30), config.Gc.Interval);
        Assert.Equal(TimeSpan.Zero, config.Gc.Grace);
    }

    [Theory]
    [InlineData(512, "512 B")]
    [InlineData(1536, "1.5 KiB")]
    [InlineData(3L << 30, "3 GiB")]
    public void Sizes_format_for_people(long bytes, string text) => Assert.Equal(text, ByteSize.Format(bytes));

    [Theory]
    [InlineData("127.0.0.1:9477", "127.0.0.1:9477", true)]
    [InlineData("localhost:9477", "127.0.0.1:9477", true)]
    [InlineData("[::1]:0", "[::1]:0", true)]
    [InlineData("0.0.0.0:9477", "0.0.0.0:9477", false)]
    [InlineData("192.0.2.10:80", "192.0.2.10:80", false)]
    public void Listen_addresses_parse(string text, string normalized, bool loopback)
    {
        Assert.True(ListenAddress.TryParse(text, out ListenAddress? a, out _));
        Assert.Equal(normalized, a!.ToString());
        Assert.Equal(loopback, a.IsLoopback);
    }

    [Theory]
    [InlineData("127.0.0.1", "is not an address:port")]
    [InlineData("::1:9477", "write an IPv6 address in brackets")]
    [InlineData("127.0.0.1:99999", "the port must be a number from 0 to 65535")]
    [InlineData("metrics.example:9477", "the host must be an IP address or localhost")]
    public void Bad_listen_addresses_say_why(string text, string expected)
    {
        Assert.False(ListenAddress.TryParse(text, out _, out string error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Port_offsets_leave_port_zero_alone()
    {
        Assert.True(ListenAddress.TryParse("127.0.0.1:9400", out ListenAddress? a, out _));
        Assert.Equal(9402, a!.WithPortOffset(2).Port);
        Assert.True(ListenAddress.TryParse("127.0.0.1:0", out ListenAddress? any, out _));
        Assert.Equal(0, any!.WithPortOffset(2).Port);
    }
}
