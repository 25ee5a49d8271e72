namespace ProxyFs.ObjectStore.Decorators;

/// <summary>
/// Retries the operations of any store by a <see cref="RetryPolicy"/> (retryable failures only), and
/// <list type="bullet">
/// <item>resumes a GET body that breaks mid-way from where it stopped, with a new ranged GET that must see the same
/// ETag (else the read fails: the object changed under it);</item>
/// <item>resolves a conditional put whose earlier attempt failed in a way that leaves it unknown whether it landed
/// (<see cref="ObjectStoreException.OutcomeUnknown"/>: a timeout, a connection dropped after sending) and whose retry
/// then got 412: when the object now holds exactly the bytes of this put, the earlier attempt landed and the put
/// succeeded. Otherwise a create-only put fails with 412 (only one create can land, so it was not ours, unless the
/// object was deleted in between), and a compare-and-swap fails with <see cref="ObjectStoreErrorKind.Indeterminate"/>:
/// it may have landed and been replaced since. Two writers putting identical bytes are indistinguishable; the layers
/// above put a writer identity in conditionally written objects. An error answer of the server (HTTP 5xx, such as the
/// 500 radosgw gives a conditional put that lost a race) means the put did not happen.</item>
/// <item>does not retry a put whose body is a stream that cannot seek.</item>
/// </list>
/// </summary>
public sealed class RetryingObjectStore(IObjectStore inner, RetryPolicy? policy = null) : IObjectStore
{
    private readonly RetryPolicy _policy = policy ?? RetryPolicy.Default;
    private long _retries;

    /// <summary>The store this one decorates.</summary>
    public IObjectStore Inner => inner;

    /// <inheritdoc />
    public string Location => inner.Location;

    /// <summary>Attempts made after a retryable failure (a resumed GET body counts one), since this store was made.</summary>
    public long Retries => Interlocked.Read(ref _retries);

    /// <inheritdoc />
    public Task<ObjectInfo> HeadAsync(string key, CancellationToken cancellationToken = default) =>
        RunAsync((_, ct) => inner.HeadAsync(key, ct), cancellationToken);

    /// <inheritdoc />
    public async Task<ObjectReadStream> GetAsync(string key, ByteRange range = default, CancellationToken cancellationToken = default)
    {
        var stream = await RunAsync((_, ct) => inner.GetAsync(key, range, ct), cancellationToken).ConfigureAwait(false);
        if (_policy.MaxAttempts <= 1 || stream.Length == 0)
        {
            return stream;
        }
        return new ObjectReadStream(Location, stream.Object, stream.Offset, stream.Length, new ResumingStream(this, stream));
    }

