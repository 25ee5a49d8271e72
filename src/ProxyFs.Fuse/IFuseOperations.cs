using ProxyFs.Fuse.Protocol;

namespace ProxyFs.Fuse;

/// <summary>Who sent a request: the fields of fuse_in_header that a filesystem uses.</summary>
public readonly struct FuseContext
{
    public FuseContext(ulong unique, ulong nodeId, uint uid, uint gid, uint pid)
    {
        Unique = unique;
        NodeId = nodeId;
        Uid = uid;
        Gid = gid;
        Pid = pid;
    }

    public ulong Unique { get; }
    public ulong NodeId { get; }
    public uint Uid { get; }
    public uint Gid { get; }
    public uint Pid { get; }
}

/// <summary>
/// The operations a FUSE filesystem serves, one per kernel opcode, by node id. Each returns 0 or a positive errno;
/// the session replies. Output structs are passed by ref into the reply buffer, zeroed beforehand, so a handler
/// fills them in place (no copy, no allocation). Handlers run concurrently on the session's reader threads.
/// A handler that returns ENOSYS tells the kernel never to send that opcode again.
/// </summary>
public interface IFuseOperations
{
    /// <summary>INIT is negotiated; <paramref name="notifier"/> can invalidate kernel caches from now on.</summary>
    void Initialize(FuseConnectionInfo connection, IFuseNotifier notifier);

    /// <summary>DESTROY, or the session ended (unmounted): flush what must be flushed.</summary>
    void Destroy();

    /// <summary>
    /// The errno to answer when a handler threw <paramref name="exception"/>: a filesystem that refuses requests by
    /// exception (e.g. EROFS once it stopped writing) says which. EIO (5), the default, is also logged as an error.
    /// </summary>
    int ErrnoOf(Exception exception) => 5;

    int Lookup(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ref fuse_entry_out entry);

    /// <summary>FORGET and each element of BATCH_FORGET. No reply.</summary>
    void Forget(ulong nodeId, ulong nlookup);

    /// <summary><paramref name="handle"/> is set when the kernel sent FUSE_GETATTR_FH (fstat).</summary>
    int GetAttr(in FuseContext context, ulong nodeId, ulong? handle, ref fuse_attr_out attr);

    int SetAttr(in FuseContext context, ulong nodeId, in fuse_setattr_in change, ref fuse_attr_out attr);

    int ReadLink(in FuseContext context, ulong nodeId, Span<byte> target, out int length);

