using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ProxyFs.Fuse.Protocol;

namespace ProxyFs.Fuse.Dispatch;

/// <summary>
/// One request being served: its header, its arguments (consumed front to back by the handler) and the reply body
/// being built in the worker's buffer. Lives on the stack; nothing of it is allocated.
/// </summary>
internal ref struct FuseRequest
{
    /// <summary>The request arguments not yet consumed.</summary>
    public ReadOnlySpan<byte> Payload;

    /// <summary>Where the reply body goes: the buffer after the reply's fuse_out_header.</summary>
    public readonly Span<byte> Reply;

    /// <summary>Bytes of <see cref="Reply"/> that form the reply body.</summary>
    public int ReplyLength;

    public readonly fuse_in_header Header;

    public readonly FuseWorker Worker;

    public FuseRequest(FuseWorker worker, in fuse_in_header header, ReadOnlySpan<byte> payload, Span<byte> reply)
    {
        Worker = worker;
        Header = header;
        Payload = payload;
        Reply = reply;
        ReplyLength = 0;
    }

    public readonly FuseContext Context => new(Header.unique, Header.nodeid, Header.uid, Header.gid, Header.pid);

    public readonly ulong NodeId => Header.nodeid;

    /// <summary>Reads a whole argument struct; false when the request is too short.</summary>
    public bool TryRead<T>(out T value) where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        if (Payload.Length < size)
        {
            value = default;
            return false;
        }
        value = MemoryMarshal.Read<T>(Payload);
        Payload = Payload[size..];
        return true;
    }

    /// <summary>
    /// Reads the first <paramref name="size"/> bytes of a struct whose size depends on the protocol minor or on a
    /// negotiated flag (fuse_init_in, fuse_setxattr_in); the rest stays zero.
    /// </summary>
    public bool TryReadPrefix<T>(int size, out T value) where T : unmanaged
    {
        value = default;
        if (Payload.Length < size || size > Unsafe.SizeOf<T>())
        {
            return false;
        }
        Payload[..size].CopyTo(MemoryMarshal.AsBytes(new Span<T>(ref value)));
        Payload = Payload[size..];
        return true;
    }

    /// <summary>Reads a NUL-terminated name (without its NUL); false when there is no NUL.</summary>
    public bool TryReadName(out ReadOnlySpan<byte> name)
    {
        int end = Payload.IndexOf((byte)0);
        if (end < 0)
        {
            name = default;
            return false;
        }
        name = Payload[..end];
        Payload = Payload[(end + 1)..];
        return true;
    }

    /// <summary>Appends a zeroed struct to the reply body and returns it to be filled in place.</summary>
    public ref T AppendReply<T>() where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        Span<byte> slot = Reply.Slice(ReplyLength, size);
        slot.Clear();
        ReplyLength += size;
        return ref MemoryMarshal.AsRef<T>(slot);
    }
}
