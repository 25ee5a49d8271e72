using System.Collections.Concurrent;

namespace ProxyFs.Core.FileSystem.Memory;

/// <summary>
/// The reference POSIX filesystem, held in memory: the model every other <see cref="IFileSystem"/> is checked
/// against, and what <c>memory://</c> serves. It behaves as tmpfs does on Linux (errno for errno, timestamp for
/// timestamp, st_blocks and SEEK_DATA page for page, directory st_size of 20 bytes per entry), with these
/// deliberate differences: RENAME_WHITEOUT is EINVAL; FALLOC_FL_ZERO_RANGE is supported (tmpfs says EOPNOTSUPP);
/// system.* xattrs (POSIX ACLs) are EOPNOTSUPP; user xattrs are not charged against an inode-space budget; link,
/// unlink and rmdir stamp the directory with a fresh time (tmpfs reuses the ctime it just gave the inode, which
/// can equal the directory's own). copy_file_range copies holes as written zeros, as the kernel's splice fallback
/// that tmpfs uses does.
/// </summary>
/// <remarks>
/// <para>Locking: one namespace lock (<see cref="ReaderWriterLockSlim"/>) orders every change of directory entries
/// and is read-held by Lookup and ReadDir; each inode's own lock guards its attributes, data and xattrs. The
/// namespace lock is always taken before an inode lock, and two inode locks are taken in inode-number order.
/// GetAttr, Read and Write take only the inode lock.</para>
/// <para>Hot paths (GetAttr, Lookup, Read, Write over existing pages) allocate nothing: inodes and handles are
/// found in concurrent dictionaries by number, names by span through an alternate lookup.</para>
/// <para>Timestamps come from a clock made strictly increasing, like the fine-grained timestamps Linux gives an
/// inode whose times were just looked at; so "mtime advanced" is always observable after a change.</para>
/// </remarks>
public sealed partial class MemoryFileSystem : IFileSystem
{
    private const int NameMax = 255;
    private const int SymlinkMax = 4095;
    private const long DayNanoseconds = 86_400L * 1_000_000_000L;

    private readonly MemoryFileSystemOptions _options;
    private readonly ConcurrentDictionary<ulong, MemoryInode> _inodes = new();
    private readonly ConcurrentDictionary<ulong, OpenHandle> _handles = new();
    private readonly ReaderWriterLockSlim _namespace = new(LockRecursionPolicy.NoRecursion);
    private readonly long _capacityPages;
    private long _nextIno = (long)IFileSystem.RootIno;
    private long _nextHandle;
    private long _inodeCount;
    private long _usedPages;
    private long _lastNanoseconds;

    public MemoryFileSystem()
        : this(new MemoryFileSystemOptions())
    {
    }

    public MemoryFileSystem(MemoryFileSystemOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _capacityPages = options.CapacityBytes / SparseData.PageSize;
        var root = new MemoryInode(IFileSystem.RootIno, ModeBits.S_IFDIR | (options.RootMode & ModeBits.PermissionMask), options.RootUid, options.RootGid, Now())
        {
            Nlink = 2,
            Size = 2 * MemoryInode.DirentSize,
        };
        root.Directory = new MemoryDirectory(root);
        _inodes[root.Ino] = root;
        _inodeCount = 1;
    }

    public ICacheInvalidator? CacheInvalidator { get; set; }

    /// <summary>Inodes alive now (linked, looked up or open), the root included.</summary>
    public long InodeCount => Interlocked.Read(ref _inodeCount);

    /// <summary>Open file and directory handles.</summary>
    public int HandleCount => _handles.Count;

    /// <summary>The lookup count of an inode, or -1 when it does not exist (tests).</summary>
    public long LookupCount(ulong ino)
    {
        if (!_inodes.TryGetValue(ino, out MemoryInode? inode))
        {
            return -1;
        }
        lock (inode.Sync)
        {
            return (long)inode.Lookups;
        }
    }

    // ---- names ----

    public int Lookup(in Caller caller, ulong parent, ReadOnlySpan<byte> name, out EntryOut entry)
    {
        entry = default;
        _namespace.EnterReadLock();
        try
        {
            int error = ResolveChild(caller, parent, name, out MemoryInode? target);
            if (error != 0)
            {
                return error;
            }
            entry.Ino = target!.Ino;
            entry.Generation = 1;
            lock (target.Sync)
            {
                target.Lookups++;
                target.Fill(out entry.Attr);
            }
            return 0;
        }
        finally
        {
            _namespace.ExitReadLock();
        }
    }

    public void Forget(ulong ino, ulong nlookup)
    {
        if (!_inodes.TryGetValue(ino, out MemoryInode? inode))
        {
            return;
        }
        lock (inode.Sync)
        {
            inode.Lookups = nlookup >= inode.Lookups ? 0 : inode.Lookups - nlookup;
            FreeIfUnused(inode);
        }
    }

    public int GetAttr(in Caller caller, ulong ino, out InodeAttr attr)
    {
        if (!_inodes.TryGetValue(ino, out MemoryInode? inode))
        {
            attr = default;
            return Errno.ENOENT;
        }
        lock (inode.Sync)
        {
            inode.Fill(out attr);
        }
        return 0;
    }

