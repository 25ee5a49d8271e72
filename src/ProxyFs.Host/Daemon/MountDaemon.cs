using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using ProxyFs.Core.FileSystem;
using ProxyFs.Fuse;
using ProxyFs.Host.Cli;
using ProxyFs.Host.Fuse;
using ProxyFs.Host.Lifecycle;
using ProxyFs.Host.Metrics;

namespace ProxyFs.Host.Daemon;

/// <summary>
/// Serves one volume at one mount point until it is unmounted: opens the volume, mounts it, answers the control
/// socket, tells systemd (or the `proxyfs mount` that started it) when it is ready, and on SIGTERM/SIGINT or an
/// "unmount" request flushes, unmounts and exits. An unmount from outside (umount, fusermount3 -u) ends it too.
/// </summary>
public sealed class MountDaemon
{
    /// <summary>How long a stopping daemon keeps serving a lazily detached mount whose files are still open.</summary>
    private static readonly TimeSpan BusyGrace = TimeSpan.FromSeconds(10);

    /// <summary>How long the first stat of the new mount may take before the mount counts as failed.</summary>
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(30);

    private readonly MountRequest _request;
    private readonly ILogger _log;
    private readonly SdNotify _notify;
    private readonly ManualResetEventSlim _stop = new();
    private string _stopReason = "";
    private FuseSession? _session;
    private OpenedVolume? _volume;
    private string _mountPoint = "";
    private readonly DaemonTelemetry _telemetry;

    public MountDaemon(MountRequest request, ILogger log, SdNotify notify)
    {
        _request = request;
        _log = log;
        _notify = notify;
        _telemetry = new DaemonTelemetry(request, log, notify);
    }

