using System.Runtime.InteropServices;
using ProxyFs.Fuse.Native;
using ProxyFs.Fuse.Protocol;

namespace ProxyFs.Fuse.Dispatch;

// Nodes and names: LOOKUP, FORGET, BATCH_FORGET, GETATTR, SETATTR, ACCESS, READLINK, SYMLINK, MKNOD, MKDIR,
// UNLINK, RMDIR, RENAME, RENAME2, LINK.
internal sealed partial class FuseDispatcher
{
    /// <summary>The kernel's READLINK buffer is one page and it keeps the last byte for the NUL.</summary>
    private const int ReadLinkMax = 4095;

    private int Lookup(ref FuseRequest r)
    {
        if (!r.TryReadName(out var name))
        {
            return Libc.EINVAL;
        }
        return _ops.Lookup(r.Context, r.NodeId, name, ref r.AppendReply<fuse_entry_out>());
    }

    private int Forget(ref FuseRequest r)
    {
        if (r.TryRead(out fuse_forget_in forget))
        {
            _ops.Forget(r.NodeId, forget.nlookup);
        }
        return NoReply;
    }

    private int BatchForget(ref FuseRequest r)
    {
        if (!r.TryRead(out fuse_batch_forget_in batch))
        {
            return NoReply;
        }
        var items = MemoryMarshal.Cast<byte, fuse_forget_one>(r.Payload);
        int count = (int)Math.Min(batch.count, (uint)items.Length);
        if (count < batch.count)
        {
            _log.Warning($"BATCH_FORGET says {batch.count} entries but carries {items.Length}");
        }
        for (int i = 0; i < count; i++)
        {
            _ops.Forget(items[i].nodeid, items[i].nlookup);
        }
        return NoReply;
    }

    private int GetAttr(ref FuseRequest r)
    {
        r.TryRead(out fuse_getattr_in args); // absent only before 7.9
        ulong? handle = (args.getattr_flags & FuseKernel.FUSE_GETATTR_FH) != 0 ? args.fh : null;
        return _ops.GetAttr(r.Context, r.NodeId, handle, ref r.AppendReply<fuse_attr_out>());
    }

    private int SetAttr(ref FuseRequest r)
    {
        if (!r.TryRead(out fuse_setattr_in change))
        {
            return Libc.EINVAL;
        }
        return _ops.SetAttr(r.Context, r.NodeId, change, ref r.AppendReply<fuse_attr_out>());
    }

    private int Access(ref FuseRequest r)
    {
        if (!r.TryRead(out fuse_access_in args))
        {
            return Libc.EINVAL;
        }
        return _ops.Access(r.Context, r.NodeId, args.mask);
    }

    private int ReadLink(ref FuseRequest r)
    {
        var target = r.Reply[..Math.Min(ReadLinkMax, r.Reply.Length)];
        int errno = _ops.ReadLink(r.Context, r.NodeId, target, out int length);
        if (errno != 0)
        {
            return errno;
        }
        if ((uint)length > (uint)target.Length)
        {
            _log.Error($"ReadLink of node {r.NodeId} returned length {length} for a {target.Length}-byte buffer");
            return Libc.EIO;
        }
        r.ReplyLength = length;
        return 0;
    }

    private int Symlink(ref FuseRequest r)
    {
        // Name first, then the link target (fuse_symlink in fs/fuse/dir.c).
        if (!r.TryReadName(out var name) || !r.TryReadName(out var target))
        {
            return Libc.EINVAL;
        }
        return _ops.Symlink(r.Context, r.NodeId, name, target, ref r.AppendReply<fuse_entry_out>());
    }

    private int MkNod(ref FuseRequest r)
    {
        if (!r.TryRead(out fuse_mknod_in args) || !r.TryReadName(out var name))
        {
            return Libc.EINVAL;
        }
        return _ops.MkNod(r.Context, r.NodeId, name, args, ref r.AppendReply<fuse_entry_out>());
    }

    private int MkDir(ref FuseRequest r)
    {
        if (!r.TryRead(out fuse_mkdir_in args) || !r.TryReadName(out var name))
        {
            return Libc.EINVAL;
        }
        return _ops.MkDir(r.Context, r.NodeId, name, args, ref r.AppendReply<fuse_entry_out>());
    }

    private int Unlink(ref FuseRequest r) =>
        r.TryReadName(out var name) ? _ops.Unlink(r.Context, r.NodeId, name) : Libc.EINVAL;

    private int RmDir(ref FuseRequest r) =>
        r.TryReadName(out var name) ? _ops.RmDir(r.Context, r.NodeId, name) : Libc.EINVAL;

    private int Rename(ref FuseRequest r)
    {
        if (!r.TryRead(out fuse_rename_in args) || !r.TryReadName(out var name) || !r.TryReadName(out var newName))
        {
            return Libc.EINVAL;
        }
        return _ops.Rename(r.Context, r.NodeId, name, args.newdir, newName, 0);
    }

    private int Rename2(ref FuseRequest r)
    {
        if (!r.TryRead(out fuse_rename2_in args) || !r.TryReadName(out var name) || !r.TryReadName(out var newName))
        {
            return Libc.EINVAL;
        }
        return _ops.Rename(r.Context, r.NodeId, name, args.newdir, newName, args.flags);
    }

    private int Link(ref FuseRequest r)
    {
        // The header's node is the new parent; the linked node travels in fuse_link_in.
        if (!r.TryRead(out fuse_link_in args) || !r.TryReadName(out var newName))
        {
            return Libc.EINVAL;
        }
        return _ops.Link(r.Context, args.oldnodeid, r.NodeId, newName, ref r.AppendReply<fuse_entry_out>());
    }
}
