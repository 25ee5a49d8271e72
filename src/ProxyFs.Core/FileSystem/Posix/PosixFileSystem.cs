using System.Collections.Concurrent;
using ProxyFs.Core.FileSystem.Inodes;

namespace ProxyFs.Core.FileSystem.Posix;

/// <summary>
/// POSIX semantics by inode number over an <see cref="IInodeStore"/>: every rule of <see cref="IFileSystem"/> —
/// permissions, sticky/setgid/suid, ownership of new inodes, timestamps, rename (EXCHANGE, NOREPLACE), link counts,
/// lookup counts and Forget, open handles and the unlinked-but-open lifetime, TmpFile, O_TRUNC/O_APPEND, xattr
/// namespaces and the size protocol, readdir cookies, lseek/fallocate/copy_file_range argument rules, errno for every
/// misuse, and locking — written once for every store. It behaves as tmpfs does on Linux (errno for errno,
/// timestamp for timestamp, directory st_size of 20 bytes per entry), with these deliberate differences:
/// RENAME_WHITEOUT is EINVAL; FALLOC_FL_ZERO_RANGE is supported (tmpfs says EOPNOTSUPP); system.* xattrs (POSIX
/// ACLs) are EOPNOTSUPP; link, unlink and rmdir stamp the directory with a fresh time (tmpfs reuses the ctime it
/// just gave the inode, which can equal the directory's own).
/// </summary>
/// <remarks>
/// <para><b>Locking.</b> One namespace lock (<see cref="ReaderWriterLockSlim"/>) orders every change of directory
/// entries and is read-held by Lookup and ReadDir; each inode's <see cref="Inode.Sync"/> guards its record, data and
/// xattrs. Order: the store's operation scope, the namespace lock, inode locks (two in inode-number order). GetAttr,
/// Read and Write take only the inode lock.</para>
/// <para><b>References.</b> Every inode object used is referenced for as long as it is used: pinned (Acquire/Pin …
/// Unpin) by the operation, or kept by the open handle the operation goes through (Read, Write, and the other
/// handle operations rely on the kernel not releasing a handle while it uses it).</para>
/// <para><b>Changes.</b> Each mutating operation runs in one store scope, checks everything before its first change,
/// reports every record change with <see cref="IInodeStore.Update"/> under the inode's lock, and commits before it
/// lets its locks go.</para>
/// <para><b>Hot paths</b> (GetAttr, Lookup, Read, Write over existing data) allocate nothing.</para>
/// </remarks>
public partial class PosixFileSystem : IFileSystem
{
    private const int NameMax = 255;
    private const int SymlinkMax = 4095;
    private const long DayNanoseconds = 86_400L * 1_000_000_000L;

    private readonly IInodeStore _store;
    private readonly PosixFileSystemOptions _options;
    private readonly StoreLimits _limits;
    private readonly ConcurrentDictionary<ulong, OpenHandle> _handles = new();
    private readonly ReaderWriterLockSlim _namespace = new(LockRecursionPolicy.NoRecursion);
    private long _nextHandle;
    private long _unmatchedForgets;

    public PosixFileSystem(IInodeStore store, PosixFileSystemOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _options = options ?? new PosixFileSystemOptions();
        _limits = store.Limits;
    }

    public ICacheInvalidator? CacheInvalidator { get; set; }

    /// <summary>The store the inodes live in.</summary>
    public IInodeStore Store => _store;

    /// <summary>Open file and directory handles.</summary>
    public int HandleCount => _handles.Count;

    /// <summary>
    /// Forgets of more lookups than an inode had, or of an inode that does not exist. The kernel never sends one, so
    /// under a faithful caller (the tests' VFS emulation) a non-zero count means lookups were lost or an inode freed
    /// while still looked up.
    /// </summary>
    public long UnmatchedForgets => Interlocked.Read(ref _unmatchedForgets);

    /// <summary>The lookup count of an inode, or -1 when it does not exist (tests).</summary>
    public long LookupCount(ulong ino)
    {
        if (_store.Acquire(ino, out Inode inode) != 0)
        {
            return -1;
        }
        try
        {
            lock (inode.Sync)
            {
                return (long)inode.Lookups;
            }
        }
        finally
        {
            _store.Unpin(inode);
        }
    }

    // ---- names ----

