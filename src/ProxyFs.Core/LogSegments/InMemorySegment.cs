using System.Buffers;
using ProxyFs.Core.Cache;

using ProxyFs.Core.Checksums;

namespace ProxyFs.Core.LogSegments;

/// <summary>
/// One segment while its bytes are in memory: the open segment appends land in, then a sealed one being uploaded (or
/// whose upload failed). The data lives in pooled chunks; readers copy from them without a lock (bytes below
/// <see cref="Length"/> never change) while holding a reference, and the chunks go back to the pool when the writer
/// has dropped the segment (durable) and the last reader is done.
/// </summary>
internal sealed class InMemorySegment : RefCounted
{
    private readonly BufferPool _pool;
    private readonly byte[]?[] _chunks;
    private readonly int _chunkShift;
    private readonly int _chunkMask;
    private long _length;
    private ReadOnlySequence<byte> _body;

    public InMemorySegment(ulong nonce, long sequence, string key, byte[] header, BufferPool pool, int maxDataLength, long openedAt)
    {
        Nonce = nonce;
        Sequence = sequence;
        Key = key;
        Header = header;
        _pool = pool;
        _chunkShift = System.Numerics.BitOperations.Log2((uint)pool.BufferSize);
        _chunkMask = pool.BufferSize - 1;
        _chunks = new byte[]?[(maxDataLength + pool.BufferSize - 1) / pool.BufferSize];
        OpenedAt = openedAt;
    }

    /// <summary>The segment's nonce.</summary>
    public ulong Nonce { get; }

    /// <summary>Order of opening within the writer (1, 2, …): durability is tracked by it.</summary>
    public long Sequence { get; }

    /// <summary>The object key.</summary>
    public string Key { get; }

    /// <summary>The encoded header (H bytes).</summary>
    public byte[] Header { get; }

    /// <summary>Timestamp (of the writer's time provider) of the first byte.</summary>
    public long OpenedAt { get; }

    /// <summary>Data bytes appended and readable.</summary>
    public long Length => Volatile.Read(ref _length);

    /// <summary>Why it was sealed; null while open.</summary>
    public FlushReason? SealReason { get; set; }

    /// <summary>The footer, once the body was built.</summary>
    public SegmentFooter? Footer { get; private set; }

    /// <summary>Appends <paramref name="data"/> (the caller holds the writer's append lock and checked the room).</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        long length = _length;
        while (!data.IsEmpty)
        {
            int index = (int)(length >> _chunkShift);
            int offset = (int)(length & _chunkMask);
            var chunk = _chunks[index] ??= _pool.Rent();
            int n = Math.Min(data.Length, chunk.Length - offset);
            data[..n].CopyTo(chunk.AsSpan(offset));
            data = data[n..];
            length += n;
        }
        Volatile.Write(ref _length, length);
    }

    /// <summary>Copies data bytes from <paramref name="offset"/> (the caller holds a reference).</summary>
    public void CopyTo(long offset, Span<byte> destination)
    {
        long length = Length;
        if (offset < 0 || offset + destination.Length > length)
        {
            throw new SegmentReadException(Nonce, Key,
                $"segment {Key} (nonce 0x{Nonce:x16}) has {length} data bytes in memory; the read of [{offset}, {offset + destination.Length}) goes past them");
        }
        while (!destination.IsEmpty)
        {
            int index = (int)(offset >> _chunkShift);
            int within = (int)(offset & _chunkMask);
            var chunk = _chunks[index]!;
            int n = Math.Min(destination.Length, chunk.Length - within);
            chunk.AsSpan(within, n).CopyTo(destination);
            destination = destination[n..];
            offset += n;
        }
    }

    /// <summary>
    /// The whole object (header, data chunks, footer and trailer) as one sequence over the chunks, without copying the
    /// data; computes the footer the first time. Call only once sealed.
    /// </summary>
    public ReadOnlySequence<byte> Body(int blockSize, uint volumeIdCrc)
    {
        if (Footer is not null)
        {
            return _body;
        }
        long length = Length;
        var crcs = new uint[SegmentFormat.BlockCount(length, blockSize)];
        int block = 0;
        long blockLeft = Math.Min(blockSize, length);
        uint crc = 0;
        long done = 0;
        for (int i = 0; done < length; i++)
        {
            var chunk = _chunks[i]!.AsSpan(0, (int)Math.Min(_chunks[i]!.Length, length - done));
            done += chunk.Length;
            while (!chunk.IsEmpty)
            {
                int n = (int)Math.Min(chunk.Length, blockLeft);
                crc = Crc32C.Append(crc, chunk[..n]);
                chunk = chunk[n..];
                blockLeft -= n;
                if (blockLeft == 0)
                {
                    crcs[block++] = crc;
                    crc = 0;
                    blockLeft = Math.Min(blockSize, length - ((long)block * blockSize));
                }
            }
        }
        var footer = new SegmentFooter(Nonce, Header.Length, length, blockSize, volumeIdCrc, crcs);
        byte[] tail = new byte[footer.EncodedLength + SegmentFormat.TrailerLength];
        footer.WriteTo(tail);

        var first = new Piece(Header);
        var last = first;
        done = 0;
        for (int i = 0; done < length; i++)
        {
            int n = (int)Math.Min(_chunks[i]!.Length, length - done);
            last = last.Append(_chunks[i].AsMemory(0, n));
            done += n;
        }
        last = last.Append(tail);
        _body = new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        Footer = footer;
        return _body;
    }

    protected override void OnReleased()
    {
        _body = default;
        for (int i = 0; i < _chunks.Length; i++)
        {
            if (_chunks[i] is { } chunk)
            {
                _pool.Return(chunk);
                _chunks[i] = null;
            }
        }
    }

    /// <summary>One piece of a <see cref="ReadOnlySequence{T}"/>.</summary>
    private sealed class Piece : ReadOnlySequenceSegment<byte>
    {
        public Piece(ReadOnlyMemory<byte> memory)
        {
            Memory = memory;
        }

        public Piece Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Piece(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
