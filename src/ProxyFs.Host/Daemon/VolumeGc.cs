using System.Text.Json;
using Microsoft.Extensions.Logging;
using ProxyFs.Core.Volume;
using ProxyFs.Core.Volume.Inodes;
using ProxyFs.Core.Volume.Maintenance;
using ProxyFs.Host.Config;
using ProxyFs.Host.Metrics;
using ProxyFs.ObjectStore;

namespace ProxyFs.Host.Daemon;

/// <summary>
/// Space reclamation of a mounted volume: a pass every gc.interval in the background, and one on request over the
/// control socket ("gc" or "gc dry-run", answered with the <see cref="ReclaimReport"/> as JSON, or "error …").
/// </summary>
public sealed class VolumeGc : IDisposable
{
    /// <summary>The report as one JSON line.</summary>
    public static string ToJson(ReclaimReport report) => JsonSerializer.Serialize(report, HostJsonContext.Default.ReclaimReport);

    /// <summary>A report from its JSON line.</summary>
    public static ReclaimReport FromJson(string json) =>
        JsonSerializer.Deserialize(json, HostJsonContext.Default.ReclaimReport) ?? throw new JsonException("empty gc reply");

    private readonly VolumeFileSystem _volume;
    private readonly GcConfig _config;
    private readonly ILogger _log;
    private readonly Timer? _timer;

    public VolumeGc(VolumeFileSystem volume, GcConfig config, ILogger log)
    {
        _volume = volume;
        _config = config;
        _log = log;
        if (config.Interval > TimeSpan.Zero && !volume.Core.ReadOnly)
        {
            _timer = new Timer(_ => Background(), null, config.Interval, config.Interval);
        }
    }

    /// <summary>Runs a pass now and returns its report as one JSON line (or "error &lt;reason&gt;").</summary>
    public string Run(bool dryRun)
    {
        try
        {
            ReclaimReport report = VolumeReclaimer.RunAsync(_volume.VolumeStore, new ReclaimOptions { Grace = _config.Grace, CompactBelow = _config.CompactBelow, DryRun = dryRun }, _log)
                .GetAwaiter().GetResult();
            return ToJson(report);
        }
        catch (Exception e) when (e is ObjectStoreException or IOException or VolumeFencedException or InvalidOperationException)
        {
            _log.LogError(e, "gc of {Location} failed", _volume.Core.Location);
            return "error " + e.Message;
        }
    }

    private void Background()
    {
        if (_volume.VolumeStore.Stopped is not null)
        {
            return;
        }
        string result;
        try
        {
            result = Run(dryRun: false);
        }
        catch (Exception e)
        {
            // A timer callback that throws ends the process: a failed background pass must not take the mount with it.
            _log.LogCritical(e, "background gc pass of {Location} failed unexpectedly; retrying in {Interval}", _volume.Core.Location, _config.Interval);
            return;
        }
        if (result.StartsWith("error ", StringComparison.Ordinal))
        {
            _log.LogWarning("background gc pass failed; retrying in {Interval}", _config.Interval);
        }
    }

    /// <summary>Stops the background passes, waiting (up to a minute) for one in progress to finish.</summary>
    public void Dispose()
    {
        if (_timer is null)
        {
            return;
        }
        using var stopped = new ManualResetEvent(false);
        if (_timer.Dispose(stopped))
        {
            stopped.WaitOne(TimeSpan.FromMinutes(1));
        }
    }
}
