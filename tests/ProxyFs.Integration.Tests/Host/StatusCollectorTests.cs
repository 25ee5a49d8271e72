using System.Diagnostics;
using ProxyFs.Host.Cli;
using ProxyFs.Host.Daemon;
using ProxyFs.Host.Metrics;
using ProxyFs.ObjectStore;

namespace ProxyFs.Integration.Tests.Host;

/// <summary>The status and metrics of a daemon, built without a mount: what a volume does not report is absent, never zero.</summary>
public sealed class StatusCollectorTests
{
    private static StatusCollector Collector(IVolumeStatusSource? volume, MetricsSection? metrics = null) =>
        new(new StatusInputs(new MountRequest("memory://", "/mnt/x", MountOptions.Parse([])), "/mnt/x", "test volume", null,
            () => null, volume, () => metrics ?? new MetricsSection()), DateTimeOffset.UtcNow);

    [Fact]
    public void A_volume_that_reports_nothing_shows_na_and_exports_no_volume_series()
    {
        StatusCollector c = Collector(null);
        StatusSnapshot s = c.Snapshot();
        Assert.Null(s.Volume.DirtyBytes);
        Assert.Null(s.Volume.LastCheckpointAgeSeconds);
        Assert.Null(s.Volume.ReplayLogBytes);
        Assert.Null(s.Cache.HitRatio);
        Assert.Null(s.Store);

        string text = StatusCommand.Format(s);
        Assert.Contains("dirty       n/a", text, StringComparison.Ordinal);
        Assert.Contains("checkpoint  n/a", text, StringComparison.Ordinal);
        Assert.Contains("replay log  n/a", text, StringComparison.Ordinal);
        Assert.Contains("store       n/a", text, StringComparison.Ordinal);
        Assert.Contains("read cache  budget 1 GiB (n/a", text, StringComparison.Ordinal);

        string metrics = c.Prometheus();
        Assert.Contains("proxyfs_info{volume=\"/mnt/x\"", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("proxyfs_volume_dirty_bytes", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("proxyfs_store_requests_total", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public void What_a_volume_reports_is_shown_and_exported()
    {
        var checkpoint = DateTimeOffset.UtcNow.AddSeconds(-42);
        var source = new FixedSource(new VolumeStatus { DirtyBytes = 3 << 20, OpenSegments = 2, LastCheckpoint = checkpoint, Checkpoints = 7, ReplayLogBytes = 4096 });
        StatusCollector c = Collector(source);
        StatusSnapshot s = c.Snapshot();
        Assert.Equal(3 << 20, s.Volume.DirtyBytes);
        Assert.InRange(s.Volume.LastCheckpointAgeSeconds!.Value, 41, 60);

        string text = StatusCommand.Format(s);
        Assert.Contains("dirty       3 MiB in 2 open segments", text, StringComparison.Ordinal);
        Assert.Contains("(7 since mount)", text, StringComparison.Ordinal);
        Assert.Contains("replay log  4 KiB", text, StringComparison.Ordinal);

        string metrics = c.Prometheus();
        Assert.Contains("proxyfs_volume_dirty_bytes{volume=\"/mnt/x\"} 3145728\n", metrics, StringComparison.Ordinal);
        Assert.Contains("proxyfs_volume_open_segments{volume=\"/mnt/x\"} 2\n", metrics, StringComparison.Ordinal);
        Assert.Contains("proxyfs_volume_replay_log_bytes{volume=\"/mnt/x\"} 4096\n", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_store_opened_with_metrics_shows_requests_errors_and_rates()
    {
        (IObjectStore store, ObjectStoreStatusSource source) = ObjectStoreStatusSource.Open("memory://status-test");
        await using (store)
        {
            StatusCollector c = Collector(source);
            for (int i = 0; i < 10; i++)
            {
                await store.PutAsync("k" + i, new byte[100]);
            }
            await Assert.ThrowsAnyAsync<ObjectStoreException>(() => store.HeadAsync("missing"));
            c.Sample();

            StatusSnapshot s = c.Snapshot();
            Assert.NotNull(s.Store);
            Assert.Equal(11, s.Store.Requests);
            Assert.Equal(1, s.Store.Errors);
            Assert.Equal(1000, s.Store.BytesWritten);
            Assert.True(s.Store.RequestsPerSecond > 0);
            Assert.StartsWith("memory://", s.Volume.StoreUri, StringComparison.Ordinal);

            string text = StatusCommand.Format(s);
            Assert.Contains("11 requests, 1 errors, n/a retries", text, StringComparison.Ordinal);

            string metrics = c.Prometheus();
            Assert.Contains("proxyfs_store_requests_total{volume=\"/mnt/x\",operation=\"put\"} 10\n", metrics, StringComparison.Ordinal);
            Assert.Contains("proxyfs_store_errors_total{volume=\"/mnt/x\",operation=\"head\",kind=\"notfound\"} 1\n", metrics, StringComparison.Ordinal);
            Assert.Contains("proxyfs_store_request_duration_seconds_count{volume=\"/mnt/x\",operation=\"put\"} 10\n", metrics, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_status_survives_a_json_round_trip()
    {
        StatusSnapshot s = Collector(new FixedSource(new VolumeStatus { DirtyBytes = 1 }), new MetricsSection { Endpoint = "http://127.0.0.1:1/metrics" }).Snapshot();
        StatusSnapshot back = StatusSnapshot.FromJson(s.ToJson());
        Assert.Equal(s.Volume, back.Volume);
        Assert.Equal("http://127.0.0.1:1/metrics", back.Metrics.Endpoint);
        Assert.Contains("\"dirtyBytes\":1", s.ToJson(), StringComparison.Ordinal);
        Assert.Contains("\"replayLogBytes\":null", s.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public void Rates_span_the_window_and_count_only_increases()
    {
        long now = 0;
        long counter = 0;
        var rates = new RateTracker(() => [counter], TimeSpan.FromSeconds(10), () => now);
        for (int second = 1; second <= 30; second++)
        {
            now += Stopwatch.Frequency;
            counter += 5;
            rates.Sample();
        }
        (long[] values, double[] perSecond, double seconds) = rates.Rates();
        Assert.Equal(150, values[0]);
        Assert.Equal(5, perSecond[0], 3);
        Assert.InRange(seconds, 10, 11);
        counter = 0; // a counter that went back (never happens, but must not give a negative rate)
        Assert.Equal(0, rates.Rates().PerSecond[0]);
    }

    [Fact]
    public void Prometheus_text_escapes_labels_and_declares_each_family_once()
    {
        var w = new PrometheusWriter(("volume", "a \"b\"\\c\nd"));
        w.Family("x_total", "counter", "Things");
        w.Sample("x_total", 1, ("k", "1"));
        w.Sample("x_total", 2.5, ("k", "2"));
        w.Family("x_total", "counter", "Things");
        w.Single("y", "gauge", "Why", double.NaN);
        Assert.Equal(
            "# HELP x_total Things\n# TYPE x_total counter\n" +
            "x_total{volume=\"a \\\"b\\\"\\\\c\\nd\",k=\"1\"} 1\n" +
            "x_total{volume=\"a \\\"b\\\"\\\\c\\nd\",k=\"2\"} 2.5\n" +
            "# HELP y Why\n# TYPE y gauge\ny{volume=\"a \\\"b\\\"\\\\c\\nd\"} NaN\n",
            w.ToString());
    }

    private sealed class FixedSource(VolumeStatus status) : IVolumeStatusSource
    {
        public VolumeStatus GetStatus() => status;
    }
}
