using System.Globalization;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using ProxyFs.Fuse;
using ProxyFs.Host.Config;
using ProxyFs.Host.Daemon;
using ProxyFs.Host.Lifecycle;

namespace ProxyFs.Host.Metrics;

/// <summary>
/// The daemon's status and metrics: answers the control socket's "status" request with a <see cref="StatusSnapshot"/>
/// as JSON, serves the Prometheus endpoint when the settings ask for one, keeps the rates, and refreshes the
/// systemd STATUS= line. <see cref="Start"/> once the volume is mounted; before that, status reports what it knows.
/// </summary>
public sealed class DaemonTelemetry
{
    /// <summary>How often rates are sampled.</summary>
    private static readonly TimeSpan SamplePeriod = TimeSpan.FromSeconds(5);

    /// <summary>How often the STATUS= line is refreshed under systemd.</summary>
    private static readonly TimeSpan NotifyPeriod = TimeSpan.FromSeconds(30);

    private readonly MountRequest _request;
    private readonly ILogger _log;
    private readonly SdNotify _notify;
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;
    private StatusCollector? _collector;
    private MetricsHttpServer? _server;
    private string? _metricsError;

    public DaemonTelemetry(MountRequest request, ILogger log, SdNotify notify)
    {
        _request = request;
        _log = log;
        _notify = notify;
    }

    /// <summary>Starts collecting for the mounted volume; dispose the result to stop (before the session ends).</summary>
    public IDisposable Start(string mountPoint, OpenedVolume volume, FuseSession session)
    {
        ArgumentNullException.ThrowIfNull(volume);
        ArgumentNullException.ThrowIfNull(session);
        var collector = new StatusCollector(new StatusInputs(
            _request, mountPoint, volume.Description, volume.FileSystem,
            () => session.GetStatistics(), VolumeStatusSources.Find(volume), MetricsState), _started);
        if (_request.Settings.Metrics is ListenAddress address)
        {
            try
            {
                _server = MetricsHttpServer.Start(address, collector.Prometheus, _log);
                _log.LogInformation("metrics at {Url}", _server.Url);
            }
            catch (SocketException e)
            {
                // The volume is served anyway: losing the metrics must not take the storage down. status says why.
                _metricsError = $"cannot listen on {address}: {e.Message}";
                _log.LogError("metrics endpoint: {Error}", _metricsError);
            }
        }
        _collector = collector;
        var sampler = new Timer(_ => collector.Sample(), null, SamplePeriod, SamplePeriod);
        Timer? status = _notify.Enabled
            ? new Timer(_ => _notify.Status(StatusLine(collector.Snapshot())), null, NotifyPeriod, NotifyPeriod)
            : null;
        return new Stopper(() =>
        {
            status?.Dispose();
            sampler.Dispose();
            _server?.Dispose();
            _server = null;
        });
    }

    /// <summary>The reply to the control socket's "status": one JSON line.</summary>
    public string StatusJson() => Snapshot().ToJson();

    /// <summary>The status now.</summary>
    public StatusSnapshot Snapshot() => _collector?.Snapshot() ?? new StatusSnapshot
    {
        Pid = Environment.ProcessId,
        Version = StatusCollector.Version,
        Time = DateTimeOffset.UtcNow,
        StartedAt = _started,
        UptimeSeconds = Math.Round((DateTimeOffset.UtcNow - _started).TotalSeconds, 1),
        MountPoint = _request.MountPoint,
        Uri = _request.Uri,
        VolumeName = _request.Settings.VolumeName,
        Description = "not mounted yet",
        ConfigFile = _request.Settings.ConfigFile,
        ReadOnly = _request.Options.ReadOnly,
        Options = _request.Options.Raw,
        Cache = new CacheSection { BudgetBytes = _request.Settings.ReadCache.BudgetBytes, Weight = _request.Settings.ReadCacheWeight },
        Metrics = MetricsState(),
    };

    private MetricsSection MetricsState() => new()
    {
        Endpoint = _server?.Url,
        Error = _metricsError,
    };

    /// <summary>The one-line summary systemctl status shows.</summary>
    internal static string StatusLine(StatusSnapshot s)
    {
        var parts = new List<string> { $"Serving {s.VolumeName ?? s.Uri} at {s.MountPoint}" };
        if (s.Fuse is { } f)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{f.RequestsPerSecond:0.#} req/s"));
        }
        if (s.Volume.DirtyBytes is long dirty)
        {
            parts.Add(ByteSize.Format(dirty) + " dirty");
        }
        if (s.Volume.LastCheckpointAgeSeconds is double age)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"checkpoint {age:0} s ago"));
        }
        if (s.Store is { } st)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"store {st.RequestsPerSecond:0.#} req/s, {st.Errors} errors"));
        }
        return string.Join("; ", parts);
    }

    private sealed class Stopper(Action stop) : IDisposable
    {
        public void Dispose() => stop();
    }
}
