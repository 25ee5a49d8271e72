using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace ProxyFs.ObjectStore.Decorators;

/// <summary>
/// Counters of one store, per operation: requests, errors (by kind), bytes, latency (total, maximum and a histogram).
/// <see cref="MetricsObjectStore"/> fills it; the host prints <see cref="ToString"/> or reads <see cref="Snapshot"/>.
/// The same measurements go to the <see cref="System.Diagnostics.Metrics.Meter"/> named <see cref="MeterName"/> for
/// exporters (instruments <c>proxyfs.objectstore.requests</c>, <c>.errors</c>, <c>.bytes</c>, <c>.duration</c>).
/// </summary>
public sealed class ObjectStoreMetrics
{
    /// <summary>The name of the meter.</summary>
    public const string MeterName = "ProxyFs.ObjectStore";

    /// <summary>Upper bounds of the latency histogram buckets, in milliseconds (the last bucket is unbounded).</summary>
    public static IReadOnlyList<double> LatencyBucketsMs { get; } = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> RequestsCounter = Meter.CreateCounter<long>("proxyfs.objectstore.requests");
    private static readonly Counter<long> ErrorsCounter = Meter.CreateCounter<long>("proxyfs.objectstore.errors");
    private static readonly Counter<long> BytesCounter = Meter.CreateCounter<long>("proxyfs.objectstore.bytes", "By");
    private static readonly Histogram<double> DurationHistogram = Meter.CreateHistogram<double>("proxyfs.objectstore.duration", "s");

    private readonly Counters[] _operations;

    /// <summary>New zeroed counters for the store named <paramref name="name"/> (a tag of the meter's measurements).</summary>
    public ObjectStoreMetrics(string name = "")
    {
        Name = name;
        _operations = new Counters[Enum.GetValues<ObjectStoreOperation>().Length];
        for (int i = 0; i < _operations.Length; i++)
        {
            _operations[i] = new Counters();
        }
    }

    /// <summary>The name given at creation.</summary>
    public string Name { get; }

    private sealed class Counters
    {
        public long Requests;
        public long Errors;
        public long Bytes;
        public long TotalTicks;
        public long MaxTicks;
        public readonly long[] Buckets = new long[LatencyBucketsMs.Count + 1];
        public readonly long[] ErrorKinds = new long[Enum.GetValues<ObjectStoreErrorKind>().Length];
    }

    /// <summary>Counts one request of <paramref name="operation"/> that took <paramref name="elapsed"/> and failed with <paramref name="error"/> (null: succeeded).</summary>
    public void RecordRequest(ObjectStoreOperation operation, TimeSpan elapsed, ObjectStoreErrorKind? error)
    {
        var c = _operations[(int)operation];
        Interlocked.Increment(ref c.Requests);
        long ticks = elapsed.Ticks;
        Interlocked.Add(ref c.TotalTicks, ticks);
        long max;
        while (ticks > (max = Volatile.Read(ref c.MaxTicks)) && Interlocked.CompareExchange(ref c.MaxTicks, ticks, max) != max)
        {
        }
        double ms = elapsed.TotalMilliseconds;
        int bucket = 0;
        while (bucket < LatencyBucketsMs.Count && ms > LatencyBucketsMs[bucket])
        {
            bucket++;
        }
        Interlocked.Increment(ref c.Buckets[bucket]);
        var op = new KeyValuePair<string, object?>("operation", operation.ToString());
        var store = new KeyValuePair<string, object?>("store", Name);
        RequestsCounter.Add(1, op, store);
        DurationHistogram.Record(elapsed.TotalSeconds, op, store);
        if (error is ObjectStoreErrorKind kind)
        {
            Interlocked.Increment(ref c.Errors);
            Interlocked.Increment(ref c.ErrorKinds[(int)kind]);
            ErrorsCounter.Add(1, op, store, new KeyValuePair<string, object?>("kind", kind.ToString()));
        }
    }

    /// <summary>Counts <paramref name="bytes"/> sent (put) or received (get) by <paramref name="operation"/>.</summary>
    public void RecordBytes(ObjectStoreOperation operation, long bytes)
    {
        Interlocked.Add(ref _operations[(int)operation].Bytes, bytes);
        BytesCounter.Add(bytes, new KeyValuePair<string, object?>("operation", operation.ToString()), new KeyValuePair<string, object?>("store", Name));
    }

    /// <summary>The counters of one operation now.</summary>
    public OperationStats Get(ObjectStoreOperation operation)
    {
        var c = _operations[(int)operation];
        long requests = Volatile.Read(ref c.Requests);
        var kinds = new Dictionary<ObjectStoreErrorKind, long>();
        foreach (var kind in Enum.GetValues<ObjectStoreErrorKind>())
        {
            long n = Volatile.Read(ref c.ErrorKinds[(int)kind]);
            if (n > 0)
            {
                kinds[kind] = n;
            }
        }
        return new OperationStats(operation, requests, Volatile.Read(ref c.Errors), Volatile.Read(ref c.Bytes),
            TimeSpan.FromTicks(Volatile.Read(ref c.TotalTicks)), TimeSpan.FromTicks(Volatile.Read(ref c.MaxTicks)),
            [.. c.Buckets.Select(b => Volatile.Read(ref b))], kinds);
    }

    /// <summary>The counters of every operation now.</summary>
    public IReadOnlyList<OperationStats> Snapshot() =>
        [.. Enum.GetValues<ObjectStoreOperation>().Where(o => o != ObjectStoreOperation.Open).Select(Get)];

