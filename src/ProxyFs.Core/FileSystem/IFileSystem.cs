namespace ProxyFs.Core.FileSystem;

/// <summary>
/// A POSIX filesystem addressed by inode number. Every operation returns 0 or a positive errno (<see cref="Errno"/>).
/// <see cref="Posix.PosixFileSystem"/> implements it over an inode store (the in-memory reference filesystem, the
/// object-store volume); the host serves it over FUSE.
/// </summary>
/// <remarks>
/// <para>Contract, shared by every implementation:</para>
/// <list type="bullet">
/// <item>The root directory is inode <see cref="RootIno"/> (1) and is never forgotten.</item>
/// <item>Methods are called concurrently from many threads.</item>
/// <item>Lookup counts: every successful Lookup, Create, MkNod, MkDir, Symlink, Link and TmpFile, and every entry
/// accepted by <see cref="IDirectoryFiller.AddPlus"/> other than "." and "..", adds one; <see cref="Forget"/>
/// takes them away. An inode whose link count is 0 lives on while its lookup count or open handles are non-zero
/// (unlinked-but-open files stay readable and writable until the last close).</item>
/// <item>Names are raw bytes (no encoding), 1..255 bytes, never containing '/' or NUL; longer ones give
/// ENAMETOOLONG. "." and ".." are answered by Lookup in any directory.</item>
/// <item>Permission checks use <see cref="Caller"/>: owner, group (with supplementary groups), other; root bypasses
/// read/write checks and needs one execute bit for execute. The same checks hold whether or not the kernel also
/// checks (mount option default_permissions).</item>
/// <item>Nothing blocks on the network for longer than the operation needs; operations that must wait for
/// durability (Fsync, FsyncDir, SyncFs) say so.</item>
/// </list>
/// </remarks>
public interface IFileSystem
{
    /// <summary>The inode number of the root directory.</summary>
    const ulong RootIno = 1;

    /// <summary>Set by the host when it can invalidate kernel caches; null otherwise.</summary>
    ICacheInvalidator? CacheInvalidator { get; set; }

    // ---- names ----

    int Lookup(in Caller caller, ulong parent, ReadOnlySpan<byte> name, out EntryOut entry);

    /// <summary>The kernel dropped <paramref name="nlookup"/> references to <paramref name="ino"/>.</summary>
    void Forget(ulong ino, ulong nlookup);

    int GetAttr(in Caller caller, ulong ino, out InodeAttr attr);

    int SetAttr(in Caller caller, ulong ino, in SetAttrIn change, out InodeAttr attr);

    /// <summary>Copies the symlink's target into <paramref name="target"/> (at least 4096 bytes) and sets its length.</summary>
    int ReadLink(in Caller caller, ulong ino, Span<byte> target, out int length);

    int Symlink(in Caller caller, ulong parent, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, out EntryOut entry);

    /// <summary>Creates a regular file, fifo, socket or device. <paramref name="umask"/> is applied to <paramref name="mode"/>.</summary>
    int MkNod(in Caller caller, ulong parent, ReadOnlySpan<byte> name, uint mode, uint rdev, uint umask, out EntryOut entry);

    int MkDir(in Caller caller, ulong parent, ReadOnlySpan<byte> name, uint mode, uint umask, out EntryOut entry);

    int Unlink(in Caller caller, ulong parent, ReadOnlySpan<byte> name);

    int RmDir(in Caller caller, ulong parent, ReadOnlySpan<byte> name);

    int Rename(in Caller caller, ulong parent, ReadOnlySpan<byte> name, ulong newParent, ReadOnlySpan<byte> newName, RenameFlags flags);

    int Link(in Caller caller, ulong ino, ulong newParent, ReadOnlySpan<byte> newName, out EntryOut entry);

    // ---- files ----

    /// <summary>Opens a file. <paramref name="flags"/> are open(2) flags (<see cref="OpenFlags"/>); O_TRUNC truncates.</summary>
    int Open(in Caller caller, ulong ino, int flags, out OpenResult result);

