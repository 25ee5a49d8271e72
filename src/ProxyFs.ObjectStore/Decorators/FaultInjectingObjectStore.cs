namespace ProxyFs.ObjectStore.Decorators;

/// <summary>
/// What <see cref="FaultInjectingObjectStore"/> does to the requests that go through it. Thread-safe; change it while
/// the store is in use. Random faults come from a seeded generator, so a failing run can be replayed by its seed.
/// </summary>
public sealed class FaultPlan(int seed = 0)
{
    private readonly Lock _lock = new();
    private readonly Random _random = new(seed);
    private readonly double[] _errorRates = new double[Enum.GetValues<ObjectStoreOperation>().Length];
    private readonly ObjectStoreErrorKind[] _errorKinds = new ObjectStoreErrorKind[Enum.GetValues<ObjectStoreOperation>().Length];
    private readonly TimeSpan[] _latencies = new TimeSpan[Enum.GetValues<ObjectStoreOperation>().Length];
    private readonly Queue<ObjectStoreErrorKind>[] _scripted = [.. Enum.GetValues<ObjectStoreOperation>().Select(_ => new Queue<ObjectStoreErrorKind>())];
    private readonly List<(DateTimeOffset Start, DateTimeOffset End)> _outages = [];
    private int _landedFailuresScripted;
    private long _injected;

    /// <summary>The seed of the random faults.</summary>
    public int Seed => seed;

    /// <summary>Probability (0..1) that a GET body ends early (the reader sees a Transient short read).</summary>
    public double ShortReadRate { get; set; }

    /// <summary>Probability (0..1) that a GET body has some bytes changed (a torn read that only checksums above can catch).</summary>
    public double TornReadRate { get; set; }

    /// <summary>Probability (0..1) that a put lands and then fails with Transient, as when the connection drops before the answer.</summary>
    public double LandedPutFailureRate { get; set; }

    /// <summary>While true, every request fails with Transient ("connection refused"), as in an outage.</summary>
    public bool Down { get; set; }

    /// <summary>How many faults were injected so far.</summary>
    public long InjectedFaults => Interlocked.Read(ref _injected);

    /// <summary>Every request of <paramref name="operation"/> fails with probability <paramref name="rate"/>, with <paramref name="kind"/>.</summary>
    public FaultPlan SetErrorRate(ObjectStoreOperation operation, double rate, ObjectStoreErrorKind kind = ObjectStoreErrorKind.Transient)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rate, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(rate, 1);
        lock (_lock)
        {
            _errorRates[(int)operation] = rate;
            _errorKinds[(int)operation] = kind;
        }
        return this;
    }

    /// <summary>The same error rate for every operation.</summary>
    public FaultPlan SetErrorRate(double rate, ObjectStoreErrorKind kind = ObjectStoreErrorKind.Transient)
    {
        foreach (var op in Enum.GetValues<ObjectStoreOperation>())
        {
            SetErrorRate(op, rate, kind);
        }
        return this;
    }

    /// <summary>Every request of <paramref name="operation"/> waits <paramref name="latency"/> first.</summary>
    public FaultPlan SetLatency(ObjectStoreOperation operation, TimeSpan latency)
    {
        lock (_lock)
        {
            _latencies[(int)operation] = latency;
        }
        return this;
    }

    /// <summary>The next <paramref name="count"/> requests of <paramref name="operation"/> fail with <paramref name="kind"/>, whatever the rates.</summary>
    public FaultPlan FailNext(ObjectStoreOperation operation, int count = 1, ObjectStoreErrorKind kind = ObjectStoreErrorKind.Transient)
    {
        lock (_lock)
        {
            for (int i = 0; i < count; i++)
            {
                _scripted[(int)operation].Enqueue(kind);
            }
        }
        return this;
    }

    /// <summary>The next <paramref name="count"/> puts land and then fail with Transient.</summary>
    public FaultPlan FailNextPutsAfterLanding(int count = 1)
    {
        lock (_lock)
        {
            _landedFailuresScripted += count;
        }
        return this;
    }

    /// <summary>Every request fails with Transient from <paramref name="start"/> for <paramref name="duration"/>.</summary>
    public FaultPlan AddOutage(DateTimeOffset start, TimeSpan duration)
    {
        lock (_lock)
        {
            _outages.Add((start, start + duration));
        }
        return this;
    }

    internal TimeSpan Latency(ObjectStoreOperation operation)
    {
        lock (_lock)
        {
            return _latencies[(int)operation];
        }
    }

    internal ObjectStoreErrorKind? NextError(ObjectStoreOperation operation, out string why)
    {
        lock (_lock)
        {
            var now = DateTimeOffset.UtcNow;
            if (Down || _outages.Any(o => now >= o.Start && now < o.End))
            {
                why = "injected outage: connection refused";
                return Injected(ObjectStoreErrorKind.Transient);
            }
            if (_scripted[(int)operation].TryDequeue(out var kind))
            {
                why = $"injected {kind} (scripted)";
                return Injected(kind);
            }
            if (_errorRates[(int)operation] > 0 && _random.NextDouble() < _errorRates[(int)operation])
            {
                why = $"injected {_errorKinds[(int)operation]} (rate {_errorRates[(int)operation]})";
                return Injected(_errorKinds[(int)operation]);
            }
        }
        why = "";
        return null;
    }

    internal bool NextPutFailsAfterLanding()
    {
        lock (_lock)
        {
            if (_landedFailuresScripted > 0)
            {
                _landedFailuresScripted--;
                return Injected(true);
            }
            return LandedPutFailureRate > 0 && _random.NextDouble() < LandedPutFailureRate && Injected(true);
        }
    }

    // For a body of `length` bytes: where to cut it (short read) or corrupt it (torn read), or -1.
    internal (long CutAt, long TearAt) NextReadFault(long length)
    {
        lock (_lock)
        {
            long cut = -1, tear = -1;
            if (length > 0 && ShortReadRate > 0 && _random.NextDouble() < ShortReadRate)
            {
                cut = _random.NextInt64(0, length);
                Injected(true);
            }
            else if (length > 0 && TornReadRate > 0 && _random.NextDouble() < TornReadRate)
            {
                tear = _random.NextInt64(0, length);
                Injected(true);
            }
            return (cut, tear);
        }
    }

    private T Injected<T>(T value)
    {
        Interlocked.Increment(ref _injected);
        return value;
    }
}

