using System.Security.Cryptography;

namespace ProxyFs.ObjectStore.Tests.Conformance;

/// <summary>A stream that cannot seek and does not know its length.</summary>
public sealed class NonSeekableStream(byte[] data) : Stream
{
    private int _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        // Short reads on purpose, as a network stream gives them.
        int n = Math.Min(Math.Min(count, 65_537), data.Length - _position);
        data.AsSpan(_position, n).CopyTo(buffer.AsSpan(offset));
        _position += n;
        return n;
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>A non-seekable stream of a deterministic pattern of any length, without holding it in memory.</summary>
public sealed class PatternStream(long length) : Stream
{
    private long _position;

    public static byte At(long position) => (byte)((position * 2654435761L) >> 13);

    public static byte[] Bytes(long offset, int count)
    {
        byte[] b = new byte[count];
        for (int i = 0; i < count; i++)
        {
            b[i] = At(offset + i);
        }
        return b;
    }

    public static byte[] Sha256(long length)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var s = new PatternStream(length);
        byte[] buffer = new byte[1 << 20];
        int n;
        while ((n = s.Read(buffer, 0, buffer.Length)) > 0)
        {
            sha.AppendData(buffer, 0, n);
        }
        return sha.GetHashAndReset();
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        int n = (int)Math.Min(count, length - _position);
        for (int i = 0; i < n; i++)
        {
            buffer[offset + i] = At(_position + i);
        }
        _position += n;
        return n;
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