    public int Lookup(in Caller caller, ulong parent, ReadOnlySpan<byte> name, out EntryOut entry)
    {
        entry = default;
        Inode? dir = null;
        Inode? target = null;
        _namespace.EnterReadLock();
        try
        {
            int error = ResolveChild(caller, parent, name, out dir, out target);
            if (error != 0)
            {
                return error;
            }
            entry.Ino = target!.Ino;
            entry.Generation = target.Generation;
            lock (target.Sync)
            {
                target.Lookups++;
                Fill(target, out entry.Attr);
            }
            return 0;
        }
        finally
        {
            _namespace.ExitReadLock();
            Unpin(target);
            Unpin(dir);
        }
    }

    /// <summary>
    /// Drops lookups, clamping at 0; an inode that does not exist is ignored. Either means the kernel forgot what
    /// it was never given, or the layer lost count: <see cref="UnmatchedForgets"/> counts them.
    /// </summary>
    public void Forget(ulong ino, ulong nlookup)
    {
        using InodeOperation op = _store.BeginOperation(OperationKind.Forget);
        if (_store.Acquire(ino, out Inode inode) != 0)
        {
            Interlocked.Increment(ref _unmatchedForgets);
            return;
        }
        try
        {
            lock (inode.Sync)
            {
                if (nlookup > inode.Lookups)
                {
                    Interlocked.Increment(ref _unmatchedForgets);
                }
                inode.Lookups = nlookup >= inode.Lookups ? 0 : inode.Lookups - nlookup;
                FreeIfUnused(op, inode);
                op.Commit();
            }
        }
        finally
        {
            _store.Unpin(inode);
        }
    }

    public int GetAttr(in Caller caller, ulong ino, out InodeAttr attr)
    {
        if (_store.Acquire(ino, out Inode inode) != 0)
        {
            attr = default;
            return Errno.ENOENT;
        }
        try
        {
            lock (inode.Sync)
            {
                Fill(inode, out attr);
            }
            return 0;
        }
        finally
        {
            _store.Unpin(inode);
        }
    }

    public int ReadLink(in Caller caller, ulong ino, Span<byte> target, out int length)
    {
        length = 0;
        if (_store.Acquire(ino, out Inode inode) != 0)
        {
            return Errno.ENOENT;
        }
        try
        {
            if (inode.SymlinkTarget is not { } link)
            {
                return Errno.EINVAL;
            }
            if (target.Length < link.Length)
            {
                return Errno.ERANGE;
            }
            link.CopyTo(target);
            length = link.Length;
            lock (inode.Sync)
            {
                TouchAtime(inode);
            }
            return 0;
        }
        finally
        {
            _store.Unpin(inode);
        }
    }

    // ---- the whole filesystem ----

    public int Access(in Caller caller, ulong ino, int mask)
    {
        if (_store.Acquire(ino, out Inode inode) != 0)
        {
            return Errno.ENOENT;
        }
        try
        {
            mask &= AccessMode.R_OK | AccessMode.W_OK | AccessMode.X_OK;
            return mask == 0 || Permissions.May(caller, inode, mask) ? 0 : Errno.EACCES;
        }
        finally
        {
            _store.Unpin(inode);
        }
    }

    public int StatFs(in Caller caller, ulong ino, out FsStats stats)
    {
        _store.GetStats(out stats);
        stats.NameMax = NameMax;
        return 0;
    }

    public int SyncFs(in Caller caller) => _store.SyncAll();

    // ---- shared helpers ----

    private void Unpin(Inode? inode)
    {
        if (inode is not null)
        {
            _store.Unpin(inode);
        }
    }

    /// <summary>Fills <paramref name="attr"/>; the caller holds the inode's lock.</summary>
    private void Fill(Inode inode, out InodeAttr attr)
    {
        attr.Ino = inode.Ino;
        attr.Size = (ulong)inode.Size;
        attr.Blocks = inode.Blocks;
        attr.Atime = inode.Atime;
        attr.Mtime = inode.Mtime;
        attr.Ctime = inode.Ctime;
        attr.Mode = inode.Mode;
        attr.Nlink = inode.Nlink;
        attr.Uid = inode.Uid;
        attr.Gid = inode.Gid;
        attr.Rdev = inode.Rdev;
        attr.BlockSize = _limits.BlockSize;
    }

    /// <summary>The entry of an inode the caller references; takes its lock.</summary>
    private void FillEntry(Inode inode, out EntryOut entry)
    {
        entry.Ino = inode.Ino;
        entry.Generation = inode.Generation;
        lock (inode.Sync)
        {
            Fill(inode, out entry.Attr);
        }
    }

