using System.Globalization;
using System.Reflection;
using ProxyFs.Core.FileSystem;
using ProxyFs.Fuse;
using ProxyFs.Fuse.Protocol;
using ProxyFs.Host.Daemon;
using ProxyFs.ObjectStore;
using ProxyFs.ObjectStore.Decorators;

namespace ProxyFs.Host.Metrics;

/// <summary>What a <see cref="StatusCollector"/> reads: each part may be missing (before the mount, or for a volume that reports little).</summary>
/// <param name="Request">The mount request (URI, options, settings).</param>
/// <param name="MountPoint">The normalized mount point.</param>
/// <param name="Description">How the volume describes itself.</param>
/// <param name="FileSystem">The filesystem, for statfs.</param>
/// <param name="Fuse">The FUSE session's counters.</param>
/// <param name="Volume">The volume's own numbers.</param>
/// <param name="Metrics">The state of the metrics endpoint.</param>
public sealed record StatusInputs(
    MountRequest Request,
    string MountPoint,
    string Description,
    IFileSystem? FileSystem,
    Func<FuseStatistics?> Fuse,
    IVolumeStatusSource? Volume,
    Func<MetricsSection> Metrics);

/// <summary>
/// Builds the <see cref="StatusSnapshot"/> and the Prometheus text of one daemon from the FUSE session's counters,
/// the volume's <see cref="IVolumeStatusSource"/>, statfs and the settings; keeps rates over the last minute.
/// </summary>
public sealed class StatusCollector
{
    /// <summary>The window of the rates status shows.</summary>
    public static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(60);

    private static readonly ObjectStoreOperation[] Operations =
        [ObjectStoreOperation.Head, ObjectStoreOperation.Get, ObjectStoreOperation.Put, ObjectStoreOperation.Delete, ObjectStoreOperation.List];

    // Every opcode the protocol names, for per-opcode rates (an opcode outside the enum has counts, no rate).
    private static readonly fuse_opcode[] Opcodes = [.. Enum.GetValues<fuse_opcode>().Distinct()];
    private static readonly Dictionary<fuse_opcode, int> OpcodeIndex = Opcodes.Select((op, i) => (op, i)).ToDictionary(p => p.op, p => p.i);

    // Positions in the counter vector the rates are computed over.
    private const int FuseRequests = 0, FuseRead = 1, FuseWritten = 2, StoreRequests = 3, StoreOperation0 = 4;
    private static readonly int Opcode0 = StoreOperation0 + Operations.Length;

    private readonly StatusInputs _inputs;
    private readonly DateTimeOffset _started;
    private readonly TimeProvider _time;
    private readonly RateTracker _rates;

    public StatusCollector(StatusInputs inputs, DateTimeOffset started, TimeProvider? time = null)
    {
        _inputs = inputs;
        _started = started;
        _time = time ?? TimeProvider.System;
        _rates = new RateTracker(ReadCounters, RateWindow);
    }

    /// <summary>The proxyfs version (the informational version of the executable).</summary>
    public static string Version { get; } =
        typeof(StatusCollector).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>The name the metrics carry as their volume label.</summary>
    public string VolumeLabel => _inputs.Request.Settings.VolumeName ?? _inputs.MountPoint;

    /// <summary>Takes a reading for the rates (call every few seconds).</summary>
    public void Sample() => _rates.Sample();

    private long[] ReadCounters()
    {
        long[] c = new long[Opcode0 + Opcodes.Length];
        if (_inputs.Fuse() is { } fuse)
        {
            c[FuseRequests] = fuse.Requests;
            c[FuseRead] = fuse.BytesRead;
            c[FuseWritten] = fuse.BytesWritten;
            foreach (var (op, n) in fuse.RequestsByOpcode)
            {
                if (OpcodeIndex.TryGetValue(op, out int i))
                {
                    c[Opcode0 + i] = n;
                }
            }
        }
        if (_inputs.Volume?.GetStatus().Store is { } store)
        {
            for (int i = 0; i < Operations.Length; i++)
            {
                c[StoreOperation0 + i] = store.Get(Operations[i]).Requests;
                c[StoreRequests] += c[StoreOperation0 + i];
            }
        }
        return c;
    }

