using ProxyFs.Core.FileSystem;
using ProxyFs.Fuse;
using ProxyFs.Fuse.Protocol;

namespace ProxyFs.Host.Fuse;

/// <summary>Kernel cache lifetimes the adapter hands out with entries and attributes.</summary>
public sealed record FuseCacheTimeouts(TimeSpan Entry, TimeSpan Attr, TimeSpan Negative)
{
    /// <summary>One second for names and attributes, as most FUSE filesystems; negative entries too, since this
    /// daemon is the only writer of its volume and the kernel drops a negative entry when it creates the name.</summary>
    public static FuseCacheTimeouts Default { get; } = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
}

/// <summary>
/// Serves an <see cref="IFileSystem"/> (POSIX by inode number, errno results, no FUSE types) over the FUSE
/// protocol layer: converts kernel structs to filesystem types and back, in place, without allocating on the
/// hot paths. The only place that knows both sides.
/// </summary>
public sealed class FileSystemFuseAdapter : IFuseOperations
{
    // fuse_setattr_in.valid bits the filesystem understands; SetAttrFields uses the same bit positions.
    private const uint FattrKnown = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x20 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800;
    private const uint FuseWriteCache = 1 << 0;
    private const uint FuseWriteKillSuidGid = 1 << 2;
    private const uint FuseFsyncFdatasync = 1 << 0;

    [ThreadStatic]
    private static DirectoryFiller? _threadFiller;

    private readonly IFileSystem _fs;
    private readonly ISupplementaryGroups _groups;
    private readonly Action? _onDestroy;
    private readonly ulong _entrySec;
    private readonly uint _entryNsec;
    private readonly ulong _attrSec;
    private readonly uint _attrNsec;
    private readonly ulong _negativeSec;
    private readonly uint _negativeNsec;
    private int _destroyed;

    public FileSystemFuseAdapter(IFileSystem fs, FuseCacheTimeouts? timeouts = null, ISupplementaryGroups? groups = null, Action? onDestroy = null)
    {
        _fs = fs;
        _groups = groups ?? ProcSupplementaryGroups.Instance;
        _onDestroy = onDestroy;
        timeouts ??= FuseCacheTimeouts.Default;
        (_entrySec, _entryNsec) = Split(timeouts.Entry);
        (_attrSec, _attrNsec) = Split(timeouts.Attr);
        (_negativeSec, _negativeNsec) = Split(timeouts.Negative);
    }

    public FuseConnectionInfo? Connection { get; private set; }

    private static (ulong, uint) Split(TimeSpan t)
    {
        if (t <= TimeSpan.Zero)
        {
            return (0, 0);
        }
        long ticks = t.Ticks;
        return ((ulong)(ticks / TimeSpan.TicksPerSecond), (uint)(ticks % TimeSpan.TicksPerSecond * 100));
    }

    private Caller CallerOf(in FuseContext c) => new(c.Uid, c.Gid, (int)c.Pid, _groups);

    /// <summary>
    /// The umask handed to the filesystem. FUSE_DONT_MASK is never negotiated, so the kernel has already applied the
    /// caller's umask to the mode it sends; the umask fields of the request are informational only.
    /// </summary>
    private const uint KernelAppliedUmask = 0;

    internal static void FillAttr(ref fuse_attr a, in InodeAttr s)
    {
        a.ino = s.Ino;
        a.size = s.Size;
        a.blocks = s.Blocks;
        a.atime = (ulong)s.Atime.Seconds;
        a.atimensec = s.Atime.Nanoseconds;
        a.mtime = (ulong)s.Mtime.Seconds;
        a.mtimensec = s.Mtime.Nanoseconds;
        a.ctime = (ulong)s.Ctime.Seconds;
        a.ctimensec = s.Ctime.Nanoseconds;
        a.mode = s.Mode;
        a.nlink = s.Nlink;
        a.uid = s.Uid;
        a.gid = s.Gid;
        a.rdev = s.Rdev;
        a.blksize = s.BlockSize;
        a.flags = 0;
    }

    private void FillEntry(ref fuse_entry_out o, in EntryOut e)
    {
        o.nodeid = e.Ino;
        o.generation = e.Generation;
        o.entry_valid = _entrySec;
        o.entry_valid_nsec = _entryNsec;
        o.attr_valid = _attrSec;
        o.attr_valid_nsec = _attrNsec;
        FillAttr(ref o.attr, e.Attr);
    }

