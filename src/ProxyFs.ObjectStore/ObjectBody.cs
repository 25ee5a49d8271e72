using System.Buffers;

namespace ProxyFs.ObjectStore;

/// <summary>
/// The bytes of a put: memory (an array, a <see cref="ReadOnlyMemory{T}"/>, or a <see cref="ReadOnlySequence{T}"/> of
/// pooled chunks, as a segment writer builds them) or a stream. Memory bodies are sent without copying and can be
/// replayed by a retry; a stream can be replayed only when it can seek.
/// </summary>
public sealed class ObjectBody
{
    private readonly ReadOnlySequence<byte> _sequence;
    private readonly Stream? _stream;
    private readonly long _streamStart;
    private readonly long? _length;
    private bool _streamConsumed;

    private ObjectBody(ReadOnlySequence<byte> sequence)
    {
        _sequence = sequence;
        _length = sequence.Length;
    }

    private ObjectBody(Stream stream, long? length)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead)
        {
            throw new ArgumentException("the body stream must be readable", nameof(stream));
        }
        if (length is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "the length must not be negative");
        }
        _stream = stream;
        if (stream.CanSeek)
        {
            _streamStart = stream.Position;
            long available = stream.Length - _streamStart;
            if (length > available)
            {
                throw new ArgumentException($"the body stream has {available} bytes left, fewer than the length {length}", nameof(length));
            }
            _length = length ?? available;
        }
        else
        {
            _length = length;
        }
    }

    /// <summary>The empty body.</summary>
    public static ObjectBody Empty { get; } = new(ReadOnlySequence<byte>.Empty);

    /// <summary>The number of bytes, or null for a non-seekable stream of unknown length.</summary>
    public long? Length => _length;

    /// <summary>True when the body is in memory.</summary>
    public bool IsMemory => _stream is null;

    /// <summary>True when the body can be sent again (memory, or a seekable stream).</summary>
    public bool IsReplayable => _stream is null || _stream.CanSeek;

    /// <summary>The bytes of a memory body.</summary>
    public ReadOnlySequence<byte> Memory => _stream is null ? _sequence : throw new InvalidOperationException("the body is a stream, not memory");

    /// <summary>A body of <paramref name="data"/> (not copied: do not change it until the put completes).</summary>
    public static ObjectBody FromMemory(ReadOnlyMemory<byte> data) => new(new ReadOnlySequence<byte>(data));

    /// <summary>A body of <paramref name="data"/>, e.g. a chain of pooled chunks (not copied).</summary>
    public static ObjectBody FromSequence(ReadOnlySequence<byte> data) => new(data);

    /// <summary>
    /// A body read from <paramref name="stream"/>, from its current position: <paramref name="length"/> bytes, or to its
    /// end when null. The stream is not disposed.
    /// </summary>
    public static ObjectBody FromStream(Stream stream, long? length = null) => new(stream, length);

    /// <summary>A body of <paramref name="data"/> (not copied).</summary>
    public static implicit operator ObjectBody(byte[] data) => FromMemory(data);

    /// <summary>A body of <paramref name="data"/> (not copied).</summary>
    public static implicit operator ObjectBody(ReadOnlyMemory<byte> data) => FromMemory(data);

    /// <summary>
    /// A stream of the body from its first byte. For a memory body it is a new seekable stream each time; for a stream
    /// body it is the stream itself, rewound when it can seek, and it may be opened only once otherwise.
    /// </summary>
    public Stream OpenRead()
    {
        if (_stream is null)
        {
            return new SequenceStream(_sequence);
        }
        if (_stream.CanSeek)
        {
            _stream.Position = _streamStart;
            return _length is long n && n < _stream.Length - _streamStart ? new BoundedStream(_stream, n) : _stream;
        }
        if (_streamConsumed)
        {
            throw new InvalidOperationException("the body is a non-seekable stream that was already read; it cannot be sent again");
        }
        _streamConsumed = true;
        return _length is long m ? new BoundedStream(_stream, m) : _stream;
    }

    /// <summary>A read-only, seekable stream over a <see cref="ReadOnlySequence{T}"/> (no copy).</summary>
    internal sealed class SequenceStream(ReadOnlySequence<byte> sequence) : Stream
    {
        private SequencePosition _position = sequence.Start;
        private long _offset;

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => sequence.Length;

        public override long Position
        {
            get => _offset;
            set
            {
                ArgumentOutOfRangeException.ThrowIfNegative(value);
                _offset = Math.Min(value, sequence.Length);
                _position = sequence.GetPosition(_offset);
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var rest = sequence.Slice(_position);
            int n = (int)Math.Min(buffer.Length, rest.Length);
            rest.Slice(0, n).CopyTo(buffer);
            _position = sequence.GetPosition(n, _position);
            _offset += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override long Seek(long offset, SeekOrigin origin)
        {
            Position = origin switch
            {
                SeekOrigin.Begin => offset,
                SeekOrigin.Current => _offset + offset,
                _ => sequence.Length + offset,
            };
            return _offset;
        }

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>The first <c>length</c> bytes of another stream (which is not disposed).</summary>
    internal sealed class BoundedStream(Stream inner, long length) : Stream
    {
        private readonly long _length = length;
        private long _remaining = length;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => _length;

        public override long Position
        {
            get => _length - _remaining;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_remaining == 0)
            {
                return 0;
            }
            int n = inner.Read(buffer[..(int)Math.Min(buffer.Length, _remaining)]);
            _remaining -= n;
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_remaining == 0)
            {
                return 0;
            }
            int n = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _remaining)], cancellationToken).ConfigureAwait(false);
            _remaining -= n;
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
    }
}