    /// <summary>The status now.</summary>
    public StatusSnapshot Snapshot() => Build().Snapshot;

    private (StatusSnapshot Snapshot, FuseStatistics? Fuse, VolumeStatus? Volume) Build()
    {
        DateTimeOffset now = _time.GetUtcNow();
        FuseStatistics? fuse = _inputs.Fuse();
        VolumeStatus? volume = _inputs.Volume?.GetStatus();
        (_, double[] rates, double seconds) = _rates.Rates();
        MountRequest r = _inputs.Request;
        var snapshot = new StatusSnapshot
        {
            Pid = Environment.ProcessId,
            Version = Version,
            Time = now,
            StartedAt = _started,
            UptimeSeconds = Math.Round((now - _started).TotalSeconds, 1),
            MountPoint = _inputs.MountPoint,
            Uri = r.Uri,
            VolumeName = r.Settings.VolumeName,
            Description = _inputs.Description,
            ConfigFile = r.Settings.ConfigFile,
            ReadOnly = r.Options.ReadOnly,
            Options = r.Options.Raw,
            Volume = new VolumeSection
            {
                Id = volume?.VolumeId?.ToString(),
                Label = volume?.Label,
                StoreUri = volume?.StoreUri,
                DirtyBytes = volume?.DirtyBytes ?? volume?.Segments?.BytesWaiting,
                OpenSegments = volume?.OpenSegments,
                LastCheckpoint = volume?.LastCheckpoint,
                LastCheckpointAgeSeconds = volume?.LastCheckpoint is { } cp ? Math.Round(Math.Max(0, (now - cp).TotalSeconds), 1) : null,
                Checkpoints = volume?.Checkpoints,
                ReplayLogBytes = volume?.ReplayLogBytes,
            },
            Space = Space(),
            Cache = Cache(volume),
            Store = Store(volume, rates, seconds),
            Segments = volume?.Segments is { } s ? new SegmentsSection
            {
                Written = s.SegmentsWritten,
                DataBytes = s.DataBytesWritten,
                BytesWaiting = s.BytesWaiting,
                UploadsInFlight = s.UploadsInFlight,
                UploadRetries = s.UploadRetries,
                UploadFailures = s.UploadFailures,
                MeanUploadMs = Math.Round(s.MeanUploadLatency.TotalMilliseconds, 2),
            } : null,
            Fuse = fuse is null ? null : new FuseSection
            {
                Requests = fuse.Requests,
                Errors = fuse.Errors,
                BytesRead = fuse.BytesRead,
                BytesWritten = fuse.BytesWritten,
                Interrupts = fuse.Interrupts,
                ReplyFailures = fuse.ReplyWriteFailures,
                ReaderHandoffs = fuse.ReaderHandoffs,
                RequestsPerSecond = Round(rates[FuseRequests]),
                ReadBytesPerSecond = Round(rates[FuseRead]),
                WrittenBytesPerSecond = Round(rates[FuseWritten]),
                RateWindowSeconds = Math.Round(seconds, 1),
                Opcodes = fuse.RequestsByOpcode.OrderBy(p => p.Key).ToDictionary(p => OpcodeName(p.Key), p => p.Value, StringComparer.Ordinal),
                OpcodeRates = fuse.RequestsByOpcode.Keys.Order()
                    .ToDictionary(OpcodeName, op => OpcodeIndex.TryGetValue(op, out int i) ? Round(rates[Opcode0 + i]) : 0, StringComparer.Ordinal),
            },
            Metrics = _inputs.Metrics(),
        };
        return (snapshot, fuse, volume);
    }

