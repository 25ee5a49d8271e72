using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using ProxyFs.Core.Cache;
using ProxyFs.Fuse;
using ProxyFs.Host.Cli;
using ProxyFs.Host.Fuse;
using ProxyFs.Host.Lifecycle;

namespace ProxyFs.Host.Daemon;

/// <summary>
/// Serves one volume at one mount point (`proxyfs mount`), or every volume of a configuration at its mount point in one
/// process (`proxyfs mount --all`), until they are unmounted: opens each volume, mounts it, answers its control socket,
/// tells systemd (or the `proxyfs mount` that started it) when it is ready, and on SIGTERM/SIGINT flushes, unmounts and
/// exits. Each mount ends on its own when it is unmounted from outside (umount, fusermount3 -u) or over its control
/// socket (`proxyfs unmount`); the others go on serving, and the volumes share one read cache whose shares rebalance
/// (budget × weight / Σ weights of the volumes still mounted) when one leaves. The daemon exits with its last mount.
/// </summary>
public sealed class MountDaemon
{
    private readonly IReadOnlyList<MountRequest> _requests;
    private readonly ReadCacheOptions _cacheOptions;
    private readonly ILogger _log;
    private readonly ILogger _fuseLog;
    private readonly SdNotify _notify;
    private readonly ManualResetEventSlim _wake = new();
    private readonly List<ServedMount> _serving = [];
    private int _closeFailures; // mounts whose volume did not close cleanly (each logged its reason)
    private volatile string? _signal;

    /// <summary>The log category of the daemon's own lines (the FUSE session's are <see cref="FuseLogSink.Category"/>).</summary>
    public const string LogCategory = "proxyfs";

    /// <summary>A daemon of one mount: its read cache is the request's (whose budget is the volume's share already).</summary>
    public MountDaemon(MountRequest request, ILoggerFactory logs, SdNotify notify)
        : this([request], request.Settings.ReadCache, logs, notify)
    {
    }

    /// <summary>A daemon of several mounts sharing one read cache of <paramref name="cache"/> (the whole budget).</summary>
    public MountDaemon(IReadOnlyList<MountRequest> requests, ReadCacheOptions cache, ILoggerFactory logs, SdNotify notify)
    {
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentOutOfRangeException.ThrowIfZero(requests.Count);
        ArgumentNullException.ThrowIfNull(logs);
        _requests = requests;
        _cacheOptions = cache;
        _log = logs.CreateLogger(LogCategory);
        _fuseLog = logs.CreateLogger(FuseLogSink.Category);
        _notify = notify;
    }

