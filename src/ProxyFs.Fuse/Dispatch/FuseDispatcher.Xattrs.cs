using System.Runtime.CompilerServices;
using ProxyFs.Fuse.Native;
using ProxyFs.Fuse.Protocol;

namespace ProxyFs.Fuse.Dispatch;

// Extended attributes: SETXATTR, GETXATTR, LISTXATTR, REMOVEXATTR.
internal sealed partial class FuseDispatcher
{
    /// <summary>fuse_setxattr_in is 8 bytes unless FUSE_SETXATTR_EXT was negotiated.</summary>
    private const int SetXattrInCompatSize = 8;

    private int SetXattr(ref FuseRequest r)
    {
        bool extended = ((_connection?.Capabilities ?? 0) & FuseKernel.FUSE_SETXATTR_EXT) != 0;
        int size = extended ? Unsafe.SizeOf<fuse_setxattr_in>() : SetXattrInCompatSize;
        if (!r.TryReadPrefix(size, out fuse_setxattr_in args) || !r.TryReadName(out var name) || args.size > (uint)r.Payload.Length)
        {
            return Libc.EINVAL;
        }
        return _ops.SetXattr(r.Context, r.NodeId, name, r.Payload[..(int)args.size], args.flags);
    }

    private int GetXattr(ref FuseRequest r)
    {
        if (!r.TryRead(out fuse_getxattr_in args) || !r.TryReadName(out var name))
        {
            return Libc.EINVAL;
        }
        if (args.size == 0)
        {
            ref var sizeOnly = ref r.AppendReply<fuse_getxattr_out>();
            int errno = _ops.GetXattr(r.Context, r.NodeId, name, [], out int needed);
            sizeOnly.size = (uint)needed;
            return errno;
        }
        var value = r.Reply[..(int)Math.Min(args.size, (uint)r.Reply.Length)];
        return XattrBytes(ref r, _ops.GetXattr(r.Context, r.NodeId, name, value, out int length), length, value.Length);
    }

    private int ListXattr(ref FuseRequest r)
    {
        if (!r.TryRead(out fuse_getxattr_in args))
        {
            return Libc.EINVAL;
        }
        if (args.size == 0)
        {
            ref var sizeOnly = ref r.AppendReply<fuse_getxattr_out>();
            int errno = _ops.ListXattr(r.Context, r.NodeId, [], out int needed);
            sizeOnly.size = (uint)needed;
            return errno;
        }
        var names = r.Reply[..(int)Math.Min(args.size, (uint)r.Reply.Length)];
        return XattrBytes(ref r, _ops.ListXattr(r.Context, r.NodeId, names, out int length), length, names.Length);
    }

    private static int XattrBytes(ref FuseRequest r, int errno, int length, int capacity)
    {
        if (errno != 0)
        {
            return errno;
        }
        if ((uint)length > (uint)capacity)
        {
            return Libc.ERANGE;
        }
        r.ReplyLength = length;
        return 0;
    }

    private int RemoveXattr(ref FuseRequest r) =>
        r.TryReadName(out var name) ? _ops.RemoveXattr(r.Context, r.NodeId, name) : Libc.EINVAL;
}