    private SpaceSection? Space()
    {
        if (_inputs.FileSystem is null || _inputs.FileSystem.StatFs(Caller.Root, IFileSystem.RootIno, out FsStats st) != 0)
        {
            return null;
        }
        long unit = st.FragmentSize != 0 ? st.FragmentSize : st.BlockSize;
        return new SpaceSection
        {
            SizeBytes = (long)st.Blocks * unit,
            UsedBytes = (long)(st.Blocks - st.BlocksFree) * unit,
            AvailableBytes = (long)st.BlocksAvailable * unit,
            Files = (long)(st.Files - st.FilesFree),
            FilesFree = (long)st.FilesFree,
        };
    }

    private CacheSection Cache(VolumeStatus? volume)
    {
        var settings = _inputs.Request.Settings;
        var c = volume?.ReadCache;
        long? hits = c?.Volumes.Sum(v => v.Hits);
        return new CacheSection
        {
            BudgetBytes = c?.BudgetBytes ?? settings.ReadCache.BudgetBytes,
            Weight = settings.ReadCacheWeight,
            UsedBytes = c?.OccupancyBytes,
            Lines = c?.Volumes.Sum(v => (long)v.Lines),
            Hits = hits,
            Misses = c?.Volumes.Sum(v => v.Misses),
            JoinedFills = c?.Volumes.Sum(v => v.JoinedFills),
            HitRatio = c is null ? null : Math.Round(c.HitRatio, 4),
            BytesServed = c?.BytesServed,
            BytesFetched = c?.BytesFetched,
            Evictions = c?.Volumes.Sum(v => v.Evictions),
            ProtectedBytes = c?.Volumes.Sum(v => v.ProtectedBytes),
            Promotions = c?.Volumes.Sum(v => v.Promotions),
            Demotions = c?.Volumes.Sum(v => v.Demotions),
            ShareBytes = c?.Volumes.Sum(v => v.ShareBytes),
            ReadAheadBytesFetched = c?.Volumes.Sum(v => v.ReadAheadBytesFetched),
            ReadAheadBytesUsed = c?.Volumes.Sum(v => v.ReadAheadBytesUsed),
            ReadAheadBytesWasted = c?.Volumes.Sum(v => v.ReadAheadBytesWasted),
            ReadAheadDropped = c?.Volumes.Sum(v => v.ReadAheadDropped),
            LineMemoryBytes = c?.LineMemory.MappedBytes,
            HugePageSlabs = c?.LineMemory.HugePageSlabs,
            SlowHugePages = c?.LineMemory.SlowHugePages,
            Disk = volume?.ReadCacheDisk is { } d ? new DiskTierSection
            {
                Bytes = d.Bytes,
                Files = d.Files,
                MaxBytes = d.MaxBytes,
                Hits = d.Hits,
                Misses = d.Misses,
                Writes = d.Writes,
                Corrupt = d.Corrupt,
                Evictions = d.Evictions,
                Errors = d.Errors,
                Dropped = d.Dropped,
                QueuedBytes = d.QueuedBytes,
            } : null,
        };
    }

    private static StoreSection? Store(VolumeStatus? volume, double[] rates, double seconds)
    {
        if (volume?.Store is not { } store)
        {
            return null;
        }
        var operations = new List<StoreOperationSection>();
        for (int i = 0; i < Operations.Length; i++)
        {
            OperationStats s = store.Get(Operations[i]);
            operations.Add(new StoreOperationSection
            {
                Operation = Operations[i].ToString().ToLowerInvariant(),
                Requests = s.Requests,
                Errors = s.Errors,
                Bytes = s.Bytes,
                RequestsPerSecond = Round(rates[StoreOperation0 + i]),
                MeanLatencyMs = Math.Round(s.MeanLatency.TotalMilliseconds, 2),
                MaxLatencyMs = Math.Round(s.MaxLatency.TotalMilliseconds, 2),
                ErrorsByKind = s.ErrorsByKind.ToDictionary(k => k.Key.ToString(), k => k.Value, StringComparer.Ordinal),
            });
        }
        return new StoreSection
        {
            Requests = operations.Sum(o => o.Requests),
            Errors = operations.Sum(o => o.Errors),
            Retries = volume.StoreRetries,
            BytesRead = operations.Single(o => o.Operation == "get").Bytes,
            BytesWritten = operations.Single(o => o.Operation == "put").Bytes,
            RequestsPerSecond = Round(rates[StoreRequests]),
            RateWindowSeconds = Math.Round(seconds, 1),
            Operations = operations,
        };
    }