    private void FillAttrOut(ref fuse_attr_out o, in InodeAttr a)
    {
        o.attr_valid = _attrSec;
        o.attr_valid_nsec = _attrNsec;
        FillAttr(ref o.attr, a);
    }

    private int EntryResult(int errno, in EntryOut e, ref fuse_entry_out entry)
    {
        if (errno == 0)
        {
            FillEntry(ref entry, e);
        }
        return errno;
    }

    private static void FillOpen(ref fuse_open_out o, in OpenResult r)
    {
        o.fh = r.Handle;
        // OpenReplyFlags uses the bit positions of FOPEN_DIRECT_IO, FOPEN_KEEP_CACHE, FOPEN_NONSEEKABLE, FOPEN_CACHE_DIR
        // and FOPEN_NOFLUSH.
        o.open_flags = (uint)r.Flags & 0x2F;
    }

    public void Initialize(FuseConnectionInfo connection, IFuseNotifier notifier)
    {
        Connection = connection;
        _fs.CacheInvalidator = new NotifierInvalidator(notifier);
    }

    /// <summary>A request the filesystem refused by exception with an errno (EROFS from a volume that stopped writing).</summary>
    public int ErrnoOf(Exception exception) => exception is FileSystemErrnoException e ? e.Errno : Errno.EIO;

    public void Destroy()
    {
        if (Interlocked.Exchange(ref _destroyed, 1) == 0)
        {
            _onDestroy?.Invoke();
        }
    }

    public int Lookup(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ref fuse_entry_out entry)
    {
        int r = _fs.Lookup(CallerOf(context), parent, name, out EntryOut e);
        if (r == Errno.ENOENT && (_negativeSec | _negativeNsec) != 0)
        {
            // A negative entry: node id 0 with a lifetime lets the kernel answer ENOENT itself until then.
            entry.nodeid = 0;
            entry.entry_valid = _negativeSec;
            entry.entry_valid_nsec = _negativeNsec;
            return 0;
        }
        return EntryResult(r, e, ref entry);
    }

    public void Forget(ulong nodeId, ulong nlookup) => _fs.Forget(nodeId, nlookup);

    public int GetAttr(in FuseContext context, ulong nodeId, ulong? handle, ref fuse_attr_out attr)
    {
        int r = _fs.GetAttr(CallerOf(context), nodeId, out InodeAttr a);
        if (r == 0)
        {
            FillAttrOut(ref attr, a);
        }
        return r;
    }

    public int SetAttr(in FuseContext context, ulong nodeId, in fuse_setattr_in change, ref fuse_attr_out attr)
    {
        var s = new SetAttrIn
        {
            Fields = (SetAttrFields)(change.valid & FattrKnown),
            Mode = change.mode,
            Uid = change.uid,
            Gid = change.gid,
            Size = change.size,
            Atime = new Timespec((long)change.atime, change.atimensec),
            Mtime = new Timespec((long)change.mtime, change.mtimensec),
            Ctime = new Timespec((long)change.ctime, change.ctimensec),
            Handle = change.fh,
        };
        int r = _fs.SetAttr(CallerOf(context), nodeId, s, out InodeAttr a);
        if (r == 0)
        {
            FillAttrOut(ref attr, a);
        }
        return r;
    }

    public int ReadLink(in FuseContext context, ulong nodeId, Span<byte> target, out int length) =>
        _fs.ReadLink(CallerOf(context), nodeId, target, out length);

