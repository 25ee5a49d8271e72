using ProxyFs.Fuse.Native;
using ProxyFs.Fuse.Protocol;

namespace ProxyFs.Fuse.Dispatch;

// Directories: OPENDIR, READDIR, READDIRPLUS, RELEASEDIR, FSYNCDIR.
internal sealed partial class FuseDispatcher
{
    private int OpenDir(ref FuseRequest r)
    {
        if (!r.TryRead(out fuse_open_in args))
        {
            return Libc.EINVAL;
        }
        return _ops.OpenDir(r.Context, r.NodeId, args, ref r.AppendReply<fuse_open_out>());
    }

    private int ReadDir(ref FuseRequest r) => ReadDirectory(ref r, plus: false);

    private int ReadDirPlus(ref FuseRequest r) => ReadDirectory(ref r, plus: true);

    private int ReadDirectory(ref FuseRequest r, bool plus)
    {
        if (!r.TryRead(out fuse_read_in args))
        {
            return Libc.EINVAL;
        }
        var directory = r.Worker.Directory;
        int start = r.Worker.Buffer.Length - r.Reply.Length;
        directory.Reset(r.Worker.Buffer, start, (int)Math.Min(args.size, (uint)r.Reply.Length), plus);
        int errno = plus
            ? _ops.ReadDirPlus(r.Context, r.NodeId, args, directory)
            : _ops.ReadDir(r.Context, r.NodeId, args, directory);
        r.ReplyLength = errno == 0 ? directory.Length : 0;
        return errno;
    }

    private int ReleaseDir(ref FuseRequest r) =>
        r.TryRead(out fuse_release_in args) ? _ops.ReleaseDir(r.Context, r.NodeId, args) : Libc.EINVAL;

    private int FsyncDir(ref FuseRequest r) =>
        r.TryRead(out fuse_fsync_in args) ? _ops.FsyncDir(r.Context, r.NodeId, args) : Libc.EINVAL;
}
