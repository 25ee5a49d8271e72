using System.Collections.Concurrent;
using ProxyFs.Core.FileSystem.Inodes;

namespace ProxyFs.Core.FileSystem.Memory;

/// <summary>
/// An <see cref="IInodeStore"/> held in memory: what <see cref="MemoryFileSystem"/> (memory://) stands on. Directory
/// entries in hash tables, file data in tmpfs-like pages (<see cref="SparseData"/>), capacity and inode limits from
/// <see cref="MemoryFileSystemOptions"/>; inode numbers count up from the root's and are never reused, so every
/// generation is 1. Nothing is durable, so the sync hooks return at once.
/// </summary>
/// <remarks>
/// <para>By default every inode object stays in memory: the object <em>is</em> the record. Given an eviction budget,
/// the store keeps a copy of each record apart from the objects (written by <see cref="Update"/>, as the volume
/// writes its B+tree) and drops unreferenced objects beyond the budget through <see cref="InodeCache"/>, loading
/// them again from the copy. With a budget of 0 every object goes as soon as nobody references it, and eviction
/// checks that the object agrees with its record: any change the POSIX layer made without
/// <see cref="Update"/>, or through an object it held without a reference, fails loudly; so does an Update without
/// the inode's lock, or a commit after that lock was let go. That test mode is how the layer is shown to keep the
/// contract the volume relies on.</para>
/// </remarks>
public sealed class MemoryInodeStore : IInodeStore, IInodeSource
{
    /// <summary>Symlink targets this long or longer take a page in tmpfs (SHORT_SYMLINK_LEN), hence 8 blocks.</summary>
    public const int ShortSymlinkLength = 128;

    private const ulong Generation = 1;

    private readonly MemoryFileSystemOptions _options;
    private readonly MonotonicClock _clock;
    private readonly MemorySpace _space;
    private readonly InodeCache _cache;
    private readonly ConcurrentDictionary<ulong, Stored>? _records;
    private long _nextIno = (long)IFileSystem.RootIno;
    private long _inodeCount;
    private long _abandoned;

    public MemoryInodeStore(MemoryFileSystemOptions options)
        : this(options, InodeCache.NeverEvict)
    {
    }

    /// <param name="options">Capacity, limits, clock and root of the store.</param>
    /// <param name="unreferencedBudget">
    /// <see cref="InodeCache.NeverEvict"/> (the default: objects are the records), or how many unreferenced inode
    /// objects to keep, evicting the rest and reloading them from a record copy (0: verify the layer's references).
    /// </param>
    public MemoryInodeStore(MemoryFileSystemOptions options, int unreferencedBudget)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _clock = new MonotonicClock(options.Clock);
        _space = new MemorySpace(options.CapacityBytes / SparseData.PageSize);
        bool evicting = unreferencedBudget != InodeCache.NeverEvict;
        _cache = new InodeCache(evicting ? this : null, unreferencedBudget);
        _records = evicting ? new ConcurrentDictionary<ulong, Stored>() : null;
        Limits = new StoreLimits(options.MaxFileSize, options.MaxLinks, SparseData.PageSize);