/// <summary>
/// A store that fails on purpose, as a <see cref="FaultPlan"/> says: errors per operation (by rate or scripted), added
/// latency, outages, short and torn GET bodies, and puts that land but report a failure. Errors are injected before the
/// request reaches the inner store (except the landed-put failures), so a failed request changed nothing.
/// </summary>
public sealed class FaultInjectingObjectStore(IObjectStore inner, FaultPlan plan) : IObjectStore
{
    /// <summary>The plan, to change while in use.</summary>
    public FaultPlan Plan => plan;

    /// <summary>The store this one decorates.</summary>
    public IObjectStore Inner => inner;

    /// <inheritdoc />
    public string Location => inner.Location;

    /// <inheritdoc />
    public async Task<ObjectInfo> HeadAsync(string key, CancellationToken cancellationToken = default)
    {
        await BeforeAsync(ObjectStoreOperation.Head, key, cancellationToken).ConfigureAwait(false);
        return await inner.HeadAsync(key, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<ObjectReadStream> GetAsync(string key, ByteRange range = default, CancellationToken cancellationToken = default)
    {
        await BeforeAsync(ObjectStoreOperation.Get, key, cancellationToken).ConfigureAwait(false);
        var stream = await inner.GetAsync(key, range, cancellationToken).ConfigureAwait(false);
        var (cutAt, tearAt) = plan.NextReadFault(stream.Length);
        if (cutAt < 0 && tearAt < 0)
        {
            return stream;
        }
        return new ObjectReadStream(Location, stream.Object, stream.Offset, stream.Length, new FaultyBodyStream(stream, cutAt, tearAt));
    }

    /// <inheritdoc />
    public async Task<PutResult> PutAsync(string key, ObjectBody body, PutCondition condition = default, CancellationToken cancellationToken = default)
    {
        await BeforeAsync(ObjectStoreOperation.Put, key, cancellationToken).ConfigureAwait(false);
        var result = await inner.PutAsync(key, body, condition, cancellationToken).ConfigureAwait(false);
        if (plan.NextPutFailsAfterLanding())
        {
            throw new ObjectStoreException(ObjectStoreErrorKind.Transient, ObjectStoreOperation.Put, Location, key,
                "injected: the connection dropped after the put landed (the caller cannot know it did)")
            { OutcomeUnknown = true };
        }
        return result;
    }

    /// <inheritdoc />
    public async Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        await BeforeAsync(ObjectStoreOperation.Delete, key, cancellationToken).ConfigureAwait(false);
        await inner.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<ObjectListing> ListAsync(string prefix, string? startAfter = null, int maxKeys = ObjectListing.MaxPageSize, CancellationToken cancellationToken = default)
    {
        await BeforeAsync(ObjectStoreOperation.List, prefix, cancellationToken).ConfigureAwait(false);
        return await inner.ListAsync(prefix, startAfter, maxKeys, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => inner.DisposeAsync();

    private async Task BeforeAsync(ObjectStoreOperation operation, string key, CancellationToken cancellationToken)
    {
        var latency = plan.Latency(operation);
        if (latency > TimeSpan.Zero)
        {
            await Task.Delay(latency, cancellationToken).ConfigureAwait(false);
        }
        if (plan.NextError(operation, out string why) is ObjectStoreErrorKind kind)
        {
            int status = kind switch
            {
                ObjectStoreErrorKind.NotFound => 404,
                ObjectStoreErrorKind.PreconditionFailed => 412,
                ObjectStoreErrorKind.Throttled => 503,
                ObjectStoreErrorKind.AuthFailed => 403,
                ObjectStoreErrorKind.Permanent => 400,
                _ => 500,
            };
            throw new ObjectStoreException(kind, operation, Location, key, why) { HttpStatus = status };
        }
    }

    /// <summary>Ends early at <c>cutAt</c>, or flips up to 512 bytes from <c>tearAt</c>.</summary>
    private sealed class FaultyBodyStream(ObjectReadStream inner, long cutAt, long tearAt) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => inner.Length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) =>
            ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (cutAt >= 0)
            {
                if (_position >= cutAt)
                {
                    return 0;
                }
                buffer = buffer[..(int)Math.Min(buffer.Length, cutAt - _position)];
            }
            int n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (tearAt >= 0)
            {
                long from = Math.Max(tearAt, _position), to = Math.Min(tearAt + 512, _position + n);
                for (long i = from; i < to; i++)
                {
                    buffer.Span[(int)(i - _position)] ^= 0x5A;
                }
            }
            _position += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

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
