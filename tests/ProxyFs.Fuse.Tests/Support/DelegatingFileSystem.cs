using ProxyFs.Fuse.Protocol;

namespace ProxyFs.Fuse.Tests.Support;

/// <summary>A test double whose operations answer ENOSYS unless a test overrides them.</summary>
internal class DelegatingFileSystem : IFuseOperations
{
    protected const int ENOSYS = 38;

    public FuseConnectionInfo? Connection { get; private set; }

    public virtual void Initialize(FuseConnectionInfo connection, IFuseNotifier notifier) => Connection = connection;

    public virtual void Destroy()
    {
    }

    public virtual int Lookup(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ref fuse_entry_out entry) => ENOSYS;

    public virtual void Forget(ulong nodeId, ulong nlookup)
    {
    }

    public virtual int GetAttr(in FuseContext context, ulong nodeId, ulong? handle, ref fuse_attr_out attr) => ENOSYS;

    public virtual int SetAttr(in FuseContext context, ulong nodeId, in fuse_setattr_in change, ref fuse_attr_out attr) => ENOSYS;

    public virtual int ReadLink(in FuseContext context, ulong nodeId, Span<byte> target, out int length)
    {
        length = 0;
        return ENOSYS;
    }

    public virtual int Symlink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, ref fuse_entry_out entry) => ENOSYS;

    public virtual int MkNod(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, in fuse_mknod_in args, ref fuse_entry_out entry) => ENOSYS;

    public virtual int MkDir(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, in fuse_mkdir_in args, ref fuse_entry_out entry) => ENOSYS;

    public virtual int Unlink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name) => ENOSYS;

    public virtual int RmDir(in FuseContext context, ulong parent, ReadOnlySpan<byte> name) => ENOSYS;

    public virtual int Rename(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ulong newParent, ReadOnlySpan<byte> newName, uint flags) => ENOSYS;

    public virtual int Link(in FuseContext context, ulong nodeId, ulong newParent, ReadOnlySpan<byte> newName, ref fuse_entry_out entry) => ENOSYS;

    public virtual int Open(in FuseContext context, ulong nodeId, in fuse_open_in args, ref fuse_open_out open) => ENOSYS;

    public virtual int Create(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, in fuse_create_in args, ref fuse_entry_out entry, ref fuse_open_out open) => ENOSYS;

    public virtual int TmpFile(in FuseContext context, ulong parent, in fuse_create_in args, ref fuse_entry_out entry, ref fuse_open_out open) => ENOSYS;

    public virtual int Read(in FuseContext context, ulong nodeId, in fuse_read_in args, Span<byte> destination, out int count)
    {
        count = 0;
        return ENOSYS;
    }

    public virtual int Write(in FuseContext context, ulong nodeId, in fuse_write_in args, ReadOnlySpan<byte> data, out uint written)
    {
        written = 0;
        return ENOSYS;
    }

    public virtual int Flush(in FuseContext context, ulong nodeId, in fuse_flush_in args) => ENOSYS;

    public virtual int Release(in FuseContext context, ulong nodeId, in fuse_release_in args) => ENOSYS;

    public virtual int Fsync(in FuseContext context, ulong nodeId, in fuse_fsync_in args) => ENOSYS;

    public virtual int OpenDir(in FuseContext context, ulong nodeId, in fuse_open_in args, ref fuse_open_out open) => ENOSYS;

    public virtual int ReadDir(in FuseContext context, ulong nodeId, in fuse_read_in args, FuseDirectoryBuffer buffer) => ENOSYS;

    public virtual int ReadDirPlus(in FuseContext context, ulong nodeId, in fuse_read_in args, FuseDirectoryBuffer buffer) => ENOSYS;

    public virtual int ReleaseDir(in FuseContext context, ulong nodeId, in fuse_release_in args) => ENOSYS;

    public virtual int FsyncDir(in FuseContext context, ulong nodeId, in fuse_fsync_in args) => ENOSYS;

    public virtual int StatFs(in FuseContext context, ulong nodeId, ref fuse_kstatfs stats) => ENOSYS;

    public virtual int SetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, uint flags) => ENOSYS;

    public virtual int GetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, Span<byte> value, out int size)
    {
        size = 0;
        return ENOSYS;
    }

    public virtual int ListXattr(in FuseContext context, ulong nodeId, Span<byte> names, out int size)
    {
        size = 0;
        return ENOSYS;
    }

    public virtual int RemoveXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name) => ENOSYS;

    public virtual int Access(in FuseContext context, ulong nodeId, uint mask) => ENOSYS;

    public virtual int Fallocate(in FuseContext context, ulong nodeId, in fuse_fallocate_in args) => ENOSYS;

    public virtual int Lseek(in FuseContext context, ulong nodeId, in fuse_lseek_in args, out ulong offset)
    {
        offset = 0;
        return ENOSYS;
    }

    public virtual int CopyFileRange(in FuseContext context, ulong nodeIdIn, in fuse_copy_file_range_in args, out ulong copied)
    {
        copied = 0;
        return ENOSYS;
    }

    public virtual int SyncFs(in FuseContext context, ulong nodeId) => ENOSYS;
}
