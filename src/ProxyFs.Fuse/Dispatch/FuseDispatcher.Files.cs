using ProxyFs.Fuse.Native;
using ProxyFs.Fuse.Protocol;

namespace ProxyFs.Fuse.Dispatch;

// Files: OPEN, CREATE, TMPFILE, READ, WRITE, FLUSH, RELEASE, FSYNC, FALLOCATE, LSEEK, COPY_FILE_RANGE.
internal sealed partial class FuseDispatcher
{
    private int Open(ref FuseRequest r)
    {
        if (!r.TryRead(out fuse_open_in args))
        {
            return Libc.EINVAL;
        }
        return _ops.Open(r.Context, r.NodeId, args, ref r.AppendReply<fuse_open_out>());
    }

    private int Create(ref FuseRequest r)
    {
        if (!r.TryRead(out fuse_create_in args) || !r.TryReadName(out var name))
        {
            return Libc.EINVAL;
        }
        ref var entry = ref r.AppendReply<fuse_entry_out>();
        ref var open = ref r.AppendReply<fuse_open_out>();
        return _ops.Create(r.Context, r.NodeId, name, args, ref entry, ref open);
    }

    private int TmpFile(ref FuseRequest r)
    {
        // The kernel sends a placeholder name ("/") after the struct; it means nothing.
        if (!r.TryRead(out fuse_create_in args))
        {
            return Libc.EINVAL;
        }
        ref var entry = ref r.AppendReply<fuse_entry_out>();
        ref var open = ref r.AppendReply<fuse_open_out>();
        return _ops.TmpFile(r.Context, r.NodeId, args, ref entry, ref open);
    }

    private int Read(ref FuseRequest r)
    {
        if (!r.TryRead(out fuse_read_in args))
        {
            return Libc.EINVAL;
        }
        var destination = r.Reply[..(int)Math.Min(args.size, (uint)r.Reply.Length)];
        int errno = _ops.Read(r.Context, r.NodeId, args, destination, out int count);
        if (errno != 0)
        {
            return errno;
        }
        if ((uint)count > (uint)destination.Length)
        {
            _log.Error($"Read of node {r.NodeId} returned {count} bytes for a {destination.Length}-byte buffer");
            return Libc.EIO;
        }
        r.ReplyLength = count;
        r.Worker.Counters.BytesRead += count;
        return 0;
    }

    private int Write(ref FuseRequest r)
    {
        if (!r.TryRead(out fuse_write_in args) || args.size > (uint)r.Payload.Length)
        {
            return Libc.EINVAL;
        }
        var data = r.Payload[..(int)args.size];
        ref var reply = ref r.AppendReply<fuse_write_out>();
        int errno = _ops.Write(r.Context, r.NodeId, args, data, out uint written);
        if (errno != 0)
        {
            return errno;
        }
        reply.size = written;
        r.Worker.Counters.BytesWritten += written;
        return 0;
    }

    private int Flush(ref FuseRequest r) =>
        r.TryRead(out fuse_flush_in args) ? _ops.Flush(r.Context, r.NodeId, args) : Libc.EINVAL;

    private int Release(ref FuseRequest r) =>
        r.TryRead(out fuse_release_in args) ? _ops.Release(r.Context, r.NodeId, args) : Libc.EINVAL;

    private int Fsync(ref FuseRequest r) =>
        r.TryRead(out fuse_fsync_in args) ? _ops.Fsync(r.Context, r.NodeId, args) : Libc.EINVAL;

    private int Fallocate(ref FuseRequest r) =>
        r.TryRead(out fuse_fallocate_in args) ? _ops.Fallocate(r.Context, r.NodeId, args) : Libc.EINVAL;

    private int Lseek(ref FuseRequest r)
    {
        if (!r.TryRead(out fuse_lseek_in args))
        {
            return Libc.EINVAL;
        }
        ref var reply = ref r.AppendReply<fuse_lseek_out>();
        int errno = _ops.Lseek(r.Context, r.NodeId, args, out ulong offset);
        reply.offset = offset;
        return errno;
    }

    private int CopyFileRange(ref FuseRequest r)
    {
        if (!r.TryRead(out fuse_copy_file_range_in args))
        {
            return Libc.EINVAL;
        }
        ref var reply = ref r.AppendReply<fuse_write_out>();
        int errno = _ops.CopyFileRange(r.Context, r.NodeId, args, out ulong copied);
        // fuse_write_out.size is 32 bits: the kernel never asks for more than that in one request.
        reply.size = (uint)Math.Min(copied, uint.MaxValue);
        return errno;
    }
}
