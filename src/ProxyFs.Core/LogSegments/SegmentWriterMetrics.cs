using System.Diagnostics.Metrics;
using System.Globalization;

namespace ProxyFs.Core.LogSegments;

/// <summary>
/// Counters of one <see cref="SegmentWriter"/>: segments and bytes uploaded, why segments were flushed, upload latency,
/// retries and failures, bytes waiting to be durable, and how often appends waited for room. The same numbers go to the
/// meter <see cref="MeterName"/> (tagged with the volume name) for exporters.
/// </summary>
public sealed class SegmentWriterMetrics
{
    /// <summary>The name of the <see cref="Meter"/>.</summary>
    public const string MeterName = "ProxyFs.LogSegments";

    /// <summary>Upper bounds of the upload latency histogram buckets in milliseconds (the last bucket is unbounded).</summary>
    public static IReadOnlyList<double> LatencyBucketsMs { get; } = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> SegmentsCounter = Meter.CreateCounter<long>("proxyfs.segments.written");
    private static readonly Counter<long> BytesCounter = Meter.CreateCounter<long>("proxyfs.segments.bytes", "By");
    private static readonly Histogram<double> UploadHistogram = Meter.CreateHistogram<double>("proxyfs.segments.upload.duration", "s");
    private static readonly Counter<long> BackpressureCounter = Meter.CreateCounter<long>("proxyfs.segments.backpressure.waits");

    private readonly KeyValuePair<string, object?> _tag;
    private readonly long[] _flushes = new long[Enum.GetValues<FlushReason>().Length];
    private readonly long[] _latencyBuckets = new long[LatencyBucketsMs.Count + 1];
    private long _segments;
    private long _dataBytes;
    private long _objectBytes;
    private long _uploadTicks;
    private long _maxUploadTicks;
    private long _retries;
    private long _failures;
    private long _backpressureWaits;
    private long _backpressureTicks;
    private long _memoryReadBytes;
    private Func<long>? _waitingBytes;
    private Func<int>? _uploadsInFlight;

    /// <summary>Counters for the volume named <paramref name="name"/>.</summary>
    public SegmentWriterMetrics(string name = "")
    {
        Name = name;
        _tag = new("volume", name);
    }

    /// <summary>The volume's name.</summary>
    public string Name { get; }

    internal void Bind(Func<long> waitingBytes, Func<int> uploadsInFlight)
    {
        _waitingBytes = waitingBytes;
        _uploadsInFlight = uploadsInFlight;
    }

    internal void RecordFlush(FlushReason reason) => Interlocked.Increment(ref _flushes[(int)reason]);

    internal void RecordUpload(long dataBytes, long objectBytes, TimeSpan elapsed)
    {
        Interlocked.Increment(ref _segments);
        Interlocked.Add(ref _dataBytes, dataBytes);
        Interlocked.Add(ref _objectBytes, objectBytes);
        long ticks = elapsed.Ticks;
        Interlocked.Add(ref _uploadTicks, ticks);
        long max = Volatile.Read(ref _maxUploadTicks);
        while (ticks > max)
        {
            long seen = Interlocked.CompareExchange(ref _maxUploadTicks, ticks, max);
            if (seen == max)
            {
                break;
            }
            max = seen;
        }
        double ms = elapsed.TotalMilliseconds;
        int bucket = 0;
        while (bucket < LatencyBucketsMs.Count && ms > LatencyBucketsMs[bucket])
        {
            bucket++;
        }
        Interlocked.Increment(ref _latencyBuckets[bucket]);
        SegmentsCounter.Add(1, _tag);
        BytesCounter.Add(objectBytes, _tag);
        UploadHistogram.Record(elapsed.TotalSeconds, _tag);
    }

    internal void RecordRetry() => Interlocked.Increment(ref _retries);

    internal void RecordFailure() => Interlocked.Increment(ref _failures);

    internal void RecordBackpressure(TimeSpan waited)
    {
        Interlocked.Increment(ref _backpressureWaits);
        Interlocked.Add(ref _backpressureTicks, waited.Ticks);
        BackpressureCounter.Add(1, _tag);
    }

    internal void RecordMemoryRead(int bytes) => Interlocked.Add(ref _memoryReadBytes, bytes);

