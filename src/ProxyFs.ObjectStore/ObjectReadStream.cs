namespace ProxyFs.ObjectStore;

/// <summary>
/// The body of a <see cref="IObjectStore.GetAsync"/>: a read-only, forward-only stream of exactly <see cref="Length"/>
/// bytes of the object <see cref="Object"/>, starting at <see cref="Offset"/>. A body that ends early fails with
/// <see cref="ObjectStoreErrorKind.Transient"/> (never a silent short read); an I/O failure of the underlying connection
/// or file is an <see cref="ObjectStoreException"/> too.
/// </summary>
public sealed class ObjectReadStream : Stream
{
    private readonly Stream _inner;
    private readonly IDisposable? _owner;
    private readonly string _location;
    private long _remaining;
    private bool _disposed;

    /// <summary>Wraps <paramref name="inner"/>, which must give at least <paramref name="length"/> bytes; disposes it and <paramref name="owner"/> with this stream.</summary>
    public ObjectReadStream(string location, ObjectInfo info, long offset, long length, Stream inner, IDisposable? owner = null)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _location = location;
        Object = info;
        Offset = offset;
        Length = length;
        _remaining = length;
        _inner = inner;
        _owner = owner;
    }

    /// <summary>The object the bytes come from (its whole size and its ETag).</summary>
    public ObjectInfo Object { get; }

    /// <summary>The offset in the object of the first byte of this stream.</summary>
    public long Offset { get; }

    /// <summary>The number of bytes this stream gives.</summary>
    public override long Length { get; }

    /// <summary>The number of bytes still to read.</summary>
    public long Remaining => _remaining;

    /// <inheritdoc />
    public override bool CanRead => !_disposed;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => false;

    /// <inheritdoc />
    public override long Position
    {
        get => Length - _remaining;
        set => throw new NotSupportedException("an object stream cannot seek; open another range");
    }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_remaining == 0 || buffer.IsEmpty)
        {
            return 0;
        }
        int n;
        try
        {
            n = _inner.Read(buffer[..(int)Math.Min(buffer.Length, _remaining)]);
        }
        catch (Exception e) when (e is IOException and not ObjectStoreException or System.Net.Http.HttpRequestException)
        {
            throw Broken(e);
        }
        return Account(n);
    }

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_remaining == 0 || buffer.IsEmpty)
        {
            return 0;
        }
        int n;
        try
        {
            n = await _inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _remaining)], cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException and not ObjectStoreException or System.Net.Http.HttpRequestException)
        {
            throw Broken(e);
        }
        return Account(n);
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or the stream ends; returns the number of bytes read.</summary>
    public async ValueTask<int> ReadFullyAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = await ReadAsync(buffer[total..], cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }
            total += n;
        }
        return total;
    }

    private int Account(int n)
    {
        if (n == 0)
        {
            throw new ObjectStoreException(ObjectStoreErrorKind.Transient, ObjectStoreOperation.Get, _location, Object.Key,
                $"short read: the body ended after {Length - _remaining} of {Length} bytes (range from offset {Offset})");
        }
        _remaining -= n;
        return n;
    }

    private ObjectStoreException Broken(Exception e) =>
        new(ObjectStoreErrorKind.Transient, ObjectStoreOperation.Get, _location, Object.Key,
            $"reading the body failed after {Length - _remaining} of {Length} bytes: {e.Message}", e);

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("an object stream cannot seek; open another range");

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _inner.Dispose();
            _owner?.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            await _inner.DisposeAsync().ConfigureAwait(false);
            _owner?.Dispose();
        }
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