    private static double Round(double v) => Math.Round(v, 2);

    internal static string OpcodeName(fuse_opcode op)
    {
        string name = op.ToString();
        return name.StartsWith("FUSE_", StringComparison.Ordinal) ? name[5..]
            : "OPCODE_" + ((uint)op).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The Prometheus text exposition of the same numbers, with the FUSE and store details.</summary>
    public string Prometheus()
    {
        (StatusSnapshot s, FuseStatistics? fuse, VolumeStatus? volume) = Build();
        var w = new PrometheusWriter(("volume", VolumeLabel));
        w.Single("proxyfs_info", "gauge", "The daemon: version, volume URI and mount point (always 1)", 1,
            ("version", s.Version), ("uri", s.Uri), ("mountpoint", s.MountPoint));
        w.Single("proxyfs_start_time_seconds", "gauge", "When the daemon started, seconds since the epoch", s.StartedAt.ToUnixTimeMilliseconds() / 1000.0);
        w.Single("proxyfs_read_only", "gauge", "1 when the volume is mounted read-only", s.ReadOnly ? 1 : 0);

        VolumeSection v = s.Volume;
        Optional(w, "proxyfs_volume_dirty_bytes", "gauge", "Bytes written that are not durable in the store yet", v.DirtyBytes);
        Optional(w, "proxyfs_volume_open_segments", "gauge", "Log segments open for appends or uploading", v.OpenSegments);
        Optional(w, "proxyfs_volume_last_checkpoint_timestamp_seconds", "gauge", "When the last checkpoint completed, seconds since the epoch",
            v.LastCheckpoint?.ToUnixTimeMilliseconds() / 1000.0);
        Optional(w, "proxyfs_volume_checkpoints_total", "counter", "Checkpoints completed since the mount", v.Checkpoints);
        Optional(w, "proxyfs_volume_replay_log_bytes", "gauge", "Bytes of the local replay log", v.ReplayLogBytes);

        if (s.Space is { } space)
        {
            w.Single("proxyfs_space_size_bytes", "gauge", "Size of the filesystem as statfs reports it", space.SizeBytes);
            w.Single("proxyfs_space_used_bytes", "gauge", "Bytes in use as statfs reports them", space.UsedBytes);
            w.Single("proxyfs_space_available_bytes", "gauge", "Bytes available to unprivileged users", space.AvailableBytes);
            w.Single("proxyfs_space_files", "gauge", "Inodes in use", space.Files);
            w.Single("proxyfs_space_files_free", "gauge", "Inodes free", space.FilesFree);
        }

        CacheSection c = s.Cache;
        w.Single("proxyfs_read_cache_budget_bytes", "gauge", "This daemon's read cache budget", c.BudgetBytes);
        Optional(w, "proxyfs_read_cache_used_bytes", "gauge", "Bytes of cached lines", c.UsedBytes);
        Optional(w, "proxyfs_read_cache_lines", "gauge", "Cached lines", c.Lines);
        Optional(w, "proxyfs_read_cache_hits_total", "counter", "Line accesses that found the line cached", c.Hits);
        Optional(w, "proxyfs_read_cache_misses_total", "counter", "Line accesses that fetched the line", c.Misses);
        Optional(w, "proxyfs_read_cache_joined_fills_total", "counter", "Line accesses that waited for a fetch already running", c.JoinedFills);
        Optional(w, "proxyfs_read_cache_served_bytes_total", "counter", "Bytes served from the cache to readers", c.BytesServed);
        Optional(w, "proxyfs_read_cache_fetched_bytes_total", "counter", "Bytes fetched from the store into the cache", c.BytesFetched);
        Optional(w, "proxyfs_read_cache_evictions_total", "counter", "Lines evicted", c.Evictions);
        Optional(w, "proxyfs_read_cache_protected_bytes", "gauge", "Bytes of lines in the protected segment (re-used after their first use)", c.ProtectedBytes);
        Optional(w, "proxyfs_read_cache_promotions_total", "counter", "Lines moved from probation to protected", c.Promotions);
        Optional(w, "proxyfs_read_cache_demotions_total", "counter", "Lines moved from protected back to probation", c.Demotions);
        Optional(w, "proxyfs_read_cache_share_bytes", "gauge", "This volume's share of the budget (by its weight)", c.ShareBytes);
        Optional(w, "proxyfs_read_cache_hit_ratio", "gauge", "Line accesses that found the line cached, over all line accesses", c.HitRatio);
        Optional(w, "proxyfs_read_ahead_fetched_bytes_total", "counter", "Bytes read ahead from the store", c.ReadAheadBytesFetched);
        Optional(w, "proxyfs_read_ahead_used_bytes_total", "counter", "Bytes of read-ahead lines a reader then used", c.ReadAheadBytesUsed);
        Optional(w, "proxyfs_read_ahead_wasted_bytes_total", "counter", "Bytes of read-ahead lines evicted unused", c.ReadAheadBytesWasted);
        Optional(w, "proxyfs_read_ahead_dropped_total", "counter", "Read-ahead fills not started (too many in flight)", c.ReadAheadDropped);
        Optional(w, "proxyfs_read_cache_line_memory_bytes", "gauge", "Bytes of line memory mapped by the daemon's read cache (the most its lines used at once)", c.LineMemoryBytes);
        Optional(w, "proxyfs_read_cache_huge_page_slabs", "gauge", "Slabs of line memory advised to use transparent huge pages", c.HugePageSlabs);
        Optional(w, "proxyfs_read_cache_slow_huge_pages_total", "counter", "Huge pages that were slow to back (each turned huge pages off for five minutes)", c.SlowHugePages);
        if (c.Disk is { } disk)
        {
            w.Single("proxyfs_read_cache_disk_bytes", "gauge", "Bytes of line files in the disk tier", disk.Bytes);
            w.Single("proxyfs_read_cache_disk_hits_total", "counter", "Lines read from the disk tier", disk.Hits);
            w.Single("proxyfs_read_cache_disk_misses_total", "counter", "Lines looked for in the disk tier and not found", disk.Misses);
            w.Single("proxyfs_read_cache_disk_corrupt_total", "counter", "Line files that failed their CRC and were fetched again", disk.Corrupt);
            w.Single("proxyfs_read_cache_disk_errors_total", "counter", "Disk errors of the disk tier (served from the store instead)", disk.Errors);
            w.Single("proxyfs_read_cache_disk_dropped_total", "counter", "Fetched lines not written to the disk tier because its write queue was full", disk.Dropped);
            w.Single("proxyfs_read_cache_disk_queued_bytes", "gauge", "Bytes of fetched lines waiting to be written to the disk tier", disk.QueuedBytes);
        }

        if (volume?.Store is { } store)
        {
            WriteStore(w, store, volume.StoreRetries);
        }
        if (s.Segments is { } seg)
        {
            w.Single("proxyfs_segments_written_total", "counter", "Log segments uploaded", seg.Written);
            w.Single("proxyfs_segments_data_bytes_total", "counter", "Data bytes in the segments uploaded", seg.DataBytes);
            w.Single("proxyfs_segments_waiting_bytes", "gauge", "Appended bytes not yet durable", seg.BytesWaiting);
            w.Single("proxyfs_segments_uploads_in_flight", "gauge", "Segment uploads running", seg.UploadsInFlight);
            w.Single("proxyfs_segments_upload_retries_total", "counter", "Segment uploads tried again", seg.UploadRetries);
            w.Single("proxyfs_segments_upload_failures_total", "counter", "Segment uploads that failed for good", seg.UploadFailures);
        }
        if (fuse is not null)
        {
            WriteFuse(w, fuse);
        }
        return w.ToString();
    }

    private static void Optional(PrometheusWriter w, string name, string type, string help, double? value)
    {
        if (value is double v)
        {
            w.Single(name, type, help, v);
        }
    }

    private static void WriteStore(PrometheusWriter w, ObjectStoreMetrics store, long? retries)
    {
        w.Family("proxyfs_store_requests_total", "counter", "Object store requests (each attempt counts)");
        w.Family("proxyfs_store_errors_total", "counter", "Object store requests that failed, by kind");
        w.Family("proxyfs_store_bytes_total", "counter", "Body bytes sent (put) and received (get)");
        w.Family("proxyfs_store_request_duration_seconds", "histogram", "Object store request latency (a get: until its body starts)");
        foreach (ObjectStoreOperation op in Operations)
        {
            OperationStats s = store.Get(op);
            var label = ("operation", op.ToString().ToLowerInvariant());
            w.Sample("proxyfs_store_requests_total", s.Requests, label);
            w.Sample("proxyfs_store_bytes_total", s.Bytes, label);
            foreach (var (kind, n) in s.ErrorsByKind.OrderBy(k => k.Key))
            {
                w.Sample("proxyfs_store_errors_total", n, label, ("kind", kind.ToString().ToLowerInvariant()));
            }
            long cumulative = 0;
            for (int i = 0; i < s.LatencyBuckets.Count; i++)
            {
                cumulative += s.LatencyBuckets[i];
                string le = i < ObjectStoreMetrics.LatencyBucketsMs.Count
                    ? (ObjectStoreMetrics.LatencyBucketsMs[i] / 1000).ToString("R", CultureInfo.InvariantCulture)
                    : "+Inf";
                w.Sample("proxyfs_store_request_duration_seconds_bucket", cumulative, label, ("le", le));
            }
            w.Sample("proxyfs_store_request_duration_seconds_sum", s.TotalLatency.TotalSeconds, label);
            w.Sample("proxyfs_store_request_duration_seconds_count", s.Requests, label);
        }
        Optional(w, "proxyfs_store_retries_total", "counter", "Object store requests tried again after a retryable failure", retries);
    }

    private static void WriteFuse(PrometheusWriter w, FuseStatistics fuse)
    {
        w.Family("proxyfs_fuse_requests_total", "counter", "FUSE requests received, by opcode");
        foreach (var (op, n) in fuse.RequestsByOpcode.OrderBy(p => p.Key))
        {
            w.Sample("proxyfs_fuse_requests_total", n, ("opcode", OpcodeName(op)));
        }
        w.Single("proxyfs_fuse_errors_total", "counter", "FUSE replies carrying an error (ENOENT of LOOKUP included)", fuse.Errors);
        w.Single("proxyfs_fuse_read_bytes_total", "counter", "Bytes returned by READ", fuse.BytesRead);
        w.Single("proxyfs_fuse_written_bytes_total", "counter", "Bytes accepted by WRITE", fuse.BytesWritten);
        w.Single("proxyfs_fuse_interrupts_total", "counter", "INTERRUPT requests received", fuse.Interrupts);
        w.Single("proxyfs_fuse_reply_failures_total", "counter", "Replies that could not be written", fuse.ReplyWriteFailures);
        w.Single("proxyfs_fuse_reader_handoffs_total", "counter", "Parked readers woken because the listening one was held by a request", fuse.ReaderHandoffs);
        w.Family("proxyfs_fuse_notifications_total", "counter", "Cache invalidation notifications sent to the kernel, by result");
        w.Sample("proxyfs_fuse_notifications_total", fuse.NotificationsSent, ("result", "sent"));
        w.Sample("proxyfs_fuse_notifications_total", fuse.NotificationsNotFound, ("result", "not_found"));
        w.Sample("proxyfs_fuse_notifications_total", fuse.NotificationsFailed, ("result", "failed"));
    }
}
