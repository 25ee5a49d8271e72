using System.Diagnostics;
using ProxyFs.Host.Lifecycle;
using ProxyFs.Integration.Tests.Support;

namespace ProxyFs.Integration.Tests;

/// <summary>
/// systemd: the proxyfs@.service template is clean for `systemd-analyze verify`, and the daemon started as the unit
/// starts it (ExecStart with --volume %i, $PROXYFS_CONFIG, $NOTIFY_SOCKET, $WATCHDOG_USEC) speaks the notify protocol:
/// READY=1 with a STATUS=, WATCHDOG=1 at half the watchdog period, STOPPING=1 on SIGTERM, then a clean exit.
/// </summary>
public sealed class SystemdTests
{
    private static string UnitFile => Path.Combine(ProxyFsBinary.RepositoryRoot, "systemd", "proxyfs@.service");

    [Theory]
    [InlineData("proxyfs@.service")]
    [InlineData("proxyfs.service")]
    public async Task The_units_pass_systemd_analyze_verify(string name)
    {
        string? analyze = new[] { "/usr/bin/systemd-analyze", "/bin/systemd-analyze" }.FirstOrDefault(File.Exists);
        Assert.True(analyze is not null, "systemd-analyze is missing: run scripts/install-deps.sh (it installs systemd)");
        string dir = Directory.CreateTempSubdirectory("proxyfs-test-unit-").FullName;
        try
        {
            // The unit names the installed /usr/bin/proxyfs; verify checks the command exists, so point it at this build.
            string apphost = Path.Combine(AppContext.BaseDirectory, "proxyfs");
            Assert.True(File.Exists(apphost), apphost);
            string unit = Path.Combine(dir, name);
            File.WriteAllText(unit, File.ReadAllText(Path.Combine(ProxyFsBinary.RepositoryRoot, "systemd", name)).Replace("/usr/bin/proxyfs", apphost, StringComparison.Ordinal));

            var psi = new ProcessStartInfo(analyze, ["verify", "--man=no", unit])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using Process p = Process.Start(psi)!;
            Task<string> stderr = p.StandardError.ReadToEndAsync();
            Task<string> stdout = p.StandardOutput.ReadToEndAsync();
            Assert.True(p.WaitForExit(60_000), "systemd-analyze verify did not finish within 60 s");
            string output = await stdout + await stderr;
            Assert.True(p.ExitCode == 0, output);
            Assert.DoesNotContain(name, output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void The_all_volumes_unit_runs_mount_all_in_the_foreground_as_a_notify_service()
    {
        string[] lines = File.ReadAllLines(Path.Combine(ProxyFsBinary.RepositoryRoot, "systemd", "proxyfs.service"));
        Assert.Contains("Type=notify", lines);
        Assert.Contains("ExecStart=/usr/bin/proxyfs mount --all --foreground", lines);
        Assert.Contains("RestartPreventExitStatus=2 78", lines);
    }

    [Fact]
    public void The_unit_runs_the_volume_named_by_its_instance_in_the_foreground_as_a_notify_service()
    {
        string[] lines = File.ReadAllLines(UnitFile);
        Assert.Contains("Type=notify", lines);
        Assert.Contains("ExecStart=/usr/bin/proxyfs mount --volume %i --foreground", lines);
        Assert.Contains("Restart=on-failure", lines);
        Assert.Contains(lines, l => l.StartsWith("WatchdogSec=", StringComparison.Ordinal));
        Assert.Contains("RestartPreventExitStatus=2 78", lines);
    }

    [Fact]
    public void The_daemon_started_as_the_unit_does_reports_ready_watchdog_and_stopping()
    {
        using var mp = new TestMountPoint();
        string dir = Directory.CreateTempSubdirectory("proxyfs-test-unit-").FullName;
        string config = Path.Combine(dir, "proxyfs.yaml");
        File.WriteAllText(config, $"volumes:\n  - name: unit-test\n    uri: memory://\n    mount_point: {mp.Path}\n");
        using var listener = new NotifyListener();
        ProcessStartInfo psi = ProxyFsBinary.StartInfo("mount", "--volume", "unit-test", "--foreground");
        psi.Environment[SdNotify.SocketVariable] = listener.SocketName;
        psi.Environment["PROXYFS_CONFIG"] = config;
        psi.Environment["WATCHDOG_USEC"] = "1000000";
        psi.Environment.Remove("WATCHDOG_PID");
        using Process daemon = Process.Start(psi)!;
        daemon.BeginOutputReadLine();
        daemon.BeginErrorReadLine();
        try
        {
            IReadOnlyDictionary<string, string> ready = WaitFor(listener, daemon, "READY", TimeSpan.FromSeconds(60));
            Assert.Contains(mp.Path, ready["STATUS"], StringComparison.Ordinal);
            Assert.Equal(daemon.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), ready["MAINPID"]);
            Assert.True(mp.IsMounted);

            // WATCHDOG_USEC=1 s: a ping every 0.5 s.
            var watch = Stopwatch.StartNew();
            WaitFor(listener, daemon, "WATCHDOG", TimeSpan.FromSeconds(5));
            WaitFor(listener, daemon, "WATCHDOG", TimeSpan.FromSeconds(5));
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"two watchdog pings took {watch.Elapsed}");

            Posix.kill(daemon.Id, Posix.SIGTERM);
            IReadOnlyDictionary<string, string> stopping = WaitFor(listener, daemon, "STOPPING", TimeSpan.FromSeconds(30));
            Assert.Contains("SIGTERM", stopping["STATUS"], StringComparison.Ordinal);
            Assert.True(daemon.WaitForExit(30_000));
            Assert.Equal(0, daemon.ExitCode);
            Assert.False(mp.IsMounted);
        }
        finally
        {
            if (!daemon.HasExited)
            {
                Posix.kill(daemon.Id, Posix.SIGKILL);
                daemon.WaitForExit(10_000);
            }
            if (mp.IsMounted)
            {
                Native.LazyUnmount(mp.Path);
            }
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The next notification that sets <paramref name="key"/>=1, skipping others (STATUS= updates).</summary>
    private static IReadOnlyDictionary<string, string> WaitFor(NotifyListener listener, Process daemon, string key, TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            IReadOnlyDictionary<string, string>? m = listener.Receive(TimeSpan.FromMilliseconds(200));
            if (m?.GetValueOrDefault(key) == "1")
            {
                return m;
            }
            Assert.False(m is not null && m.ContainsKey("ERRNO"), "the daemon failed: " + m?.GetValueOrDefault("STATUS"));
            Assert.False(daemon.HasExited && m is null, $"the daemon exited with {(daemon.HasExited ? daemon.ExitCode : 0)} before {key}=1");
        }
        throw new TimeoutException($"no {key}=1 within {timeout}");
    }
}