    /// <summary>The numbers now.</summary>
    public SegmentWriterMetricsSnapshot Snapshot()
    {
        long segments = Interlocked.Read(ref _segments);
        return new SegmentWriterMetricsSnapshot
        {
            SegmentsWritten = segments,
            DataBytesWritten = Interlocked.Read(ref _dataBytes),
            ObjectBytesWritten = Interlocked.Read(ref _objectBytes),
            FlushesBySize = Interlocked.Read(ref _flushes[(int)FlushReason.Size]),
            FlushesByTime = Interlocked.Read(ref _flushes[(int)FlushReason.Time]),
            FlushesExplicit = Interlocked.Read(ref _flushes[(int)FlushReason.Explicit]),
            FlushesAtShutdown = Interlocked.Read(ref _flushes[(int)FlushReason.Shutdown]),
            MeanUploadLatency = segments == 0 ? TimeSpan.Zero : TimeSpan.FromTicks(Interlocked.Read(ref _uploadTicks) / segments),
            MaxUploadLatency = TimeSpan.FromTicks(Interlocked.Read(ref _maxUploadTicks)),
            UploadLatencyBuckets = [.. _latencyBuckets.Select((_, i) => Interlocked.Read(ref _latencyBuckets[i]))],
            UploadRetries = Interlocked.Read(ref _retries),
            UploadFailures = Interlocked.Read(ref _failures),
            BytesWaiting = _waitingBytes?.Invoke() ?? 0,
            UploadsInFlight = _uploadsInFlight?.Invoke() ?? 0,
            BackpressureWaits = Interlocked.Read(ref _backpressureWaits),
            BackpressureWaitTime = TimeSpan.FromTicks(Interlocked.Read(ref _backpressureTicks)),
            BytesReadFromMemory = Interlocked.Read(ref _memoryReadBytes),
        };
    }

    /// <inheritdoc />
    public override string ToString() => Snapshot().ToString();
}

/// <summary>A copy of the <see cref="SegmentWriterMetrics"/> at one moment.</summary>
public sealed record SegmentWriterMetricsSnapshot
{
    /// <summary>Segments uploaded.</summary>
    public long SegmentsWritten { get; init; }

    /// <summary>Data bytes in the segments uploaded.</summary>
    public long DataBytesWritten { get; init; }

    /// <summary>Object bytes uploaded (data, headers, footers).</summary>
    public long ObjectBytesWritten { get; init; }

    /// <summary>Segments sealed because they were full.</summary>
    public long FlushesBySize { get; init; }

    /// <summary>Segments sealed because MaxFlushTime passed.</summary>
    public long FlushesByTime { get; init; }

    /// <summary>Segments sealed by FlushAsync.</summary>
    public long FlushesExplicit { get; init; }

    /// <summary>Segments sealed by closing the writer.</summary>
    public long FlushesAtShutdown { get; init; }

    /// <summary>Mean time of a successful upload (all its attempts).</summary>
    public TimeSpan MeanUploadLatency { get; init; }

    /// <summary>Longest successful upload.</summary>
    public TimeSpan MaxUploadLatency { get; init; }

    /// <summary>Uploads per latency bucket (<see cref="SegmentWriterMetrics.LatencyBucketsMs"/>, then the rest).</summary>
    public IReadOnlyList<long> UploadLatencyBuckets { get; init; } = [];

    /// <summary>Upload attempts that failed and were tried again.</summary>
    public long UploadRetries { get; init; }

    /// <summary>Uploads that failed for good.</summary>
    public long UploadFailures { get; init; }

    /// <summary>Appended bytes not yet durable.</summary>
    public long BytesWaiting { get; init; }

    /// <summary>Uploads running now.</summary>
    public int UploadsInFlight { get; init; }

    /// <summary>Appends that had to wait for room.</summary>
    public long BackpressureWaits { get; init; }

    /// <summary>Total time appends waited for room.</summary>
    public TimeSpan BackpressureWaitTime { get; init; }

    /// <summary>Bytes read from segments still in memory.</summary>
    public long BytesReadFromMemory { get; init; }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"segments {SegmentsWritten} ({DataBytesWritten} data bytes, {ObjectBytesWritten} object bytes); flushes size {FlushesBySize}, time {FlushesByTime}, explicit {FlushesExplicit}, shutdown {FlushesAtShutdown}; " +
        $"upload mean {MeanUploadLatency.TotalMilliseconds:F1} ms, max {MaxUploadLatency.TotalMilliseconds:F1} ms, retries {UploadRetries}, failures {UploadFailures}; " +
        $"waiting {BytesWaiting} bytes, {UploadsInFlight} uploads in flight; backpressure waits {BackpressureWaits} ({BackpressureWaitTime.TotalMilliseconds:F0} ms); read from memory {BytesReadFromMemory} bytes");
}
