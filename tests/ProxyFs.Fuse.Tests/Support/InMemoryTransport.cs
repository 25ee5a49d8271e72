using System.Collections.Concurrent;
using ProxyFs.Fuse.Transport;

namespace ProxyFs.Fuse.Tests.Support;

/// <summary>
/// A FUSE connection in memory: tests push raw requests and take raw replies. Clones share the connection, as
/// FUSE_DEV_IOC_CLONE fds do; disposing the first channel ends the connection (readers then get ENODEV).
/// </summary>
internal sealed class InMemoryTransport : IFuseTransport
{
    private const int ENODEV = 19;
    private const int EINVAL = 22;

    private readonly Connection _connection;
    private readonly bool _isRoot;

    public InMemoryTransport()
        : this(new Connection(), isRoot: true)
    {
    }

    private InMemoryTransport(Connection connection, bool isRoot)
    {
        _connection = connection;
        _isRoot = isRoot;
    }

    public int Clones => _connection.Clones;

    /// <summary>Queues a request for the readers.</summary>
    public void Send(byte[] request) => _connection.Requests.Add(request);

    /// <summary>The next reply or notification written, or null after <paramref name="timeout"/>.</summary>
    public byte[]? TakeReply(TimeSpan timeout) => _connection.Replies.TryTake(out var reply, timeout) ? reply : null;

    /// <summary>Ends the connection as an unmount does: readers get ENODEV.</summary>
    public void End() => _connection.Requests.CompleteAdding();

    public int Read(Span<byte> buffer)
    {
        byte[] request;
        try
        {
            request = _connection.Requests.Take();
        }
        catch (InvalidOperationException)
        {
            return -ENODEV; // completed: the connection is gone
        }
        if (request.Length > buffer.Length)
        {
            return -EINVAL;
        }
        request.CopyTo(buffer);
        return request.Length;
    }

    public int Write(ReadOnlySpan<byte> message)
    {
        if (_connection.Requests.IsAddingCompleted)
        {
            return -ENODEV;
        }
        _connection.Replies.Add(message.ToArray());
        return message.Length;
    }

    public IFuseTransport? Clone()
    {
        Interlocked.Increment(ref _connection.Clones);
        return new InMemoryTransport(_connection, isRoot: false);
    }

    public void Dispose()
    {
        if (_isRoot && !_connection.Requests.IsAddingCompleted)
        {
            _connection.Requests.CompleteAdding();
        }
    }

    private sealed class Connection
    {
        public readonly BlockingCollection<byte[]> Requests = new();
        public readonly BlockingCollection<byte[]> Replies = new();
        public int Clones;
    }
}

/// <summary>
/// A channel for driving the dispatcher directly: each reply is copied into one preallocated buffer, so writing a
/// reply allocates nothing (used by the zero-allocation test).
/// </summary>
internal sealed class CaptureTransport : IFuseTransport
{
    private readonly byte[] _last = new byte[(2 << 20) + 8192];

    public int Writes { get; private set; }

    public int LastLength { get; private set; } = -1;

    /// <summary>What Write returns instead of the length, e.g. -2 (ENOENT: the request was interrupted).</summary>
    public int? WriteResult { get; set; }

    public ReadOnlySpan<byte> Last => LastLength < 0 ? [] : _last.AsSpan(0, LastLength);

    public byte[] LastCopy() => Last.ToArray();

    public void Reset()
    {
        Writes = 0;
        LastLength = -1;
    }

    public int Read(Span<byte> buffer) => throw new NotSupportedException("the dispatcher tests hand requests over directly");

    public int Write(ReadOnlySpan<byte> message)
    {
        message.CopyTo(_last);
        LastLength = message.Length;
        Writes++;
        return WriteResult ?? message.Length;
    }

    public IFuseTransport? Clone() => null;

    public void Dispose()
    {
    }
}
