using System.Globalization;
using Microsoft.Extensions.Logging;
using ProxyFs.Core.Cache;
using ProxyFs.Core.FileSystem;
using ProxyFs.Fuse;
using ProxyFs.Host.Cli;
using ProxyFs.Host.Fuse;
using ProxyFs.Host.Lifecycle;
using ProxyFs.Host.Metrics;

namespace ProxyFs.Host.Daemon;

/// <summary>Why a mount could not start: one line, the errno for systemd, the exit code.</summary>
public sealed record MountFailure(string Reason, int Errno, int ExitCode);

/// <summary>
/// One volume served at one mount point inside a daemon: the volume (registered in the daemon's read cache with its
/// weight), its FUSE session, its control socket (status, unmount) and its telemetry. It ends on its own when it is
/// unmounted from outside or asked to unmount over its control socket; the daemon's other mounts are not affected.
/// </summary>
internal sealed class ServedMount
{
    /// <summary>How long a stopping mount keeps serving a lazily detached mount whose files are still open.</summary>
    internal static readonly TimeSpan BusyGrace = TimeSpan.FromSeconds(10);

    /// <summary>How long the first stat of the new mount may take before the mount counts as failed.</summary>
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(30);

    private readonly MountRequest _request;
    private readonly ReadCache _cache;
    private readonly DiskLineTier? _disk;
    private readonly ILogger _log;
    private readonly ILogger _fuseLog;
    private readonly Action _changed;
    private readonly DaemonTelemetry _telemetry;
    private OpenedVolume? _volume;
    private VolumeGc? _gc;
    private FuseSession? _session;
    private ControlServer? _control;
    private IDisposable? _telemetryRun;
    private readonly bool _sharedDaemon;
    private bool _flushFailed; // the last flush failed (the store is down)
    private volatile bool _unmountRequested;

    /// <param name="request">What to serve where.</param>
    /// <param name="cache">The daemon's read cache; the volume registers in it with its weight and leaves it when it ends.</param>
    /// <param name="disk">The daemon's local-disk tier of the read cache, or null.</param>
    /// <param name="log">The daemon's log.</param>
    /// <param name="fuseLog">The daemon's log of the FUSE session's lines.</param>
    /// <param name="notify">Where STATUS= lines go (a disabled notifier when the daemon serves several mounts).</param>
    /// <param name="changed">Called when this mount was asked to unmount, so that the daemon looks at it at once.</param>
    /// <param name="sharedDaemon">
    /// The daemon serves several mounts: an unmount over the control socket answers "ok" without the daemon's pid, since
    /// the daemon goes on serving the others (`proxyfs unmount` then does not wait for it to exit).
    /// </param>
    public ServedMount(MountRequest request, ReadCache cache, DiskLineTier? disk, ILogger log, ILogger fuseLog, SdNotify notify, Action changed, bool sharedDaemon = false)
    {
        _disk = disk;
        _sharedDaemon = sharedDaemon;
        _request = request;
        _cache = cache;
        _log = log;
        _fuseLog = fuseLog;
        _changed = changed;
        _telemetry = new DaemonTelemetry(request, log, notify);
        MountPoint = RunPaths.NormalizeMountPoint(request.MountPoint);
    }

    public string MountPoint { get; }

    /// <summary>The name in logs: the configured volume's name, else the URI.</summary>
    public string Name => _request.Settings.VolumeName ?? _request.Uri;

    public string Description => _volume?.Description ?? _request.Uri;

    /// <summary>Why it ended (once <see cref="IsDone"/>).</summary>
    public string StopReason { get; private set; } = "";

    /// <summary>Why closing the volume failed, or null (it closed, or has not yet).</summary>
    public string? CloseError { get; private set; }

    /// <summary>True when the session ended (unmounted from outside) or an unmount was asked for.</summary>
    public bool IsDone => _unmountRequested || (_session?.Completion.IsCompleted ?? true);

    /// <summary>True while the FUSE session runs.</summary>
    public bool IsAlive => _session is { Completion.IsCompleted: false };