    /// <summary>
    /// Resolves <paramref name="name"/> in directory <paramref name="parent"/> as a path walk does: the parent must
    /// be a searchable directory that still exists. The namespace lock is held. Whatever is found comes back pinned
    /// (the directory also on failure after the walk reached it); the caller unpins.
    /// </summary>
    private int ResolveChild(in Caller caller, ulong parent, ReadOnlySpan<byte> name, out Inode? dir, out Inode? target)
    {
        target = null;
        int error = SearchDirectory(caller, parent, name, out dir);
        if (error != 0)
        {
            return error;
        }
        if (IsDot(name))
        {
            _store.Pin(dir!);
            target = dir;
            return 0;
        }
        ulong ino;
        if (IsDotDot(name))
        {
            ino = dir!.Parent;
        }
        else if (dir!.Directory!.TryFind(name, out DirectoryEntry found))
        {
            ino = found.Ino;
        }
        else
        {
            return Errno.ENOENT;
        }
        error = _store.Acquire(ino, out Inode child);
        if (error != 0)
        {
            return error;
        }
        target = child;
        return 0;
    }

    /// <summary>
    /// The checks of a path walk reaching <paramref name="name"/> in <paramref name="parent"/>; on success the
    /// directory comes back pinned, on failure nothing stays pinned.
    /// </summary>
    private int SearchDirectory(in Caller caller, ulong parent, ReadOnlySpan<byte> name, out Inode? dir)
    {
        dir = null;
        if (_store.Acquire(parent, out Inode inode) != 0)
        {
            return Errno.ENOENT;
        }
        int error = CheckSearch(caller, inode, name);
        if (error != 0)
        {
            _store.Unpin(inode);
            return error;
        }
        dir = inode;
        return 0;
    }

    private static int CheckSearch(in Caller caller, Inode inode, ReadOnlySpan<byte> name)
    {
        if (inode.Directory is null)
        {
            return Errno.ENOTDIR;
        }
        if (!Permissions.May(caller, inode, Permissions.Exec))
        {
            return Errno.EACCES;
        }
        int error = CheckName(name);
        if (error != 0)
        {
            return error;
        }
        return inode.Nlink == 0 ? Errno.ENOENT : 0; // a removed directory: nothing can be found or made in it
    }

    private static int CheckName(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty)
        {
            return Errno.ENOENT;
        }
        if (name.Length > NameMax)
        {
            return Errno.ENAMETOOLONG;
        }
        return name.IndexOfAny((byte)'/', (byte)0) >= 0 ? Errno.EINVAL : 0;
    }

    private static bool IsDot(ReadOnlySpan<byte> name) => name.Length == 1 && name[0] == (byte)'.';

    private static bool IsDotDot(ReadOnlySpan<byte> name) => name.Length == 2 && name[0] == (byte)'.' && name[1] == (byte)'.';

    /// <summary>Frees an inode nobody can reach any more: no link, no lookup, no open handle. Holds its lock.</summary>
    private void FreeIfUnused(InodeOperation op, Inode inode)
    {
        if (inode.Nlink != 0 || inode.Lookups != 0 || inode.Opens != 0 || inode.Freed || inode.Ino == IFileSystem.RootIno)
        {
            return;
        }
        inode.Freed = true;
        _store.Free(op, inode);
    }

    /// <summary>Updates atime after a read as the mount's atime policy says. Holds the inode lock.</summary>
    private void TouchAtime(Inode inode)
    {
        switch (_options.Atime)
        {
            case AtimePolicy.NoAtime:
                return;
            case AtimePolicy.StrictAtime:
                inode.Atime = _store.Now();
                break;
            default:
                // relatime_need_update: atime not after mtime or ctime, or at least a day old.
                Timespec now = _store.Now();
                if (inode.Atime > inode.Mtime && inode.Atime > inode.Ctime && ToNanoseconds(now) - ToNanoseconds(inode.Atime) < DayNanoseconds)
                {
                    return;
                }
                inode.Atime = now;
                break;
        }
        _store.UpdateAtime(inode);
    }

    private static long ToNanoseconds(Timespec t) => (t.Seconds * 1_000_000_000) + t.Nanoseconds;

    /// <summary>A directory gained or lost entries: times, size and link count. Takes the directory's lock.</summary>
    private void DirectoryChanged(InodeOperation op, Inode dir, Timespec now, int entries, int subdirectories)
    {
        lock (dir.Sync)
        {
            dir.Mtime = now;
            dir.Ctime = now;
            dir.Size += entries * InodeRecord.DirentSize;
            dir.Nlink = (uint)(dir.Nlink + subdirectories);
            _store.Update(op, dir);
        }
    }
}