    /// <summary>Runs to the end of the mount; returns the process exit code.</summary>
    public int Run()
    {
        _mountPoint = RunPaths.NormalizeMountPoint(_request.MountPoint);
        if (ProxyFs.Core.Durability.CrashPoints.EnvironmentError() is { } crashPoint)
        {
            return Fail(crashPoint, Errno.EINVAL, ExitCodes.Usage);
        }
        if (ProxyFs.Core.Durability.CrashPoints.ArmedName is { } armed)
        {
            _log.LogWarning("crash point {CrashPoint} is armed: this daemon will kill itself there (tests only)", armed);
        }
        try
        {
            _volume = VolumeFactory.Open(_request.Uri, new VolumeOpenOptions
            {
                ReadOnly = _request.Options.ReadOnly,
                ReplayLogDirectory = _request.Options.ReplayLog,
                ReplayLogParent = _request.Settings.ReplayLogParent,
                AcceptReplayLogLoss = _request.Options.AcceptLogLoss,
            }, _log);
        }
        catch (VolumeUriException e)
        {
            return Fail(e.Message, Errno.EINVAL, ExitCodes.Usage);
        }

        using (_volume)
        {
            var adapter = new FileSystemFuseAdapter(
                _volume.FileSystem,
                new FuseCacheTimeouts(_request.Options.EntryTimeout, _request.Options.AttrTimeout, _request.Options.NegativeTimeout));
            try
            {
                _session = FuseSession.Mount(_mountPoint, adapter, FuseOptions(_request.Options, _volume.FsName));
            }
            catch (FuseMountException e)
            {
                return Fail(e.Message, e.Errno, ExitCodes.MountFailed);
            }

            using (_session)
            {
                ControlServer control;
                try
                {
                    control = ControlServer.Start(RunPaths.ControlSocket(_mountPoint), HandleControl);
                }
                catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException)
                {
                    _session.Unmount(lazy: true);
                    return Fail(e.Message, Errno.EBUSY, ExitCodes.MountFailed);
                }
                using (control)
                using (_telemetry.Start(_mountPoint, _volume, _session))
                using (RegisterSignals())
                using (StartWatchdog())
                {
                    // READY=1 only once the mount answers a stat, as `proxyfs mount` and systemd's Type=notify expect.
                    if (!MountCommand.Answers(_mountPoint, AnswerTimeout, out string why))
                    {
                        _session.Unmount(lazy: true);
                        return Fail($"{_mountPoint} is mounted but does not answer: {why}", Errno.EIO, ExitCodes.MountFailed);
                    }
                    _log.LogInformation("serving {Volume} at {MountPoint} (pid {Pid}, control {Socket})",
                        _volume.Description, _mountPoint, Environment.ProcessId, control.Path);
                    _notify.Ready($"Serving {_volume.Description} at {_mountPoint}");
                    Serve();
                }
            }
            Flush("final");
        }
        _log.LogInformation("stopped: {Reason}", _stopReason);
        return ExitCodes.Ok;
    }

    private int Fail(string reason, int errno, int exitCode)
    {
        _log.LogError("cannot mount {Uri} at {MountPoint}: {Reason}", _request.Uri, _request.MountPoint, reason);
        _notify.Failed(reason, errno);
        return exitCode;
    }

    internal static FuseMountOptions FuseOptions(Cli.MountOptions o, string fsName) => new()
    {
        FsName = o.FsName ?? fsName,
        Subtype = "proxyfs",
        AllowOther = o.AllowOther,
        DefaultPermissions = o.DefaultPermissions,
        ReadOnly = o.ReadOnly,
        WritebackCache = o.WritebackCache,
        NoSuid = o.NoSuid,
        NoDev = o.NoDev,
        NoExec = o.NoExec,
        NoAtime = o.NoAtime,
        ReaderThreads = o.ReaderThreads ?? FuseMountOptions.DefaultReaderThreads,
        ReadAheadKb = o.ReadAheadKb ?? FuseMountOptions.DefaultReadAheadKb,
        Debug = o.Debug,
        DebugLog = o.Debug ? Console.Error.WriteLine : null,
    };

    private void Serve()
    {
        FuseSession session = _session!;
        while (!session.Completion.IsCompleted)
        {
            if (_stop.Wait(250))
            {
                break;
            }
        }
        if (session.Completion.IsCompleted)
        {
            _stopReason = _stopReason.Length > 0 ? _stopReason : session.Completion.IsFaulted
                ? "the FUSE session failed: " + session.Completion.Exception!.GetBaseException().Message
                : "unmounted";
            return;
        }

        // Stopping on a signal: flush, then unmount; if files are still open, detach lazily and keep serving them
        // for a grace period so that nothing in flight is cut off.
        _notify.Stopping("Stopping: " + _stopReason);
        Flush("stop");
        if (!TryUnmount(lazyWhenBusy: true, out string error))
        {
            _log.LogWarning("unmount failed: {Error}", error);
        }
        if (!session.Completion.Wait(BusyGrace))
        {
            _log.LogWarning("files are still open {Grace} after a lazy unmount; stopping anyway", BusyGrace);
        }
    }

    private bool TryUnmount(bool lazyWhenBusy, out string error)
    {
        error = "";
        try
        {
            _session!.Unmount(lazy: false);
            return true;
        }
        catch (FuseMountException e) when (lazyWhenBusy)
        {
            _log.LogWarning("{Error}; detaching lazily", e.Message);
            _session!.Unmount(lazy: true);
            return true;
        }
        catch (FuseMountException e)
        {
            error = e.Message;
            return false;
        }
    }

    private void Flush(string why)
    {
        int r = _volume!.FileSystem.SyncFs(Caller.Root);
        if (r != 0)
        {
            _log.LogError("flush ({Why}) failed: {Errno}", why, Errno.Name(r));
        }
    }

    private string HandleControl(string request)
    {
        switch (request)
        {
            case "status":
                return _telemetry.StatusJson();
            case "unmount":
                _log.LogInformation("unmount requested");
                Flush("unmount");
                _stopReason = "unmounted on request";
                if (!TryUnmount(lazyWhenBusy: false, out string error))
                {
                    _stopReason = "";
                    return "error " + error;
                }
                _stop.Set();
                return "ok " + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
            default:
                return "error unknown request '" + request + "'";
        }
    }

    private IDisposable RegisterSignals()
    {
        void OnSignal(PosixSignalContext c)
        {
            c.Cancel = true;
            _stopReason = "signal " + c.Signal;
            _log.LogInformation("received {Signal}: flushing and unmounting", c.Signal);
            _stop.Set();
        }
        return new Disposables(
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
            PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
            PosixSignalRegistration.Create(PosixSignal.SIGQUIT, OnSignal));
    }

    /// <summary>WATCHDOG=1 at half of $WATCHDOG_USEC while the session is alive.</summary>
    private IDisposable StartWatchdog()
    {
        string? usec = Environment.GetEnvironmentVariable("WATCHDOG_USEC");
        string? pid = Environment.GetEnvironmentVariable("WATCHDOG_PID");
        if (string.IsNullOrEmpty(usec) || !long.TryParse(usec, NumberStyles.None, CultureInfo.InvariantCulture, out long us) || us <= 0
            || (!string.IsNullOrEmpty(pid) && pid != Environment.ProcessId.ToString(CultureInfo.InvariantCulture)))
        {
            return new Disposables();
        }
        var period = TimeSpan.FromMicroseconds(us / 2);
        return new Timer(_ =>
        {
            if (_session is { Completion.IsCompleted: false })
            {
                _notify.Watchdog();
            }
        }, null, period, period);
    }

    private sealed class Disposables(params IDisposable[] items) : IDisposable
    {
        public void Dispose()
        {
            foreach (IDisposable d in items)
            {
                d.Dispose();
            }
        }
    }
}