        InodeRecord rootRecord = InodeRecord.Root(options.RootMode, options.RootUid, options.RootGid, _clock.Now());
        var rootDirectory = new MemoryDirectory(this);
        var rootXattrs = new XattrSet(this);
        _records?.TryAdd(IFileSystem.RootIno, new Stored(rootRecord, null, rootDirectory, null, rootXattrs));
        Inode root = NewObject(IFileSystem.RootIno, rootRecord, null, rootDirectory, null, rootXattrs);
        _cache.Add(root);
        _cache.Unpin(root);
        _inodeCount = 1;
    }

    public StoreLimits Limits { get; }

    /// <summary>Inodes that exist now (linked, looked up or open), the root included.</summary>
    public long InodeCount => Interlocked.Read(ref _inodeCount);

    /// <summary>Inode objects in memory now.</summary>
    public int CachedInodes => _cache.Count;

    /// <summary>Inodes dropped from memory while the kernel still knows them (their lookup counts are kept).</summary>
    public int ParkedInodes => _cache.Parked;

    /// <summary>Inode objects evicted so far (0 unless an eviction budget was given).</summary>
    public long Evictions => _cache.Evictions;

    /// <summary>Operation scopes that ended with changes and no commit: a bug of the layer above when not 0.</summary>
    public long AbandonedOperations => Interlocked.Read(ref _abandoned);

    /// <summary>Inode objects pinned now: when no operation is in progress, pins the layer leaked (counted only when the store evicts).</summary>
    public IReadOnlyList<Inode> PinnedInodes() => _cache.Pinned();

    public Timespec Now() => _clock.Now();

    public int Acquire(ulong ino, out Inode inode) => _cache.Acquire(ino, out inode);

    public void Pin(Inode inode) => _cache.Pin(inode);

    public void Unpin(Inode inode) => _cache.Unpin(inode);

    public InodeOperation BeginOperation(OperationKind kind) => MemoryOperation.Begin(this, kind);

    public bool HasRoomForInode => Interlocked.Read(ref _inodeCount) < _options.MaxInodes;

    public int CreateInode(InodeOperation op, in InodeInit init, out Inode inode)
    {
        if (Interlocked.Increment(ref _inodeCount) > _options.MaxInodes)
        {
            Interlocked.Decrement(ref _inodeCount);
            inode = null!;
            return Errno.ENOSPC;
        }
        op.Record(this);
        uint type = init.Mode & ModeBits.S_IFMT;
        InodeRecord record = init.ToRecord();
        byte[]? symlink = type == ModeBits.S_IFLNK ? init.SymlinkTarget.ToArray() : null;
        MemoryDirectory? directory = type == ModeBits.S_IFDIR ? new MemoryDirectory(this) : null;
        SparseData? data = type == ModeBits.S_IFREG ? new SparseData(this, _space) : null;
        var xattrs = new XattrSet(this);
        ulong ino = (ulong)Interlocked.Increment(ref _nextIno);
        _records?.TryAdd(ino, new Stored(record, symlink, directory, data, xattrs));
        inode = NewObject(ino, record, symlink, directory, data, xattrs);
        _cache.Add(inode);
        return 0;
    }

    public void Update(InodeOperation op, Inode inode)
    {
        op.Record(this);
        if (_records is not null)
        {
            CheckReferenced(inode);
            CheckLocked(inode);
            Record(inode).Record = inode.Snapshot();
            ((MemoryOperation)op).Updated(inode);
        }
    }

    public void UpdateAtime(Inode inode)
    {
        if (_records is not null)
        {
            CheckReferenced(inode);
            CheckLocked(inode);
            Record(inode).Record.Atime = inode.Atime;
        }
    }

    public void Free(InodeOperation op, Inode inode)
    {
        op.Record(this);
        if (!inode.Freed || inode.Nlink != 0 || inode.IsReferenced)
        {
            throw new InvalidOperationException($"{inode}: freed while linked, looked up or open");
        }
        if (inode.Directory is { IsEmpty: false })
        {
            throw new InvalidOperationException($"{inode}: a directory freed with entries");
        }
        _records?.TryRemove(inode.Ino, out _);
        (inode.Data as SparseData)?.ReleaseAll();
        _cache.Remove(inode);
        Interlocked.Decrement(ref _inodeCount);
    }

    /// <summary>Nothing to start: the data is where it will stay.</summary>
    public int Flush(Inode inode) => 0;

    public bool FlushesOnClose => false;

    /// <summary>Nothing to do when a handle goes: the layer frees what the last one kept.</summary>
    public void HandleReleased(Inode inode)
    {
    }

    /// <summary>Memory is as durable as this store gets: returns at once.</summary>
    public int Fsync(Inode inode, bool dataOnly) => 0;

    /// <summary>Memory is as durable as this store gets: returns at once.</summary>
    public int FsyncDirectory(Inode directory, bool dataOnly) => 0;

    /// <summary>Memory is as durable as this store gets: returns at once.</summary>
    public int SyncAll() => 0;

    public void GetStats(out FsStats stats)
    {
        long capacity = _space.CapacityPages;
        long free = Math.Max(0, capacity - _space.UsedPages);
        stats = new FsStats
        {
            Blocks = (ulong)capacity,
            BlocksFree = (ulong)free,
            BlocksAvailable = (ulong)free,
            Files = (ulong)_options.MaxInodes,
            FilesFree = (ulong)Math.Max(0, _options.MaxInodes - InodeCount),
            BlockSize = SparseData.PageSize,
            FragmentSize = SparseData.PageSize,
        };
    }

    int IInodeSource.Load(ulong ino, out Inode inode)
    {
        if (_records is null || !_records.TryGetValue(ino, out Stored? stored))
        {
            inode = null!;
            return Errno.ENOENT;
        }
        inode = NewObject(ino, stored.Record, stored.Symlink, stored.Directory, stored.Data, stored.Xattrs);
        return 0;
    }

    void IInodeSource.Evicted(Inode inode)
    {
        InodeRecord written = Record(inode).Record;
        InodeRecord actual = inode.Snapshot();
        if (written != actual)
        {
            throw new InvalidOperationException($"inode {inode.Ino} was changed without Update: stored {written}, in memory {actual}");
        }
    }

    internal void ReportAbandoned() => Interlocked.Increment(ref _abandoned);

    /// <summary>A change through an object nobody references could be lost to eviction at any moment (checked when evicting: only then are pins counted).</summary>
    private static void CheckReferenced(Inode inode)
    {
        if (Volatile.Read(ref inode.Pins) <= 0 && inode.IsEvictable)
        {
            throw new InvalidOperationException($"{inode}: changed through an object that is neither pinned nor open (evicted: {inode.Evicted})");
        }
    }

    private static void CheckLocked(Inode inode)
    {
        if (!inode.Sync.IsHeldByCurrentThread)
        {
            throw new InvalidOperationException($"{inode}: record changed without holding its lock");
        }
    }

    private Stored Record(Inode inode) =>
        _records!.TryGetValue(inode.Ino, out Stored? stored) ? stored : throw new InvalidOperationException($"{inode}: no record (freed?)");

    private static Inode NewObject(ulong ino, in InodeRecord record, byte[]? symlink, MemoryDirectory? directory, SparseData? data, XattrSet xattrs)
    {
        ulong blocks = symlink is { Length: >= ShortSymlinkLength } ? SparseData.PageSize / 512 : 0UL;
        return new Inode(ino, Generation, record, symlink, directory, data, xattrs, blocks);
    }

    /// <summary>What the store keeps of an inode apart from its object (only when it evicts): the record copy and the parts.</summary>
    private sealed class Stored(InodeRecord record, byte[]? symlink, MemoryDirectory? directory, SparseData? data, XattrSet xattrs)
    {
        public InodeRecord Record = record;

        public byte[]? Symlink { get; } = symlink;
        public MemoryDirectory? Directory { get; } = directory;
        public SparseData? Data { get; } = data;
        public XattrSet Xattrs { get; } = xattrs;
    }
}