    /// <summary>Opens the volume, mounts it, answers its control socket and waits until the mount answers a stat.</summary>
    public MountFailure? Start()
    {
        try
        {
            _volume = VolumeFactory.Open(_request.Uri, new VolumeOpenOptions
            {
                ReadOnly = _request.Options.ReadOnly,
                Cache = _cache,
                CacheName = _request.Settings.VolumeName,
                CacheWeight = _request.Settings.ReadCacheWeight,
                DiskTier = _disk,
                ReplayLogDirectory = _request.Options.ReplayLog,
                ReplayLogParent = _request.Settings.ReplayLogParent,
                AcceptReplayLogLoss = _request.Options.AcceptLogLoss,
                CheckpointInterval = _request.Options.CheckpointInterval,
                MaxFlushSize = _request.Options.MaxFlushSize,
                MaxFlushTime = _request.Options.MaxFlushTime,
                KeepCheckpoints = _request.Options.KeepCheckpoints,
                MetadataCache = _request.Options.MetadataCache,
            }, _log);
        }
        catch (VolumeUriException e)
        {
            return Failed(e.Message, Errno.EINVAL, ExitCodes.Usage);
        }
        var adapter = new FileSystemFuseAdapter(
            _volume.FileSystem,
            new FuseCacheTimeouts(_request.Options.EntryTimeout, _request.Options.AttrTimeout, _request.Options.NegativeTimeout));
        try
        {
            _session = FuseSession.Mount(MountPoint, adapter, MountDaemon.FuseOptions(_request.Options, _volume.FsName, _fuseLog));
        }
        catch (FuseMountException e)
        {
            return Failed(e.Message, e.Errno, ExitCodes.MountFailed);
        }
        try
        {
            _control = ControlServer.Start(RunPaths.ControlSocket(MountPoint), HandleControl);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException)
        {
            _session.Unmount(lazy: true);
            return Failed(e.Message, Errno.EBUSY, ExitCodes.MountFailed);
        }
        _telemetryRun = _telemetry.Start(MountPoint, _volume, _session);
        // Ready only once the mount answers a stat, as `proxyfs mount` and systemd's Type=notify expect.
        if (!MountCommand.Answers(MountPoint, AnswerTimeout, out string why))
        {
            _session.Unmount(lazy: true);
            return Failed($"{MountPoint} is mounted but does not answer: {why}", Errno.EIO, ExitCodes.MountFailed);
        }
        // Space reclamation in the background (every gc.interval) and on `proxyfs gc <mountpoint>`.
        _gc = _volume.Volume is { } served ? new VolumeGc(served, _request.Settings.Gc, _log) : null;
        _log.LogInformation("serving {Volume} at {MountPoint} (pid {Pid}, control {Socket})",
            _volume.Description, MountPoint, Environment.ProcessId, _control.Path);
        return null;
    }

    /// <summary>
    /// Stops on a signal: flushes, unmounts (lazily when files are open, serving them for up to
    /// <see cref="BusyGrace"/>), then <see cref="Finish"/>.
    /// </summary>
    public void Stop(string reason)
    {
        if (!IsDone)
        {
            StopReason = reason;
            Flush("stop");
            if (!TryUnmount(lazyWhenBusy: true, out string error))
            {
                _log.LogWarning("unmount of {MountPoint} failed: {Error}", MountPoint, error);
            }
        }
        Finish();
    }

    /// <summary>Once <see cref="IsDone"/> (or after <see cref="Stop"/>): ends the session, flushes and closes the volume (which leaves the read cache).</summary>
    public void Finish()
    {
        if (_session is { } session && !session.Completion.Wait(BusyGrace))
        {
            _log.LogWarning("files are still open at {MountPoint} {Grace} after a lazy unmount; stopping anyway", MountPoint, BusyGrace);
        }
        if (StopReason.Length == 0)
        {
            StopReason = _session?.Completion.IsFaulted == true
                ? "the FUSE session failed: " + _session.Completion.Exception!.GetBaseException().Message
                : "unmounted";
        }
        _telemetryRun?.Dispose();
        _control?.Dispose();
        _session?.Dispose();
        _gc?.Dispose(); // waits for a pass in progress: the volume is closed after it
        _gc = null;
        if (_volume is not null)
        {
            // After a flush that failed (the store is down: its uploads were retried for ~15 s), the close's own
            // checkpoint tries the store once more and spills what it does not take; a second flush would only add
            // another round of retries to the unmount.
            if (!_flushFailed)
            {
                Flush("final");
            }
            try
            {
                _volume.Dispose();
            }
            catch (Exception e)
            {
                // The close could not make the volume whole (its final checkpoint, or the spill of what the store did
                // not take, failed): said once, plainly, and the daemon exits non-zero after the other mounts closed.
                CloseError = e.GetBaseException().Message;
                _log.LogCritical("closing {Uri} at {MountPoint} failed: {Error}. The replay log is kept for the next mount", _request.Uri, MountPoint, CloseError);
            }
        }
        _telemetryRun = null;
        _control = null;
        _session = null;
        _volume = null;
        _log.LogInformation("stopped serving {MountPoint}: {Reason}", MountPoint, StopReason);
    }

    private MountFailure Failed(string reason, int errno, int exitCode)
    {
        _log.LogError("cannot mount {Uri} at {MountPoint}: {Reason}", _request.Uri, _request.MountPoint, reason);
        _control?.Dispose();
        _session?.Dispose();
        _volume?.Dispose();
        _control = null;
        _session = null;
        _volume = null;
        return new MountFailure(reason, errno, exitCode);
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
        if (_volume is null)
        {
            return;
        }
        int r = _volume.FileSystem.SyncFs(Caller.Root);
        _flushFailed = r != 0;
        if (r != 0)
        {
            _log.LogError("flush of {MountPoint} ({Why}) failed: {Errno}", MountPoint, why, Errno.Name(r));
        }
    }

    private string HandleControl(string request)
    {
        switch (request)
        {
            case "status":
                return _telemetry.StatusJson();
            case "gc" or "gc dry-run":
                return _gc?.Run(dryRun: request != "gc") ?? "error this mount is not a volume (memory://): nothing to reclaim";
            case "unmount":
                _log.LogInformation("unmount of {MountPoint} requested", MountPoint);
                Flush("unmount");
                if (!TryUnmount(lazyWhenBusy: false, out string error))
                {
                    return "error " + error;
                }
                StopReason = "unmounted on request";
                _unmountRequested = true;
                _changed();
                return _sharedDaemon ? "ok" : "ok " + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
            default:
                return "error unknown request '" + request + "'";
        }
    }
}