    /// <summary>Creates and opens a regular file (O_CREAT). Fails with EEXIST if the name exists.</summary>
    int Create(in Caller caller, ulong parent, ReadOnlySpan<byte> name, uint mode, uint umask, int flags, out EntryOut entry, out OpenResult result);

    /// <summary>Creates an unnamed regular file in <paramref name="parent"/> (O_TMPFILE), linkable later with Link.</summary>
    int TmpFile(in Caller caller, ulong parent, uint mode, uint umask, int flags, out EntryOut entry, out OpenResult result);

    /// <summary>Reads up to destination.Length bytes at <paramref name="offset"/>; fewer only at end of file.</summary>
    int Read(in Caller caller, ulong ino, ulong handle, long offset, Span<byte> destination, out int bytesRead);

    int Write(in Caller caller, ulong ino, ulong handle, long offset, ReadOnlySpan<byte> data, WriteFlags flags, out int bytesWritten);

    /// <summary>Called on every close(2) of a file descriptor that refers to the handle.</summary>
    int Flush(in Caller caller, ulong ino, ulong handle);

    /// <summary>The last reference to the handle is gone.</summary>
    int Release(ulong ino, ulong handle);

    /// <summary>Returns when the file's data (and, unless <paramref name="dataOnly"/>, its metadata) is durable.</summary>
    int Fsync(in Caller caller, ulong ino, ulong handle, bool dataOnly);

    /// <summary><see cref="FallocateMode"/>: allocate, keep-size, punch-hole, zero-range.</summary>
    int Fallocate(in Caller caller, ulong ino, ulong handle, int mode, long offset, long length);

    /// <summary>SEEK_DATA and SEEK_HOLE (<see cref="SeekWhence"/>); ENXIO past the end of the data.</summary>
    int Lseek(in Caller caller, ulong ino, ulong handle, long offset, int whence, out long result);

    int CopyFileRange(in Caller caller, ulong inoIn, ulong handleIn, long offsetIn, ulong inoOut, ulong handleOut, long offsetOut, long length, out long bytesCopied);

    // ---- directories ----

    int OpenDir(in Caller caller, ulong ino, int flags, out OpenResult result);

    /// <summary>
    /// Lists entries after <paramref name="offset"/> (0: from the start, including "." and ".."). Offsets stay
    /// valid while entries are added and removed: no entry present throughout is skipped or repeated.
    /// </summary>
    int ReadDir(in Caller caller, ulong ino, ulong handle, long offset, IDirectoryFiller filler);

    int ReadDirPlus(in Caller caller, ulong ino, ulong handle, long offset, IDirectoryFiller filler);

    int ReleaseDir(ulong ino, ulong handle);

    int FsyncDir(in Caller caller, ulong ino, ulong handle, bool dataOnly);

    // ---- extended attributes ----

    int SetXattr(in Caller caller, ulong ino, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, XattrFlags flags);

    /// <summary>
    /// With an empty <paramref name="value"/>, sets <paramref name="size"/> to the value's size. Otherwise copies
    /// the value, or fails with ERANGE when it does not fit. ENODATA when absent.
    /// </summary>
    int GetXattr(in Caller caller, ulong ino, ReadOnlySpan<byte> name, Span<byte> value, out int size);

    /// <summary>The names, each NUL-terminated, with the same size protocol as <see cref="GetXattr"/>.</summary>
    int ListXattr(in Caller caller, ulong ino, Span<byte> names, out int size);

    int RemoveXattr(in Caller caller, ulong ino, ReadOnlySpan<byte> name);

    // ---- the whole filesystem ----

    int Access(in Caller caller, ulong ino, int mask);

    int StatFs(in Caller caller, ulong ino, out FsStats stats);

    /// <summary>Returns when everything written so far is durable.</summary>
    int SyncFs(in Caller caller);
}
