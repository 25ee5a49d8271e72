using ProxyFs.Integration.Tests.Support;

namespace ProxyFs.Integration.Tests;

/// <summary>What the FUSE session logs reaches the daemon's log, through the real daemon and a real mount.</summary>
public sealed class DaemonLogTests
{
    [Fact]
    public void A_read_the_FUSE_session_answers_with_EIO_is_logged_as_an_error_of_the_daemon_under_the_ProxyFs_Fuse_category()
    {
        using var volume = new FileVolume();
        using var mountPoint = new TestMountPoint();
        using (DaemonProcess daemon = DaemonProcess.Start(volume.Uri, mountPoint))
        {
            File.WriteAllText(Path.Combine(mountPoint.Path, "lost"), "bytes whose segment goes away");
        }
        // The file's data segment disappears from the store behind the volume's back: its read fails in the store, and
        // the FUSE session answers EIO and logs the failure.
        List<string> segments = volume.Keys("segments/");
        Assert.NotEmpty(segments);
        StoreAccess.With(volume.Uri, store =>
        {
            foreach (string key in segments)
            {
                store.DeleteAsync(key).GetAwaiter().GetResult();
            }
        });
        using (DaemonProcess daemon = DaemonProcess.Start(volume.Uri, mountPoint))
        {
            Assert.Throws<IOException>(() => File.ReadAllBytes(Path.Combine(mountPoint.Path, "lost")));
            // The daemon's console format ("<level>: <category>[<event>] <message>", one line), as its own lines are.
            Assert.True(daemon.WaitForOutput("fail: ProxyFs.Fuse[0] FUSE READ", TimeSpan.FromSeconds(10)), daemon.Output);
            Assert.Contains("answering EIO", daemon.Output, StringComparison.Ordinal);
            // The session's own fallback (standard error, unformatted) is not used.
            Assert.DoesNotContain("proxyfs-fuse error", daemon.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_first_mount_with_a_new_replay_log_logs_nothing_about_failing_to_recover_it()
    {
        using var volume = new FileVolume();
        using var mountPoint = new TestMountPoint();
        using DaemonProcess daemon = DaemonProcess.Start(volume.Uri, mountPoint);
        Assert.True(daemon.WaitForOutput("serving ", TimeSpan.FromSeconds(10)), daemon.Output);
        Assert.DoesNotContain("recover", daemon.Output, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void The_FUSE_sessions_lines_obey_the_daemons_log_level()
    {
        using var volume = new FileVolume();
        using var mountPoint = new TestMountPoint();
        using (DaemonProcess daemon = DaemonProcess.Start(volume.Uri, mountPoint))
        {
            // The connection the session negotiated at INIT, at information level.
            Assert.True(daemon.WaitForOutput("info: ProxyFs.Fuse[0] FUSE connection: protocol", TimeSpan.FromSeconds(10)), daemon.Output);
        }
        using (DaemonProcess daemon = DaemonProcess.Start(volume.Uri, mountPoint, environment: new Dictionary<string, string> { ["PROXYFS_LOG_LEVEL"] = "warning" }))
        {
            File.WriteAllText(Path.Combine(mountPoint.Path, "f"), "x");
            Assert.Equal("x", File.ReadAllText(Path.Combine(mountPoint.Path, "f")));
            daemon.Signal(Posix.SIGTERM);
            Assert.True(daemon.WaitForExit(TimeSpan.FromSeconds(30)), daemon.Output);
            // Every line of the daemon's went through the same filter: the session's information lines are not there.
            Assert.DoesNotContain("FUSE connection", daemon.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("info:", daemon.Output, StringComparison.Ordinal);
        }
    }
}