    public int Symlink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, ref fuse_entry_out entry) =>
        EntryResult(_fs.Symlink(CallerOf(context), parent, name, target, out EntryOut e), e, ref entry);

    public int MkNod(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, in fuse_mknod_in args, ref fuse_entry_out entry) =>
        EntryResult(_fs.MkNod(CallerOf(context), parent, name, args.mode, args.rdev, KernelAppliedUmask, out EntryOut e), e, ref entry);

    public int MkDir(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, in fuse_mkdir_in args, ref fuse_entry_out entry) =>
        EntryResult(_fs.MkDir(CallerOf(context), parent, name, args.mode, KernelAppliedUmask, out EntryOut e), e, ref entry);

    public int Unlink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name) =>
        _fs.Unlink(CallerOf(context), parent, name);

    public int RmDir(in FuseContext context, ulong parent, ReadOnlySpan<byte> name) =>
        _fs.RmDir(CallerOf(context), parent, name);

    public int Rename(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ulong newParent, ReadOnlySpan<byte> newName, uint flags) =>
        _fs.Rename(CallerOf(context), parent, name, newParent, newName, (RenameFlags)flags);

    public int Link(in FuseContext context, ulong nodeId, ulong newParent, ReadOnlySpan<byte> newName, ref fuse_entry_out entry) =>
        EntryResult(_fs.Link(CallerOf(context), nodeId, newParent, newName, out EntryOut e), e, ref entry);

    public int Open(in FuseContext context, ulong nodeId, in fuse_open_in args, ref fuse_open_out open)
    {
        int r = _fs.Open(CallerOf(context), nodeId, (int)args.flags, out OpenResult o);
        if (r == 0)
        {
            FillOpen(ref open, o);
        }
        return r;
    }

    public int Create(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, in fuse_create_in args, ref fuse_entry_out entry, ref fuse_open_out open)
    {
        int r = _fs.Create(CallerOf(context), parent, name, args.mode, KernelAppliedUmask, (int)args.flags, out EntryOut e, out OpenResult o);
        if (r == 0)
        {
            FillEntry(ref entry, e);
            FillOpen(ref open, o);
        }
        return r;
    }

    public int TmpFile(in FuseContext context, ulong parent, in fuse_create_in args, ref fuse_entry_out entry, ref fuse_open_out open)
    {
        int r = _fs.TmpFile(CallerOf(context), parent, args.mode, KernelAppliedUmask, (int)args.flags, out EntryOut e, out OpenResult o);
        if (r == 0)
        {
            FillEntry(ref entry, e);
            FillOpen(ref open, o);
        }
        return r;
    }

    public int Read(in FuseContext context, ulong nodeId, in fuse_read_in args, Span<byte> destination, out int count) =>
        _fs.Read(CallerOf(context), nodeId, args.fh, (long)args.offset, destination, out count);

    public int Write(in FuseContext context, ulong nodeId, in fuse_write_in args, ReadOnlySpan<byte> data, out uint written)
    {
        WriteFlags flags = WriteFlags.None;
        if ((args.write_flags & FuseWriteCache) != 0)
        {
            flags |= WriteFlags.FromCache;
        }
        if ((args.write_flags & FuseWriteKillSuidGid) != 0)
        {
            flags |= WriteFlags.KillSuidGid;
        }
        int r = _fs.Write(CallerOf(context), nodeId, args.fh, (long)args.offset, data, flags, out int n);
        written = r == 0 ? (uint)n : 0;
        return r;
    }

    public int Flush(in FuseContext context, ulong nodeId, in fuse_flush_in args) =>
        _fs.Flush(CallerOf(context), nodeId, args.fh);

    public int Release(in FuseContext context, ulong nodeId, in fuse_release_in args) =>
        _fs.Release(nodeId, args.fh);

    public int Fsync(in FuseContext context, ulong nodeId, in fuse_fsync_in args) =>
        _fs.Fsync(CallerOf(context), nodeId, args.fh, (args.fsync_flags & FuseFsyncFdatasync) != 0);

    public int OpenDir(in FuseContext context, ulong nodeId, in fuse_open_in args, ref fuse_open_out open)
    {
        int r = _fs.OpenDir(CallerOf(context), nodeId, (int)args.flags, out OpenResult o);
        if (r == 0)
        {
            FillOpen(ref open, o);
        }
        return r;
    }

    public int ReadDir(in FuseContext context, ulong nodeId, in fuse_read_in args, FuseDirectoryBuffer buffer) =>
        _fs.ReadDir(CallerOf(context), nodeId, args.fh, (long)args.offset, Filler(buffer));

    public int ReadDirPlus(in FuseContext context, ulong nodeId, in fuse_read_in args, FuseDirectoryBuffer buffer) =>
        _fs.ReadDirPlus(CallerOf(context), nodeId, args.fh, (long)args.offset, Filler(buffer));

    private DirectoryFiller Filler(FuseDirectoryBuffer buffer)
    {
        DirectoryFiller f = _threadFiller ??= new DirectoryFiller();
        f.Adapter = this;
        f.Buffer = buffer;
        return f;
    }

    public int ReleaseDir(in FuseContext context, ulong nodeId, in fuse_release_in args) =>
        _fs.ReleaseDir(nodeId, args.fh);

    public int FsyncDir(in FuseContext context, ulong nodeId, in fuse_fsync_in args) =>
        _fs.FsyncDir(CallerOf(context), nodeId, args.fh, (args.fsync_flags & FuseFsyncFdatasync) != 0);

    public int StatFs(in FuseContext context, ulong nodeId, ref fuse_kstatfs stats)
    {
        int r = _fs.StatFs(CallerOf(context), nodeId, out FsStats s);
        if (r == 0)
        {
            stats.blocks = s.Blocks;
            stats.bfree = s.BlocksFree;
            stats.bavail = s.BlocksAvailable;
            stats.files = s.Files;
            stats.ffree = s.FilesFree;
            stats.bsize = s.BlockSize;
            stats.frsize = s.FragmentSize;
            stats.namelen = s.NameMax;
        }
        return r;
    }

    public int SetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, uint flags) =>
        _fs.SetXattr(CallerOf(context), nodeId, name, value, (XattrFlags)(flags & 3));

    public int GetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, Span<byte> value, out int size) =>
        _fs.GetXattr(CallerOf(context), nodeId, name, value, out size);

    public int ListXattr(in FuseContext context, ulong nodeId, Span<byte> names, out int size) =>
        _fs.ListXattr(CallerOf(context), nodeId, names, out size);

    public int RemoveXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name) =>
        _fs.RemoveXattr(CallerOf(context), nodeId, name);

    public int Access(in FuseContext context, ulong nodeId, uint mask) =>
        _fs.Access(CallerOf(context), nodeId, (int)mask);

    public int Fallocate(in FuseContext context, ulong nodeId, in fuse_fallocate_in args) =>
        _fs.Fallocate(CallerOf(context), nodeId, args.fh, (int)args.mode, (long)args.offset, (long)args.length);

    public int Lseek(in FuseContext context, ulong nodeId, in fuse_lseek_in args, out ulong offset)
    {
        int r = _fs.Lseek(CallerOf(context), nodeId, args.fh, (long)args.offset, (int)args.whence, out long result);
        offset = r == 0 ? (ulong)result : 0;
        return r;
    }

    public int CopyFileRange(in FuseContext context, ulong nodeIdIn, in fuse_copy_file_range_in args, out ulong copied)
    {
        int r = _fs.CopyFileRange(CallerOf(context), nodeIdIn, args.fh_in, (long)args.off_in, args.nodeid_out, args.fh_out, (long)args.off_out, (long)args.len, out long n);
        copied = r == 0 ? (ulong)n : 0;
        return r;
    }

    public int SyncFs(in FuseContext context, ulong nodeId) => _fs.SyncFs(CallerOf(context));

    /// <summary>Bridges the filesystem's directory listing to the reply buffer of the current reader thread.</summary>
    private sealed class DirectoryFiller : IDirectoryFiller
    {
        public FileSystemFuseAdapter Adapter = null!;
        public FuseDirectoryBuffer Buffer = null!;

        public bool Add(ReadOnlySpan<byte> name, ulong ino, uint mode, long nextOffset) =>
            Buffer.TryAdd(name, ino, mode, (ulong)nextOffset);

        public bool AddPlus(ReadOnlySpan<byte> name, in EntryOut entry, long nextOffset)
        {
            fuse_entry_out e = default;
            Adapter.FillEntry(ref e, entry);
            return Buffer.TryAddPlus(name, e, (ulong)nextOffset);
        }
    }

    /// <summary>The filesystem's cache invalidations, sent through the session's notification queue.</summary>
    private sealed class NotifierInvalidator(IFuseNotifier notifier) : ICacheInvalidator
    {
        public void InvalidateInode(ulong ino, long offset, long length) => notifier.InvalidateInode(ino, offset, length);

        public void InvalidateEntry(ulong parent, ReadOnlySpan<byte> name) => notifier.InvalidateEntry(parent, name);
    }
}