    public int ReadLink(in Caller caller, ulong ino, Span<byte> target, out int length)
    {
        length = 0;
        if (!_inodes.TryGetValue(ino, out MemoryInode? inode))
        {
            return Errno.ENOENT;
        }
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

    // ---- the whole filesystem ----

    public int Access(in Caller caller, ulong ino, int mask)
    {
        if (!_inodes.TryGetValue(ino, out MemoryInode? inode))
        {
            return Errno.ENOENT;
        }
        mask &= AccessMode.R_OK | AccessMode.W_OK | AccessMode.X_OK;
        return mask == 0 || Permissions.May(caller, inode, mask) ? 0 : Errno.EACCES;
    }

    public int StatFs(in Caller caller, ulong ino, out FsStats stats)
    {
        long used = Interlocked.Read(ref _usedPages);
        long inodes = Interlocked.Read(ref _inodeCount);
        stats = new FsStats
        {
            Blocks = (ulong)_capacityPages,
            BlocksFree = (ulong)Math.Max(0, _capacityPages - used),
            BlocksAvailable = (ulong)Math.Max(0, _capacityPages - used),
            Files = (ulong)_options.MaxInodes,
            FilesFree = (ulong)Math.Max(0, _options.MaxInodes - inodes),
            BlockSize = SparseData.PageSize,
            FragmentSize = SparseData.PageSize,
            NameMax = NameMax,
        };
        return 0;
    }

    /// <summary>Everything is in memory: nothing to wait for.</summary>
    public int SyncFs(in Caller caller) => 0;

    // ---- shared helpers ----

    /// <summary>The current time, strictly later than any time handed out before.</summary>
    private Timespec Now()
    {
        if (_options.Clock is { } clock)
        {
            return clock();
        }
        long wall = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;
        while (true)
        {
            long last = Volatile.Read(ref _lastNanoseconds);
            long next = wall > last ? wall : last + 1;
            if (Interlocked.CompareExchange(ref _lastNanoseconds, next, last) == last)
            {
                return new Timespec(next / 1_000_000_000, (uint)(next % 1_000_000_000));
            }
        }
    }

    private bool TryGetInode(ulong ino, out MemoryInode inode)
    {
        bool found = _inodes.TryGetValue(ino, out MemoryInode? value);
        inode = value!;
        return found;
    }

    /// <summary>
    /// Resolves <paramref name="name"/> in directory <paramref name="parent"/> as a path walk does: the parent must
    /// be a searchable directory that still exists. The namespace lock is held.
    /// </summary>
    private int ResolveChild(in Caller caller, ulong parent, ReadOnlySpan<byte> name, out MemoryInode? target)
    {
        target = null;
        int error = SearchDirectory(caller, parent, name, out MemoryInode? dir);
        if (error != 0)
        {
            return error;
        }
        if (IsDot(name))
        {
            target = dir;
        }
        else if (IsDotDot(name))
        {
            target = dir!.Directory!.Parent;
        }
        else
        {
            target = dir!.Directory!.Find(name)?.Inode;
        }
        return target is null ? Errno.ENOENT : 0;
    }

    /// <summary>The checks of a path walk reaching <paramref name="name"/> in <paramref name="parent"/>.</summary>
    private int SearchDirectory(in Caller caller, ulong parent, ReadOnlySpan<byte> name, out MemoryInode? dir)
    {
        dir = null;
        if (!TryGetInode(parent, out MemoryInode inode))
        {
            return Errno.ENOENT;
        }
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
        if (inode.Nlink == 0)
        {
            return Errno.ENOENT; // a removed directory: nothing can be found or made in it
        }
        dir = inode;
        return 0;
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

    /// <summary>Drops an inode nobody can reach any more: no link, no lookup, no open handle. Holds its lock.</summary>
    private void FreeIfUnused(MemoryInode inode)
    {
        if (inode.Nlink != 0 || inode.Lookups != 0 || inode.Opens != 0 || inode.Freed || inode.Ino == IFileSystem.RootIno)
        {
            return;
        }
        inode.Freed = true;
        _inodes.TryRemove(inode.Ino, out _);
        Interlocked.Decrement(ref _inodeCount);
        if (inode.Data is { } data)
        {
            Interlocked.Add(ref _usedPages, -data.AllocatedPages);
            inode.Data = null;
        }
        inode.Xattrs = null;
    }

    /// <summary>Reserves <paramref name="pages"/> of capacity; false (ENOSPC) when they are not there.</summary>
    private bool ReservePages(long pages)
    {
        if (pages <= 0)
        {
            return true;
        }
        if (Interlocked.Add(ref _usedPages, pages) > _capacityPages)
        {
            Interlocked.Add(ref _usedPages, -pages);
            return false;
        }
        return true;
    }

    private void ReleasePages(long pages)
    {
        if (pages != 0)
        {
            Interlocked.Add(ref _usedPages, -pages);
        }
    }

    /// <summary>Updates atime after a read as the mount's atime policy says. Holds the inode lock.</summary>
    private void TouchAtime(MemoryInode inode)
    {
        switch (_options.Atime)
        {
            case AtimePolicy.NoAtime:
                return;
            case AtimePolicy.StrictAtime:
                inode.Atime = Now();
                return;
            default:
                // relatime_need_update: atime not after mtime or ctime, or at least a day old.
                Timespec now = Now();
                if (inode.Atime <= inode.Mtime || inode.Atime <= inode.Ctime || ToNanoseconds(now) - ToNanoseconds(inode.Atime) >= DayNanoseconds)
                {
                    inode.Atime = now;
                }
                return;
        }
    }

    private static long ToNanoseconds(Timespec t) => (t.Seconds * 1_000_000_000) + t.Nanoseconds;

    /// <summary>A directory gained or lost entries: times, size and link count. Takes the directory's lock.</summary>
    private static void DirectoryChanged(MemoryInode dir, Timespec now, int entries, int subdirectories)
    {
        lock (dir.Sync)
        {
            dir.Mtime = now;
            dir.Ctime = now;
            dir.Size += entries * MemoryInode.DirentSize;
            dir.Nlink = (uint)(dir.Nlink + subdirectories);
        }
    }
}
