using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ProxyFs.Fuse.Native;
using ProxyFs.Fuse.Protocol;
using ProxyFs.Fuse.Transport;

namespace ProxyFs.Fuse;

/// <summary>
/// Queues notifications and sends them from its own thread, never from a request handler: sending INVAL_ENTRY takes
/// the directory's lock in the kernel, which a handler serving a request in that directory would deadlock on
/// (DESIGN §2.1). Notifications queued before INIT is answered wait for it; after the session stops they are dropped.
/// </summary>
internal sealed class FuseNotifier : IFuseNotifier
{
    /// <summary>The kernel refuses names longer than FUSE_NAME_MAX.</summary>
    private const int NameMax = 1024;

    private readonly IFuseTransport _transport;
    private readonly FuseLogger _log;
    private readonly Queue<Notification> _queue = new();
    private readonly byte[] _buffer = new byte[16 + 24 + NameMax + 8];
    private Thread? _thread;
    private bool _stopping;
    private long _sent;
    private long _notFound;
    private long _failed;

    public FuseNotifier(IFuseTransport transport, FuseLogger log)
    {
        _transport = transport;
        _log = log;
    }

    public long Sent => Interlocked.Read(ref _sent);

    public long NotFound => Interlocked.Read(ref _notFound);

    public long Failed => Interlocked.Read(ref _failed);

    public void InvalidateInode(ulong nodeId, long offset, long length) =>
        Enqueue(new Notification(fuse_notify_code.FUSE_NOTIFY_INVAL_INODE, nodeId, 0, offset, length, null));

    public void InvalidateEntry(ulong parent, ReadOnlySpan<byte> name) =>
        Enqueue(new Notification(fuse_notify_code.FUSE_NOTIFY_INVAL_ENTRY, parent, 0, 0, 0, CopyName(name)));

    public void Delete(ulong parent, ulong child, ReadOnlySpan<byte> name) =>
        Enqueue(new Notification(fuse_notify_code.FUSE_NOTIFY_DELETE, parent, child, 0, 0, CopyName(name)));

    /// <summary>Starts sending (after INIT is answered).</summary>
    public void Start()
    {
        lock (_queue)
        {
            if (_thread is not null || _stopping)
            {
                return;
            }
            _thread = new Thread(Run) { IsBackground = true, Name = "fuse-notifier" };
            _thread.Start();
        }
    }

    /// <summary>Stops sending: what is queued is dropped. Waits for the thread at most <paramref name="timeout"/>.</summary>
    public bool Stop(TimeSpan timeout)
    {
        Thread? thread;
        lock (_queue)
        {
            _stopping = true;
            _queue.Clear();
            Monitor.PulseAll(_queue);
            thread = _thread;
        }
        return thread is null || thread == Thread.CurrentThread || thread.Join(timeout);
    }

    private static byte[] CopyName(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty || name.Length > NameMax || name.Contains((byte)0) || name.Contains((byte)'/'))
        {
            throw new ArgumentException($"a FUSE notification needs a name of 1..{NameMax} bytes without NUL or '/'", nameof(name));
        }
        return name.ToArray();
    }

    private void Enqueue(in Notification notification)
    {
        lock (_queue)
        {
            if (_stopping)
            {
                return;
            }
            _queue.Enqueue(notification);
            Monitor.Pulse(_queue);
        }
    }

    private void Run()
    {
        while (true)
        {
            Notification next;
            lock (_queue)
            {
                while (_queue.Count == 0 && !_stopping)
                {
                    Monitor.Wait(_queue);
                }
                if (_stopping)
                {
                    return;
                }
                next = _queue.Dequeue();
            }
            int length = Encode(next, _buffer);
            int written = _transport.Write(_buffer.AsSpan(0, length));
            if (written == length)
            {
                Interlocked.Increment(ref _sent);
            }
            else if (written == -Libc.ENOENT)
            {
                Interlocked.Increment(ref _notFound); // nothing cached for it: nothing to invalidate
            }
            else if (written == -Libc.ENODEV)
            {
                return; // the connection ended
            }
            else
            {
                Interlocked.Increment(ref _failed);
                _log.Warning($"FUSE notification {next.Code} for node {next.Node} failed: {(written < 0 ? Libc.StrError(-written) : $"short write of {written} bytes")}");
            }
        }
    }

    /// <summary>fuse_out_header (unique 0, error = the notify code) + the notify struct + name + NUL.</summary>
    internal static int Encode(in Notification n, Span<byte> buffer)
    {
        int header = Unsafe.SizeOf<fuse_out_header>();
        int length;
        Span<byte> body = buffer[header..];
        switch (n.Code)
        {
            case fuse_notify_code.FUSE_NOTIFY_INVAL_INODE:
                var inode = new fuse_notify_inval_inode_out { ino = n.Node, off = n.Offset, len = n.Length };
                MemoryMarshal.Write(body, in inode);
                length = header + Unsafe.SizeOf<fuse_notify_inval_inode_out>();
                break;
            case fuse_notify_code.FUSE_NOTIFY_INVAL_ENTRY:
                var entry = new fuse_notify_inval_entry_out { parent = n.Node, namelen = (uint)n.Name!.Length };
                MemoryMarshal.Write(body, in entry);
                length = header + Unsafe.SizeOf<fuse_notify_inval_entry_out>();
                length += AppendName(buffer[length..], n.Name);
                break;
            case fuse_notify_code.FUSE_NOTIFY_DELETE:
                var delete = new fuse_notify_delete_out { parent = n.Node, child = n.Child, namelen = (uint)n.Name!.Length };
                MemoryMarshal.Write(body, in delete);
                length = header + Unsafe.SizeOf<fuse_notify_delete_out>();
                length += AppendName(buffer[length..], n.Name);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(n), n.Code, "unsupported notification");
        }
        var outHeader = new fuse_out_header { len = (uint)length, error = (int)n.Code, unique = 0 };
        MemoryMarshal.Write(buffer, in outHeader);
        return length;
    }

    private static int AppendName(Span<byte> destination, byte[] name)
    {
        name.CopyTo(destination);
        destination[name.Length] = 0;
        return name.Length + 1;
    }

    internal readonly record struct Notification(fuse_notify_code Code, ulong Node, ulong Child, long Offset, long Length, byte[]? Name);
}