    /// <summary>Runs to the end of the last mount; returns the process exit code.</summary>
    public int Run()
    {
        if (ProxyFs.Core.Durability.CrashPoints.EnvironmentError() is { } crashPoint)
        {
            _log.LogError("cannot mount: {Reason}", crashPoint);
            _notify.Failed(crashPoint, Core.FileSystem.Errno.EINVAL);
            return ExitCodes.Usage;
        }
        if (ProxyFs.Core.Durability.CrashPoints.ArmedName is { } armed)
        {
            _log.LogWarning("crash point {CrashPoint} is armed: this daemon will kill itself there (tests only)", armed);
        }
        bool several = _requests.Count > 1;
        var cache = new ReadCache(_cacheOptions);
        DiskLineTier? disk;
        try
        {
            disk = _requests[0].Settings.ReadCacheDisk is { } diskOptions ? new DiskLineTier(diskOptions) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string reason = $"read_cache.disk_path {_requests[0].Settings.ReadCacheDisk!.Directory}: {e.Message}";
            _log.LogError("cannot mount: {Reason}", reason);
            _notify.Failed(reason, Core.FileSystem.Errno.EACCES);
            return ExitCodes.Config;
        }
        // With several mounts, each mount's STATUS= line would overwrite the others': the daemon says one of its own.
        using var quiet = SdNotify.Disabled();
        MountFailure? firstFailure = null;
        var failed = new List<string>();
        foreach (MountRequest request in _requests)
        {
            var mount = new ServedMount(request, cache, disk, _log, _fuseLog, several ? quiet : _notify, _wake.Set, sharedDaemon: several);
            if (mount.Start() is { } failure)
            {
                firstFailure ??= failure;
                failed.Add($"{mount.Name}: {failure.Reason}");
                continue;
            }
            _serving.Add(mount);
        }
        if (_serving.Count == 0)
        {
            string reason = several ? "no volume could be mounted: " + string.Join("; ", failed) : firstFailure!.Reason;
            _notify.Failed(reason, firstFailure!.Errno);
            return firstFailure.ExitCode;
        }

        using (RegisterSignals())
        using (StartWatchdog())
        {
            _notify.Ready(several
                ? $"Serving {_serving.Count} volumes: {string.Join(", ", _serving.Select(m => $"{m.Name} at {m.MountPoint}"))}{(failed.Count > 0 ? "; not mounted: " + string.Join("; ", failed) : "")}"
                : $"Serving {_serving[0].Description} at {_serving[0].MountPoint}");
            Serve(several);
        }
        if (disk is not null)
        {
            DrainDiskTier(disk);
        }
        _wake.Dispose();
        if (_closeFailures > 0)
        {
            return ExitCodes.Failure; // logged by the mount whose close failed
        }
        return failed.Count > 0 ? ExitCodes.MountFailed : ExitCodes.Ok;
    }

    /// <summary>Lets the lines fetched just before the volumes left reach the disk tier (bounded), so the next daemon finds them.</summary>
    private void DrainDiskTier(DiskLineTier disk)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            disk.WhenWrittenAsync(timeout.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            _log.LogWarning("the read cache's disk tier did not write its last {Bytes} queued bytes within 10 s: they are not kept", disk.QueuedBytes);
        }
    }

    private void Serve(bool several)
    {
        while (_serving.Count > 0)
        {
            _wake.Wait(250);
            _wake.Reset();
            if (_signal is { } signal)
            {
                _notify.Stopping("Stopping: " + signal);
                foreach (ServedMount m in _serving)
                {
                    m.Stop(signal);
                    _closeFailures += m.CloseError is null ? 0 : 1;
                }
                _serving.Clear();
                break;
            }
            foreach (ServedMount m in _serving.Where(m => m.IsDone).ToArray())
            {
                m.Finish();
                _closeFailures += m.CloseError is null ? 0 : 1;
                _serving.Remove(m);
                if (several && _serving.Count > 0)
                {
                    _log.LogInformation("{MountPoint} left ({Reason}); still serving {Mounts}", m.MountPoint, m.StopReason,
                        string.Join(", ", _serving.Select(s => s.MountPoint)));
                    _notify.Status($"Serving {_serving.Count} volumes: {string.Join(", ", _serving.Select(s => $"{s.Name} at {s.MountPoint}"))}");
                }
            }
        }
    }

    /// <summary>
    /// The FUSE session's options from the mount's; its log lines go to <paramref name="fuseLog"/> (the daemon's log), its
    /// debug lines (<c>-o debug</c>) to standard error.
    /// </summary>
    internal static FuseMountOptions FuseOptions(Cli.MountOptions o, string fsName, ILogger fuseLog) => new()
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
        ReaderHandoff = o.ReaderHandoffMs is { } handoff ? TimeSpan.FromMilliseconds(handoff) : FuseMountOptions.DefaultReaderHandoff,
        Debug = o.Debug,
        Log = FuseLogSink.For(fuseLog),
        DebugLog = o.Debug ? Console.Error.WriteLine : null,
    };

    private IDisposable RegisterSignals()
    {
        void OnSignal(PosixSignalContext c)
        {
            c.Cancel = true;
            _signal = "signal " + c.Signal;
            _log.LogInformation("received {Signal}: flushing and unmounting", c.Signal);
            _wake.Set();
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
            if (_serving.ToArray().Any(m => m.IsAlive))
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