    /// <summary>A table: one line per operation with requests, errors, bytes, mean, p50, p99 and maximum latency.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"{"op",-7}{"requests",10}{"errors",8}{"MiB",10}{"mean ms",9}{"p50 ms",8}{"p99 ms",8}{"max ms",9}");
        foreach (var s in Snapshot())
        {
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"{s.Operation.ToString().ToLowerInvariant(),-7}{s.Requests,10}{s.Errors,8}{s.Bytes / 1048576.0,10:0.0}{s.MeanLatency.TotalMilliseconds,9:0.0}{s.LatencyQuantileMs(0.5),8:0}{s.LatencyQuantileMs(0.99),8:0}{s.MaxLatency.TotalMilliseconds,9:0.0}");
        }
        return sb.ToString();
    }
}

/// <summary>The counters of one operation.</summary>
/// <param name="Operation">The operation.</param>
/// <param name="Requests">Requests made (each retry is a request).</param>
/// <param name="Errors">Requests that failed.</param>
/// <param name="Bytes">Body bytes sent (put) or received (get).</param>
/// <param name="TotalLatency">Sum of the latencies (for a get: until the body stream opened).</param>
/// <param name="MaxLatency">The longest latency.</param>
/// <param name="LatencyBuckets">Counts per bucket of <see cref="ObjectStoreMetrics.LatencyBucketsMs"/>, then the unbounded bucket.</param>
/// <param name="ErrorsByKind">Failed requests by kind.</param>
public sealed record OperationStats(
    ObjectStoreOperation Operation, long Requests, long Errors, long Bytes, TimeSpan TotalLatency, TimeSpan MaxLatency,
    IReadOnlyList<long> LatencyBuckets, IReadOnlyDictionary<ObjectStoreErrorKind, long> ErrorsByKind)
{
    /// <summary>The mean latency.</summary>
    public TimeSpan MeanLatency => Requests == 0 ? TimeSpan.Zero : TimeSpan.FromTicks(TotalLatency.Ticks / Requests);

    /// <summary>The upper bound of the bucket holding quantile <paramref name="q"/> (0..1), in ms; the maximum for the last bucket.</summary>
    public double LatencyQuantileMs(double q)
    {
        long total = LatencyBuckets.Sum();
        if (total == 0)
        {
            return 0;
        }
        long rank = (long)Math.Ceiling(q * total);
        long seen = 0;
        for (int i = 0; i < LatencyBuckets.Count; i++)
        {
            seen += LatencyBuckets[i];
            if (seen >= rank)
            {
                return i < ObjectStoreMetrics.LatencyBucketsMs.Count ? ObjectStoreMetrics.LatencyBucketsMs[i] : MaxLatency.TotalMilliseconds;
            }
        }
        return MaxLatency.TotalMilliseconds;
    }
}

/// <summary>Counts every request of the store it decorates into an <see cref="ObjectStoreMetrics"/>.</summary>
public sealed class MetricsObjectStore(IObjectStore inner, ObjectStoreMetrics? metrics = null) : IObjectStore
{
    /// <summary>The counters.</summary>
    public ObjectStoreMetrics Metrics { get; } = metrics ?? new ObjectStoreMetrics(inner.Location);

    /// <summary>The store this one decorates.</summary>
    public IObjectStore Inner => inner;

    /// <inheritdoc />
    public string Location => inner.Location;

    /// <inheritdoc />
    public Task<ObjectInfo> HeadAsync(string key, CancellationToken cancellationToken = default) =>
        MeasureAsync(ObjectStoreOperation.Head, () => inner.HeadAsync(key, cancellationToken));

    /// <inheritdoc />
    public async Task<ObjectReadStream> GetAsync(string key, ByteRange range = default, CancellationToken cancellationToken = default)
    {
        var stream = await MeasureAsync(ObjectStoreOperation.Get, () => inner.GetAsync(key, range, cancellationToken)).ConfigureAwait(false);
        return new ObjectReadStream(Location, stream.Object, stream.Offset, stream.Length, new CountingStream(stream, Metrics));
    }

    /// <inheritdoc />
    public async Task<PutResult> PutAsync(string key, ObjectBody body, PutCondition condition = default, CancellationToken cancellationToken = default)
    {
        var result = await MeasureAsync(ObjectStoreOperation.Put, () => inner.PutAsync(key, body, condition, cancellationToken)).ConfigureAwait(false);
        Metrics.RecordBytes(ObjectStoreOperation.Put, result.Size);
        return result;
    }

    /// <inheritdoc />
    public Task DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        MeasureAsync(ObjectStoreOperation.Delete, async () =>
        {
            await inner.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
            return true;
        });

    /// <inheritdoc />
    public Task<ObjectListing> ListAsync(string prefix, string? startAfter = null, int maxKeys = ObjectListing.MaxPageSize, CancellationToken cancellationToken = default) =>
        MeasureAsync(ObjectStoreOperation.List, () => inner.ListAsync(prefix, startAfter, maxKeys, cancellationToken));

    /// <inheritdoc />
    public ValueTask DisposeAsync() => inner.DisposeAsync();

    private async Task<T> MeasureAsync<T>(ObjectStoreOperation operation, Func<Task<T>> call)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            T result = await call().ConfigureAwait(false);
            Metrics.RecordRequest(operation, Stopwatch.GetElapsedTime(start), null);
            return result;
        }
        catch (ObjectStoreException e)
        {
            Metrics.RecordRequest(operation, Stopwatch.GetElapsedTime(start), e.Kind);
            throw;
        }
    }

    private sealed class CountingStream(ObjectReadStream inner, ObjectStoreMetrics metrics) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => inner.Length;

        public override long Position
        {
            get => inner.Position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Count(int n)
        {
            metrics.RecordBytes(ObjectStoreOperation.Get, n);
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
