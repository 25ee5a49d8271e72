using System.Globalization;
using System.Text.RegularExpressions;
using ProxyFs.Host.Metrics;
using ProxyFs.Integration.Tests.Support;

namespace ProxyFs.Integration.Tests;

/// <summary>
/// `proxyfs status` and the Prometheus endpoint on a real memory:// mount: the numbers move with a workload, what the
/// volume does not report is n/a, and the endpoint stays on loopback.
/// </summary>
public sealed partial class StatusAndMetricsTests
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    private static StatusSnapshot Status(string mountPoint)
    {
        CommandResult r = ProxyFsBinary.Run(CommandTimeout, "status", mountPoint, "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        return StatusSnapshot.FromJson(r.Stdout);
    }

    private static void Workload(string mountPoint, int files)
    {
        string dir = Path.Combine(mountPoint, "work-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        for (int i = 0; i < files; i++)
        {
            string f = Path.Combine(dir, "f" + i.ToString(CultureInfo.InvariantCulture));
            File.WriteAllBytes(f, new byte[64 * 1024]);
            Assert.Equal(64 * 1024, File.ReadAllBytes(f).Length);
        }
    }

    [Fact]
    public void Status_shows_live_fuse_numbers_that_move_with_a_workload()
    {
        using var mp = new TestMountPoint();
        using DaemonProcess daemon = DaemonProcess.Start("memory://", mp);

        StatusSnapshot before = Status(mp.Path);
        Assert.Equal(daemon.Pid, before.Pid);
        Assert.Equal("memory://", before.Uri);
        Assert.Equal(mp.Path, before.MountPoint);
        Assert.NotNull(before.Fuse);

        Workload(mp.Path, 20);
        StatusSnapshot after = Status(mp.Path);
        Assert.True(after.Fuse!.Requests > before.Fuse.Requests, $"{before.Fuse.Requests} -> {after.Fuse.Requests}");
        Assert.True(after.Fuse.Opcodes.GetValueOrDefault("WRITE") >= 20, string.Join(", ", after.Fuse.Opcodes));
        Assert.True(after.Fuse.Opcodes.GetValueOrDefault("CREATE") >= 20);
        Assert.True(after.Fuse.BytesWritten >= 20 * 64 * 1024);
        Assert.True(after.Fuse.RequestsPerSecond > 0);
        Assert.True(after.Fuse.OpcodeRates.GetValueOrDefault("WRITE") > 0, string.Join(", ", after.Fuse.OpcodeRates));
        Assert.True(after.UptimeSeconds >= before.UptimeSeconds);
        Assert.True(after.Space!.Files >= 21);

        // memory:// has no store, log or cache of its own: n/a, not zeros.
        Assert.Null(after.Store);
        Assert.Null(after.Volume.DirtyBytes);
        Assert.Null(after.Cache.HitRatio);

        CommandResult human = ProxyFsBinary.Run(CommandTimeout, "status", mp.Path);
        Assert.True(human.ExitCode == 0, human.ToString());
        Assert.Contains(mp.Path + ": memory://", human.Stdout, StringComparison.Ordinal);
        Assert.Contains("dirty       n/a", human.Stdout, StringComparison.Ordinal);
        Assert.Contains("store       n/a", human.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"fuse +[0-9.]+ req/s", human.Stdout);
        Assert.Matches(@"\n {14}[A-Z]+ [0-9.]+/s \([0-9]+\), [A-Z]+ [0-9.]+/s \([0-9]+\)", human.Stdout);

        // Without a mount point: every proxyfs mount, this one among them.
        CommandResult all = ProxyFsBinary.Run(CommandTimeout, "status", "--json");
        Assert.Contains("\"mountPoint\":\"" + mp.Path + "\"", all.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Status_of_a_file_volume_shows_its_id_store_and_segments()
    {
        using var mp = new TestMountPoint();
        string store = Directory.CreateTempSubdirectory("proxyfs-test-status-volume-").FullName;
        try
        {
            string uri = "file://" + store;
            CommandResult format = ProxyFsBinary.Run(CommandTimeout, "format", uri, "--label", "status-test");
            Assert.True(format.ExitCode == 0, format.ToString());
            using DaemonProcess daemon = DaemonProcess.Start(uri, mp);

            StatusSnapshot before = Status(mp.Path);
            Assert.NotNull(before.Volume.Id);
            Assert.Equal("status-test", before.Volume.Label);
            Assert.Equal(uri, before.Volume.StoreUri);
            Assert.NotNull(before.Volume.Checkpoints);
            Assert.NotNull(before.Volume.LastCheckpointAgeSeconds);

            Workload(mp.Path, 20);
            StatusSnapshot after = Status(mp.Path);
            Assert.True(after.Segments!.DataBytes > (before.Segments?.DataBytes ?? 0) || after.Volume.DirtyBytes > 0,
                $"segments {after.Segments.DataBytes} bytes, dirty {after.Volume.DirtyBytes}");

            CommandResult human = ProxyFsBinary.Run(CommandTimeout, "status", mp.Path);
            Assert.Contains($"label \"status-test\", store {uri}", human.Stdout, StringComparison.Ordinal);
            Assert.NotNull(after.Volume.ReplayLogBytes); // the volume's replay log, on local disk
            Assert.DoesNotContain("replay log  n/a", human.Stdout, StringComparison.Ordinal);
            Assert.Contains("replay log  ", human.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(store, recursive: true);
        }
    }

    [Fact]
    public async Task Status_and_metrics_show_live_read_cache_and_store_numbers_while_a_file_volume_is_read()
    {
        using var mp = new TestMountPoint();
        string store = Directory.CreateTempSubdirectory("proxyfs-test-status-reads-").FullName;
        try
        {
            const int FileBytes = 24 << 20;
            (string uri, byte[] data) = FileVolumeWithData(store, mp, FileBytes, seed: 3);
            Assert.False(mp.IsMounted);

            // A new daemon: its read cache and the kernel's page cache are cold, so reads reach the store.
            using DaemonProcess daemon = DaemonProcess.Start(uri, mp, "metrics=127.0.0.1:0");
            StatusSnapshot before = Status(mp.Path);
            Assert.Equal(0, before.Cache.BytesServed);
            Assert.Equal(0, before.Store!.Retries);
            string url = before.Metrics.Endpoint!;
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            string metricsBefore = await http.GetStringAsync(new Uri(url));

            byte[] back = new byte[1 << 20];
            long total = 0;
            using (var file = new FileStream(Path.Combine(mp.Path, "data"), FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None))
            {
                for (int n; total < FileBytes / 2 && (n = file.Read(back)) > 0; total += n)
                {
                    Assert.True(data.AsSpan((int)total, n).SequenceEqual(back.AsSpan(0, n)));
                }
                // Mid-workload: the numbers are live, not zeros or n/a.
                StatusSnapshot during = Status(mp.Path);
                Assert.True(during.Cache.BytesServed >= FileBytes / 2, $"served {during.Cache.BytesServed}");
                Assert.True(during.Cache.BytesFetched > 0);
                Assert.True(during.Cache.ReadAheadBytesFetched > 0, "sequential reads started read-ahead");
                Assert.True(during.Cache.ReadAheadBytesUsed > 0);
                Assert.NotNull(during.Cache.HitRatio);
                Assert.True(during.Cache.UsedBytes > 0);
                Assert.True(during.Store!.Operations.Single(o => o.Operation == "get").Requests > before.Store.Operations.Single(o => o.Operation == "get").Requests);
                Assert.True(during.Store.BytesRead >= FileBytes / 2);
                Assert.Equal(0, during.Store.Errors);

                for (int n; (n = file.Read(back)) > 0; total += n)
                {
                    Assert.True(data.AsSpan((int)total, n).SequenceEqual(back.AsSpan(0, n)));
                }
            }
            Assert.Equal(FileBytes, total);
            StatusSnapshot after = Status(mp.Path);
            Assert.True(after.Cache.BytesServed >= FileBytes);
            Assert.Equal(FileBytes, after.Cache.BytesFetched); // each byte fetched once
            // How many reads found their line already there depends on timing (read-ahead racing the reader): the test
            // checks that the ratio is the one the counters give, and leaves its size to the benchmarks.
            Assert.True(after.Cache.Hits > 0, "read-ahead filled lines before the reader asked for them");
            double lookups = after.Cache.Hits!.Value + after.Cache.JoinedFills!.Value + after.Cache.Misses!.Value;
            Assert.Equal(after.Cache.Hits.Value / lookups, after.Cache.HitRatio!.Value, 0.001);
            // One pass over the file re-reads nothing: whatever reached protected came from promotions, and the demotions
            // (the 80% limit) cannot have happened in a cache that holds the whole file.
            Assert.InRange(after.Cache.ProtectedBytes!.Value, 0, after.Cache.UsedBytes!.Value);
            Assert.Equal(0, after.Cache.Demotions);
            Assert.True(after.Cache.Promotions * (1 << 20) >= after.Cache.ProtectedBytes, $"{after.Cache.ProtectedBytes} protected bytes from {after.Cache.Promotions} promotions");

            string metricsAfter = await http.GetStringAsync(new Uri(url));
            Assert.True(Sample(metricsAfter, "proxyfs_read_cache_fetched_bytes_total") >= Sample(metricsBefore, "proxyfs_read_cache_fetched_bytes_total") + FileBytes);
            Assert.True(Sample(metricsAfter, "proxyfs_read_ahead_used_bytes_total") > 0);
            Assert.True(Sample(metricsAfter, "proxyfs_store_requests_total", operation: "get") > Sample(metricsBefore, "proxyfs_store_requests_total", operation: "get"));
            Assert.Contains("proxyfs_store_retries_total{", metricsAfter, StringComparison.Ordinal);
            Assert.Contains("proxyfs_read_cache_hit_ratio{", metricsAfter, StringComparison.Ordinal);
            Assert.Equal(after.Cache.Promotions!.Value, Sample(metricsAfter, "proxyfs_read_cache_promotions_total"));
            Assert.Equal(after.Cache.ProtectedBytes!.Value, Sample(metricsAfter, "proxyfs_read_cache_protected_bytes"));
            // The lines' memory: whole 32 MiB slabs, at least what the cache holds.
            Assert.True(after.Cache.LineMemoryBytes >= after.Cache.UsedBytes, $"{after.Cache.LineMemoryBytes} bytes of line memory for {after.Cache.UsedBytes} cached");
            Assert.Equal(0, after.Cache.LineMemoryBytes!.Value % (32L << 20));
            Assert.Equal(after.Cache.LineMemoryBytes.Value, Sample(metricsAfter, "proxyfs_read_cache_line_memory_bytes"));
            Assert.Equal(after.Cache.HugePageSlabs!.Value, Sample(metricsAfter, "proxyfs_read_cache_huge_page_slabs"));
            Assert.Equal(after.Cache.SlowHugePages!.Value, Sample(metricsAfter, "proxyfs_read_cache_slow_huge_pages_total"));

            CommandResult human = ProxyFsBinary.Run(CommandTimeout, "status", mp.Path);
            Assert.Matches(@"read cache  [0-9.]+ [KMG]?i?B of [0-9.]+ [KMG]?i?B, hit ratio [0-9.]+%", human.Stdout);
            Assert.Matches(@"read-ahead used [0-9.]+ [KMG]?i?B of [0-9.]+ [KMG]?i?B fetched", human.Stdout);
            Assert.Matches(@"store +[0-9.]+ req/s .*, 0 errors, 0 retries", human.Stdout);
        }
        finally
        {
            Directory.Delete(store, recursive: true);
        }
    }

    /// <summary>A file:// volume formatted in <paramref name="store"/> holding a file "data" of random bytes, unmounted again.</summary>
    private static (string Uri, byte[] Data) FileVolumeWithData(string store, TestMountPoint mp, int bytes, int seed)
    {
        string uri = "file://" + store;
        CommandResult format = ProxyFsBinary.Run(CommandTimeout, "format", uri);
        Assert.True(format.ExitCode == 0, format.ToString());
        byte[] data = new byte[bytes];
        new Random(seed).NextBytes(data);
        using (DaemonProcess writer = DaemonProcess.Start(uri, mp))
        {
            File.WriteAllBytes(Path.Combine(mp.Path, "data"), data);
        }
        return (uri, data);
    }

    [Fact]
    public void Read_cache_huge_pages_off_keeps_line_memory_in_small_pages()
    {
        using var mp = new TestMountPoint();
        string store = Directory.CreateTempSubdirectory("proxyfs-test-huge-pages-").FullName;
        try
        {
            (string uri, byte[] data) = FileVolumeWithData(store, mp, 8 << 20, seed: 5);
            var off = new Dictionary<string, string> { ["PROXYFS_READ_CACHE_HUGE_PAGES"] = "off" };
            using DaemonProcess daemon = DaemonProcess.Start(uri, mp, environment: off);
            Assert.Equal(data, File.ReadAllBytes(Path.Combine(mp.Path, "data")));
            StatusSnapshot after = Status(mp.Path);
            Assert.True(after.Cache.LineMemoryBytes >= 32L << 20, $"{after.Cache.LineMemoryBytes} bytes of line memory");
            Assert.Equal(0, after.Cache.HugePageSlabs);
            Assert.Equal(0, after.Cache.SlowHugePages);
        }
        finally
        {
            Directory.Delete(store, recursive: true);
        }
    }

    [Fact]
    public async Task The_metrics_endpoint_serves_prometheus_text_that_moves()
    {
        using var mp = new TestMountPoint();
        using DaemonProcess daemon = DaemonProcess.Start("memory://", mp, "metrics=127.0.0.1:0");
        string? url = Status(mp.Path).Metrics.Endpoint;
        Assert.NotNull(url);
        Assert.StartsWith("http://127.0.0.1:", url, StringComparison.Ordinal);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using (HttpResponseMessage first = await http.GetAsync(new Uri(url)))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, first.StatusCode);
            Assert.Equal("text/plain", first.Content.Headers.ContentType!.MediaType);
        }
        string before = await http.GetStringAsync(new Uri(url));
        Workload(mp.Path, 10);
        string after = await http.GetStringAsync(new Uri(url));

        Assert.Contains("# TYPE proxyfs_fuse_requests_total counter", after, StringComparison.Ordinal);
        Assert.Contains($"proxyfs_info{{volume=\"{mp.Path}\"", after, StringComparison.Ordinal);
        Assert.True(Sample(after, "proxyfs_fuse_written_bytes_total") >= Sample(before, "proxyfs_fuse_written_bytes_total") + 10 * 64 * 1024);
        Assert.True(Sample(after, "proxyfs_fuse_requests_total", "WRITE") >= Sample(before, "proxyfs_fuse_requests_total", "WRITE") + 10);
        Assert.True(Sample(after, "proxyfs_space_files") > Sample(before, "proxyfs_space_files"));
        Assert.DoesNotContain("proxyfs_volume_dirty_bytes", after, StringComparison.Ordinal);

        using HttpResponseMessage missing = await http.GetAsync(new Uri(url.Replace("/metrics", "/nothing", StringComparison.Ordinal)));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public void A_non_loopback_metrics_address_is_refused_before_mounting()
    {
        using var mp = new TestMountPoint();
        CommandResult r = ProxyFsBinary.Run(CommandTimeout, "mount", "memory://", mp.Path, "-o", "metrics=0.0.0.0:9477");
        Assert.Equal(78, r.ExitCode);
        string line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("not a loopback address", line, StringComparison.Ordinal);
        Assert.False(mp.IsMounted);
    }

    [Fact]
    public void Status_of_a_directory_that_is_not_mounted_is_one_line()
    {
        using var mp = new TestMountPoint();
        CommandResult r = ProxyFsBinary.Run(CommandTimeout, "status", mp.Path);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"proxyfs: {mp.Path} is not mounted", r.Stderr.Trim());
    }

    /// <summary>The value of a sample, by name and optionally by opcode or operation label; 0 when absent.</summary>
    private static double Sample(string text, string name, string? opcode = null, string? operation = null)
    {
        foreach (Match m in SampleLine().Matches(text))
        {
            if (m.Groups["name"].Value == name && (opcode is null || m.Groups["labels"].Value.Contains($"opcode=\"{opcode}\"", StringComparison.Ordinal))
                && (operation is null || m.Groups["labels"].Value.Contains($"operation=\"{operation}\"", StringComparison.Ordinal)))
            {
                return double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }
        return 0;
    }

    [GeneratedRegex(@"^(?<name>[a-z_]+)\{(?<labels>[^}]*)\} (?<value>\S+)$", RegexOptions.Multiline)]
    private static partial Regex SampleLine();
}