    int Symlink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, ref fuse_entry_out entry);

    int MkNod(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, in fuse_mknod_in args, ref fuse_entry_out entry);

    int MkDir(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, in fuse_mkdir_in args, ref fuse_entry_out entry);

    int Unlink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name);

    int RmDir(in FuseContext context, ulong parent, ReadOnlySpan<byte> name);

    /// <summary>RENAME (flags 0) and RENAME2 (RENAME_NOREPLACE 1, RENAME_EXCHANGE 2, RENAME_WHITEOUT 4).</summary>
    int Rename(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ulong newParent, ReadOnlySpan<byte> newName, uint flags);

    int Link(in FuseContext context, ulong nodeId, ulong newParent, ReadOnlySpan<byte> newName, ref fuse_entry_out entry);

    int Open(in FuseContext context, ulong nodeId, in fuse_open_in args, ref fuse_open_out open);

    int Create(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, in fuse_create_in args, ref fuse_entry_out entry, ref fuse_open_out open);

    int TmpFile(in FuseContext context, ulong parent, in fuse_create_in args, ref fuse_entry_out entry, ref fuse_open_out open);

    /// <summary>Fills <paramref name="destination"/> (args.size bytes of the reply buffer); fewer bytes only at EOF.</summary>
    int Read(in FuseContext context, ulong nodeId, in fuse_read_in args, Span<byte> destination, out int count);

    int Write(in FuseContext context, ulong nodeId, in fuse_write_in args, ReadOnlySpan<byte> data, out uint written);

    int Flush(in FuseContext context, ulong nodeId, in fuse_flush_in args);

    int Release(in FuseContext context, ulong nodeId, in fuse_release_in args);

    int Fsync(in FuseContext context, ulong nodeId, in fuse_fsync_in args);

    int OpenDir(in FuseContext context, ulong nodeId, in fuse_open_in args, ref fuse_open_out open);

    /// <summary>Adds entries after args.offset to <paramref name="buffer"/> until it is full.</summary>
    int ReadDir(in FuseContext context, ulong nodeId, in fuse_read_in args, FuseDirectoryBuffer buffer);

    /// <summary>As ReadDir with attributes; every entry the buffer accepts, but "." and "..", is a lookup.</summary>
    int ReadDirPlus(in FuseContext context, ulong nodeId, in fuse_read_in args, FuseDirectoryBuffer buffer);

    int ReleaseDir(in FuseContext context, ulong nodeId, in fuse_release_in args);

    int FsyncDir(in FuseContext context, ulong nodeId, in fuse_fsync_in args);

    int StatFs(in FuseContext context, ulong nodeId, ref fuse_kstatfs stats);

    /// <summary><paramref name="flags"/>: XATTR_CREATE 1, XATTR_REPLACE 2.</summary>
    int SetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, uint flags);

    /// <summary>Empty <paramref name="value"/>: report the size only. Too small: ERANGE.</summary>
    int GetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, Span<byte> value, out int size);

    int ListXattr(in FuseContext context, ulong nodeId, Span<byte> names, out int size);

    int RemoveXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name);

    int Access(in FuseContext context, ulong nodeId, uint mask);

    int Fallocate(in FuseContext context, ulong nodeId, in fuse_fallocate_in args);

    int Lseek(in FuseContext context, ulong nodeId, in fuse_lseek_in args, out ulong offset);

    int CopyFileRange(in FuseContext context, ulong nodeIdIn, in fuse_copy_file_range_in args, out ulong copied);

    int SyncFs(in FuseContext context, ulong nodeId);
}

/// <summary>What INIT negotiated.</summary>
public sealed class FuseConnectionInfo
{
    public uint ProtocolMajor { get; init; }
    public uint ProtocolMinor { get; init; }
    /// <summary>The capability flags both sides agreed on (FUSE_* of fuse_init_in/out, flags2 in the high 32 bits).</summary>
    public ulong Capabilities { get; init; }
    public uint MaxWrite { get; init; }
    public uint MaxReadahead { get; init; }
    public ushort MaxPages { get; init; }
    public bool WritebackCache { get; init; }
    /// <summary>The minor version the kernel offered (ProtocolMinor is the one agreed: the lower of it and ours).</summary>
    public uint KernelProtocolMinor { get; init; }
    /// <summary>Everything the kernel offered in INIT (flags2 in the high 32 bits when it sent FUSE_INIT_EXT).</summary>
    public ulong KernelCapabilities { get; init; }
    /// <summary>The max_background the kernel was given.</summary>
    public ushort MaxBackground { get; init; }
}

/// <summary>
/// Unsolicited notifications to the kernel. Thread-safe and never blocking the caller: notifications are queued
/// and sent from outside the request path, so a handler may call these without deadlocking the kernel.
/// </summary>
public interface IFuseNotifier
{
    /// <summary>FUSE_NOTIFY_INVAL_INODE: drop cached attributes and data in [offset, offset+length); length 0 means to the end, offset -1 only attributes.</summary>
    void InvalidateInode(ulong nodeId, long offset, long length);

    /// <summary>FUSE_NOTIFY_INVAL_ENTRY: drop a cached name.</summary>
    void InvalidateEntry(ulong parent, ReadOnlySpan<byte> name);

    /// <summary>FUSE_NOTIFY_DELETE: a name was removed behind the kernel's back.</summary>
    void Delete(ulong parent, ulong child, ReadOnlySpan<byte> name);
}