    /// <inheritdoc />
    public async Task<PutResult> PutAsync(string key, ObjectBody body, PutCondition condition = default, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (!body.IsReplayable)
        {
            return await inner.PutAsync(key, body, condition, cancellationToken).ConfigureAwait(false);
        }
        bool mayHaveLanded = false;
        return await RunAsync(async (attempt, ct) =>
        {
            try
            {
                return await inner.PutAsync(key, body, condition, ct).ConfigureAwait(false);
            }
            catch (ObjectStoreException e) when (e.IsRetryable && e.OutcomeUnknown)
            {
                mayHaveLanded = true;
                throw;
            }
            catch (ObjectStoreException e) when (e.Kind == ObjectStoreErrorKind.PreconditionFailed && mayHaveLanded)
            {
                var landed = await FindLandedAsync(key, body, ct).ConfigureAwait(false);
                if (landed is ObjectInfo info)
                {
                    return new PutResult(info.ETag, info.Size);
                }
                if (condition.Kind == PutConditionKind.IfMatch)
                {
                    throw new ObjectStoreException(ObjectStoreErrorKind.Indeterminate, ObjectStoreOperation.Put, Location, key,
                        $"an earlier attempt failed after it was sent ({condition}) and the object has changed since: it may have landed and been replaced; re-read it", e);
                }
                throw;
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    // The object's info when it holds exactly the bytes of body, else null.
    private async Task<ObjectInfo?> FindLandedAsync(string key, ObjectBody body, CancellationToken cancellationToken)
    {
        ObjectReadStream current;
        try
        {
            current = await GetAsync(key, ByteRange.All, cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectStoreException e) when (e.Kind == ObjectStoreErrorKind.NotFound)
        {
            return null;
        }
        await using (current.ConfigureAwait(false))
        {
            if (body.Length is not long length || current.Length != length)
            {
                return null;
            }
            var expected = body.OpenRead(); // not disposed: it may be the caller's stream
            byte[] a = new byte[64 << 10], b = new byte[64 << 10];
            while (true)
            {
                int n = await current.ReadFullyAsync(a, cancellationToken).ConfigureAwait(false);
                int m = await ReadFullyAsync(expected, b.AsMemory(0, n == 0 ? b.Length : n), cancellationToken).ConfigureAwait(false);
                if (n != m || !a.AsSpan(0, n).SequenceEqual(b.AsSpan(0, m)))
                {
                    return null;
                }
                if (n == 0)
                {
                    return current.Object;
                }
            }
        }
    }

    private static async Task<int> ReadFullyAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = await stream.ReadAsync(buffer[total..], cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }
            total += n;
        }
        return total;
    }

    /// <inheritdoc />
    public Task DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        RunAsync(async (_, ct) =>
        {
            await inner.DeleteAsync(key, ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<ObjectListing> ListAsync(string prefix, string? startAfter = null, int maxKeys = ObjectListing.MaxPageSize, CancellationToken cancellationToken = default) =>
        RunAsync((_, ct) => inner.ListAsync(prefix, startAfter, maxKeys, ct), cancellationToken);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => inner.DisposeAsync();

    /// <summary>The policy's run, counting each attempt after the first as a retry.</summary>
    private Task<T> RunAsync<T>(Func<int, CancellationToken, Task<T>> attempt, CancellationToken cancellationToken) =>
        _policy.RunAsync((n, ct) =>
        {
            if (n > 1)
            {
                Interlocked.Increment(ref _retries);
            }
            return attempt(n, ct);
        }, cancellationToken);

    /// <summary>A GET body that reopens the rest of its range when a read fails with a retryable error.</summary>
    private sealed class ResumingStream : Stream
    {
        private readonly RetryingObjectStore _owner;
        private readonly ObjectReadStream _first;
        private ObjectReadStream _current;
        private long _position;
        private int _failures;

        public ResumingStream(RetryingObjectStore owner, ObjectReadStream first)
        {
            _owner = owner;
            _first = first;
            _current = first;
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => _first.Length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) =>
            ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (true)
            {
                try
                {
                    int n = await _current.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                    _position += n;
                    return n;
                }
                catch (ObjectStoreException e) when (e.IsRetryable && _failures + 1 < _owner._policy.MaxAttempts)
                {
                    _failures++;
                    Interlocked.Increment(ref _owner._retries);
                    await Task.Delay(_owner._policy.DelayBefore(_failures, e.Kind == ObjectStoreErrorKind.Throttled), cancellationToken).ConfigureAwait(false);
                    await _current.DisposeAsync().ConfigureAwait(false);
                    var range = ByteRange.Of(_first.Offset + _position, _first.Length - _position);
                    var next = await _owner.RunAsync((_, ct) => _owner.Inner.GetAsync(_first.Object.Key, range, ct), cancellationToken).ConfigureAwait(false);
                    if (next.Object.ETag != _first.Object.ETag || next.Length != _first.Length - _position)
                    {
                        await next.DisposeAsync().ConfigureAwait(false);
                        throw new ObjectStoreException(ObjectStoreErrorKind.Transient, ObjectStoreOperation.Get, _owner.Location, _first.Object.Key,
                            $"the object changed while it was read (ETag {_first.Object.ETag} became {next.Object.ETag}); read it again", e);
                    }
                    _current = next;
                }
            }
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
                _current.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
