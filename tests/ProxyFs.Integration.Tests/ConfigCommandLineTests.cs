using ProxyFs.Host.Metrics;
using ProxyFs.Integration.Tests.Support;

namespace ProxyFs.Integration.Tests;

/// <summary>The configuration file through the proxyfs command: a volume mounted by name, and every mistake one line with exit 78.</summary>
public sealed class ConfigCommandLineTests : IDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);
    private readonly string _dir = Directory.CreateTempSubdirectory("proxyfs-test-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Config(string yaml)
    {
        string path = Path.Combine(_dir, "proxyfs.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    private static string OneLine(CommandResult r) => Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));

    [Fact]
    public void A_configured_volume_mounts_by_name_at_its_mount_point()
    {
        using var mp = new TestMountPoint();
        string config = Config($"volumes:\n  - name: scratch\n    uri: memory://\n    mount_point: {mp.Path}\n    options: [noatime]\n");
        CommandResult mount = ProxyFsBinary.Run(CommandTimeout, "mount", "scratch", "--config", config);
        try
        {
            Assert.True(mount.ExitCode == 0, mount.ToString());
            Assert.Contains($"mounted volume 'scratch' (memory://) at {mp.Path}", mount.Stdout, StringComparison.Ordinal);
            CommandResult status = ProxyFsBinary.Run(CommandTimeout, "status", mp.Path, "--json");
            StatusSnapshot s = StatusSnapshot.FromJson(status.Stdout);
            Assert.Equal("scratch", s.VolumeName);
            Assert.Equal(config, s.ConfigFile);
            Assert.Contains("noatime", s.Options);
        }
        finally
        {
            CommandResult unmount = ProxyFsBinary.Run(CommandTimeout, "unmount", mp.Path);
            Assert.True(unmount.ExitCode == 0 || !mp.IsMounted, unmount.ToString());
        }
    }

    [Fact]
    public void A_bad_key_is_one_line_naming_it_with_exit_78()
    {
        using var mp = new TestMountPoint();
        string config = Config("log_levle: debug\n");
        CommandResult r = ProxyFsBinary.Run(CommandTimeout, "mount", "memory://", mp.Path, "-o", "config=" + config);
        Assert.Equal(78, r.ExitCode);
        Assert.Equal($"proxyfs: {config}:1:1: unknown key 'log_levle' (did you mean 'log_level'?); expected one of: log_level, credentials_file, read_cache, metrics, gc, replay_log, volumes", OneLine(r));
        Assert.False(mp.IsMounted);
    }

    [Fact]
    public void A_credentials_file_others_can_read_is_refused()
    {
        using var mp = new TestMountPoint();
        string credentials = Path.Combine(_dir, "credentials");
        File.WriteAllText(credentials, "AWS_ACCESS_KEY_ID=AKIDEXAMPLE\nAWS_SECRET_ACCESS_KEY=do-not-print-me\n");
        File.SetUnixFileMode(credentials, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        string config = Config($"credentials_file: {credentials}\n");
        CommandResult r = ProxyFsBinary.Run(CommandTimeout, "mount", "memory://", mp.Path, "--config", config);
        Assert.Equal(78, r.ExitCode);
        string line = OneLine(r);
        Assert.Contains($"chmod 600 {credentials}", line, StringComparison.Ordinal);
        Assert.DoesNotContain("do-not-print-me", r.Stderr + r.Stdout, StringComparison.Ordinal);
        Assert.False(mp.IsMounted);
    }

    [Fact]
    public void A_missing_configuration_file_is_one_line()
    {
        using var mp = new TestMountPoint();
        string missing = Path.Combine(_dir, "missing.yaml");
        CommandResult r = ProxyFsBinary.Run(CommandTimeout, "mount", "memory://", mp.Path, "--config", missing);
        Assert.Equal(78, r.ExitCode);
        Assert.Equal($"proxyfs: {missing}: the configuration file does not exist", OneLine(r));
    }
}
