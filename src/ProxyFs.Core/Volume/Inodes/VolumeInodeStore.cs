using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ProxyFs.Core.Cache;
using ProxyFs.Core.FileSystem;
using ProxyFs.Core.FileSystem.Inodes;
using ProxyFs.Core.HeadHunter;
using ProxyFs.Core.LogSegments;
using ProxyFs.ObjectStore;

namespace ProxyFs.Core.Volume.Inodes;

/// <summary>
/// The <see cref="IInodeStore"/> of a volume: every inode, directory entry, extent and xattr is a record of the
/// volume's HeadHunter tree (<see cref="VolumeKeys"/>), file bytes go to log segments, and checkpoints make it all
/// durable. Inode objects are cached (<see cref="InodeCache"/>) and loaded from their records on a miss.
/// </summary>
/// <remarks>
/// <para><b>Atomicity.</b> Each operation scope holds a shared gate from Begin to Dispose; a checkpoint takes the gate
/// exclusively for the instant of its snapshot (<see cref="ICheckpointParticipant.Quiesce"/>), so a checkpoint holds
/// every operation whole or not at all. Inode records changed in a scope are written at its commit, while the layer
/// still holds their locks.</para>
/// <para><b>Durability.</b> Every operation's tree changes are one replay-log record, appended at its commit and
/// group-committed every few milliseconds (<see cref="VolumeJournal"/>). fsync, fdatasync, fsync of a directory and
/// syncfs return once every data segment appended so far is in the store and every record appended so far is
/// committed (<see cref="VolumeCore.SyncAsync"/>). Mounting replays the records the last checkpoint does not hold
/// (<see cref="Replay"/>); extents into data segments that never reached the store read as zeros.</para>
/// <para><b>Stopping.</b> On a read-only mount, once another writer fenced the volume, or after a fault left an
/// operation half made, every change is refused with EROFS (releasing handles and forgetting inodes still work).</para>
/// <para><b>Space.</b> st_blocks counts the 4 KiB pages extents touch, as tmpfs counts its pages; the live bytes of
/// each segment are counted as extents come and go and written into the tree ('S' records) at each checkpoint.</para>
/// </remarks>
public sealed partial class VolumeInodeStore : IInodeStore, IInodeSource, ICheckpointParticipant
{
    /// <summary>Allocation unit of st_blocks and SEEK_DATA/SEEK_HOLE (the page of tmpfs).</summary>
    public const int PageSize = 4096;

    /// <summary>The capacity statfs reports: object stores have no fixed size.</summary>
    private const long VirtualCapacityBytes = 1L << 50;
    private const long VirtualInodes = 1L << 32;

    private readonly VolumeCore _core;
    private readonly VolumeInodeStoreOptions _options;
    private readonly ILogger _log;
    private readonly InodeCache _cache;
    private readonly MonotonicClock _clock;
    private readonly ReaderWriterLockSlim _gate = new(LockRecursionPolicy.NoRecursion);
    private readonly Lock _usageLock = new();
    private readonly ConcurrentDictionary<ulong, byte> _orphans = new();
    private readonly ReadAheadTracker _readAhead;
    private Dictionary<ulong, UsageDelta> _usage = [];
    private long _liveBytes;
    private volatile string? _stopped;
    private long _abandoned;

    private VolumeInodeStore(VolumeCore core, VolumeInodeStoreOptions options, ILogger log)
    {
        _core = core;
        _options = options;
        _log = log;
        _clock = new MonotonicClock(options.Clock);
        _cache = new InodeCache(this, options.UnreferencedInodes);
        _readAhead = new ReadAheadTracker(options.ReadAhead);
        Generation = core.Root.Generation;
        Limits = new StoreLimits(options.MaxFileSize, options.MaxLinks, (uint)options.BlockSize);
        MaxAppend = core.Data?.Options.MaxFlushSize ?? int.MaxValue;
    }

    /// <summary>
    /// Serves the volume <paramref name="core"/> opened: registers for its checkpoints, reads the space figures, and
    /// (unless read-only) frees the inodes a crash left unlinked but open.
    /// </summary>
    public static VolumeInodeStore Open(VolumeCore core, VolumeInodeStoreOptions? options = null, ILogger? log = null)
    {
        ArgumentNullException.ThrowIfNull(core);
        var store = new VolumeInodeStore(core, options ?? new VolumeInodeStoreOptions(), log ?? NullLogger.Instance);
        store.ReadUsage();
        store.Replay();
        if (!core.ReadOnly)
        {
            core.Participant = store;
            store.FreeOrphans();
            core.StartPeriodicCheckpoints();
        }
        return store;
    }

    public StoreLimits Limits { get; }

    /// <summary>Given to every inode created by this mount (the root pointer generation it opened; never repeats).</summary>
    public ulong Generation { get; }

    /// <summary>The volume underneath.</summary>
    public VolumeCore Core => _core;

    internal HeadHunterTree Tree => _core.Tree;

    internal int MaxAppend { get; }

    /// <summary>Inode objects in memory now.</summary>
    public int CachedInodes => _cache.Count;

    /// <summary>Inodes dropped from memory while the kernel still knows them (their lookup counts are kept).</summary>
    public int ParkedInodes => _cache.Parked;

    /// <summary>Inode objects evicted so far.</summary>
    public long Evictions => _cache.Evictions;

    /// <summary>Bytes of segments referenced by extents (what statfs reports as used).</summary>
    public long LiveBytes => Interlocked.Read(ref _liveBytes);

    /// <summary>Why the store refuses changes, or null while it writes.</summary>
    public string? Stopped => _stopped ?? _core.Fenced ?? (_core.ReadOnly ? "the volume is mounted read-only" : null);

    /// <summary>Operation scopes abandoned with changes (each stops the volume).</summary>
    public long AbandonedOperations => Interlocked.Read(ref _abandoned);

    /// <summary>Objects with pins outstanding (a leak when nothing is in progress).</summary>
    public IReadOnlyList<Inode> PinnedInodes() => _cache.Pinned();

    public Timespec Now() => _clock.Now();

    // ---- inode objects ----

    public int Acquire(ulong ino, out Inode inode) => _cache.Acquire(ino, out inode);

    public void Pin(Inode inode) => _cache.Pin(inode);

    public void Unpin(Inode inode) => _cache.Unpin(inode);

    int IInodeSource.Load(ulong ino, out Inode inode)
    {
        Span<byte> key = stackalloc byte[VolumeKeys.MaxLength];
        if (!Tree.TryGet(key[..VolumeKeys.OfInode(key, ino)], out byte[]? value))
        {
            inode = null!;
            return Errno.ENOENT;
        }
        VolumeInodeRecord stored = VolumeInodeRecord.Decode(value, ino);
        inode = NewObject(ino, stored);
        return 0;
    }

    void IInodeSource.Evicted(Inode inode) => _readAhead.Forget(inode.Ino);

    // ---- changes ----

    public InodeOperation BeginOperation(OperationKind kind)
    {
        bool writes = kind is not (OperationKind.Forget or OperationKind.Release);
        if (writes && Stopped is { } why)
        {
            throw new FileSystemErrnoException(Errno.EROFS, $"{_core.Location}: changes refused: {why}");
        }
        VolumeOperation.ThrowIfActive(kind);
        _gate.EnterReadLock();
        try
        {
            return VolumeOperation.Begin(this, kind);
        }
        catch
        {
            _gate.ExitReadLock();
            throw;
        }
    }

    public bool HasRoomForInode => true;

    public int CreateInode(InodeOperation op, in InodeInit init, out Inode inode)
    {
        op.Record(this);
        ulong ino = _core.AllocateInode();
        uint type = init.Mode & ModeBits.S_IFMT;
        var stored = VolumeInodeRecord.From(init.ToRecord(), Generation, nextCookie: FirstCookie, blocks: 0,
            type == ModeBits.S_IFLNK ? init.SymlinkTarget.ToArray() : null);
        inode = NewObject(ino, stored);
        _cache.Add(inode);
        ((VolumeOperation)op).Dirty(inode);
        return 0;
    }

    public void Update(InodeOperation op, Inode inode)
    {
        op.Record(this);
        ((VolumeOperation)op).Updated(inode);
    }

    public void UpdateAtime(Inode inode)
    {
        if (Stopped is null && !inode.Freed)
        {
            // One record put is atomic for a checkpoint; the record seen under the inode's lock holds only committed changes.
            WriteRecord(inode);
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
        ((VolumeOperation)op).Forget(inode);
        (inode.Data as VolumeFileData)?.ReleaseAll();
        DeleteRecords(inode.Ino);
        _readAhead.Forget(inode.Ino);
        _cache.Remove(inode);
    }

    /// <summary>The first cookie of a directory: 1 and 2 are "." and "..".</summary>
    internal const ulong FirstCookie = 3;

    // ---- durability ----

    /// <summary>Nothing to start at close: segments flush by size and age, checkpoints by interval.</summary>
    public int Flush(Inode inode) => 0;

    public bool FlushesOnClose => false;

    public void HandleReleased(Inode inode)
    {
    }

    public int Fsync(Inode inode, bool dataOnly) => Sync();

    public int FsyncDirectory(Inode directory, bool dataOnly) => Sync();

    public int SyncAll() => Sync();

    /// <summary>Stores the data segments and commits the replay log (<see cref="VolumeCore.SyncAsync"/>); EIO when the store failed or the volume was fenced (the data may not be durable).</summary>
    private int Sync()
    {
        if (_core.ReadOnly)
        {
            return 0;
        }
        if (Stopped is { } why)
        {
            _log.LogError("sync of {Location} refused: {Reason}", _core.Location, why);
            return Errno.EIO;
        }
        try
        {
            _core.SyncAsync().GetAwaiter().GetResult();
            return 0;
        }
        catch (Exception e) when (e is ObjectStoreException or IOException or SegmentWriterFailedException or VolumeFencedException or ReplayLog.ReplayLogException)
        {
            _log.LogError(e, "sync of {Location} failed", _core.Location);
            return Errno.EIO;
        }
    }

    public void GetStats(out FsStats stats)
    {
        long capacity = VirtualCapacityBytes / PageSize;
        long used = (LiveBytes + PageSize - 1) / PageSize;
        long free = Math.Max(0, capacity - used);
        long inodesUsed = (long)(_core.Root.NextInode - 1);
        stats = new FsStats
        {
            Blocks = (ulong)capacity,
            BlocksFree = (ulong)free,
            BlocksAvailable = (ulong)free,
            Files = VirtualInodes,
            FilesFree = (ulong)Math.Max(0, VirtualInodes - inodesUsed),
            BlockSize = PageSize,
            FragmentSize = PageSize,
        };
    }

    // ---- checkpoints ----

    /// <summary>Waits out the operations in progress, writes the segment usage counted since the last checkpoint, and holds new operations off.</summary>
    public IDisposable Quiesce()
    {
        _gate.EnterWriteLock();
        try
        {
            WriteUsage();
        }
        catch
        {
            _gate.ExitWriteLock();
            throw;
        }
        return new GateRelease(_gate);
    }

    private sealed class GateRelease(ReaderWriterLockSlim gate) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                gate.ExitWriteLock();
            }
        }
    }

    // ---- for the parts and the scope ----

    /// <summary>A scope ended; its gate is let go. An abandoned scope left half a change in the tree: stop writing.</summary>
    internal void EndOperation(bool abandoned)
    {
        _gate.ExitReadLock();
        if (abandoned)
        {
            Interlocked.Increment(ref _abandoned);
            Stop("an operation failed after it had changed part of the volume's metadata");
        }
    }

    /// <summary>Refuses every later change and every checkpoint (the tree may hold half an operation).</summary>
    public void Stop(string reason)
    {
        if (_stopped is null)
        {
            _stopped = reason;
            _core.Fence(reason);
            _log.LogError("{Location}: stopped writing: {Reason}", _core.Location, reason);
        }
    }

    /// <summary>Writes the record of <paramref name="inode"/> (at commit, under its lock), and its orphan mark.</summary>
    internal void WriteRecord(Inode inode)
    {
        VolumeInodeRecord stored = VolumeInodeRecord.From(inode.Snapshot(), inode.Generation,
            (inode.Directory as VolumeDirectory)?.NextCookie ?? 0, inode.Blocks, inode.SymlinkTarget);
        Span<byte> key = stackalloc byte[VolumeKeys.MaxLength];
        int keyLength = VolumeKeys.OfInode(key, inode.Ino);
        int length = stored.EncodedLength;
        Span<byte> value = length <= 512 ? stackalloc byte[512] : new byte[length];
        stored.Encode(value);
        TreePut(key[..keyLength], value[..length]);
        bool orphan = inode.Nlink == 0;
        if (orphan != _orphans.ContainsKey(inode.Ino))
        {
            keyLength = VolumeKeys.OfOrphan(key, inode.Ino);
            if (orphan)
            {
                TreePut(key[..keyLength], []);
                _orphans.TryAdd(inode.Ino, 0);
            }
            else
            {
                TreeDelete(key[..keyLength]);
                _orphans.TryRemove(inode.Ino, out _);
            }
        }
    }

    /// <summary>Puts a record into the tree, as part of the log record of this thread's operation (if any: atime is not logged).</summary>
    internal void TreePut(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        Tree.Put(key, value);
        VolumeOperation.Current(this)?.LogPut(key, value);
    }

    /// <summary>Deletes a record from the tree, as part of the log record of this thread's operation.</summary>
    internal void TreeDelete(ReadOnlySpan<byte> key)
    {
        Tree.Delete(key);
        VolumeOperation.Current(this)?.LogDelete(key);
    }

    /// <summary>Appends one committed operation's changes to the replay log.</summary>
    internal void Journal(OperationKind kind, ReadOnlySpan<byte> changes, IReadOnlyList<int> starts) =>
        _core.Journal?.Append(kind, changes, starts);

    /// <summary>Counts <paramref name="bytes"/> more (or fewer) live bytes in segment <paramref name="nonce"/>, whose data reaches at least <paramref name="end"/>.</summary>
    internal void CountUsage(ulong nonce, long bytes, long end)
    {
        if (bytes == 0)
        {
            return;
        }
        lock (_usageLock)
        {
            _usage.TryGetValue(nonce, out UsageDelta d);
            _usage[nonce] = new UsageDelta(d.Live + bytes, Math.Max(d.End, end));
        }
        Interlocked.Add(ref _liveBytes, bytes);
    }

    /// <summary>The data length of segment <paramref name="nonce"/> as its 'S' record says (0 when it has none).</summary>
    internal long SegmentDataLength(ulong nonce)
    {
        Span<byte> key = stackalloc byte[VolumeKeys.MaxLength];
        return Tree.TryGet(key[..VolumeKeys.OfSegmentUsage(key, nonce)], out byte[]? value) ? (long)SegmentUsage.Decode(value).DataBytes : 0;
    }

    internal void ReadAhead(VolumeFileData data, ulong ino, long offset, long length)
    {
        PrefetchRange ahead = _readAhead.OnRead(ino, offset, length, _core.DataReader.Cache.ReadAheadRoom);
        if (!ahead.IsEmpty)
        {
            data.Prefetch(ahead.Offset, ahead.Length);
        }
    }

    // ---- internals ----

    private Inode NewObject(ulong ino, in VolumeInodeRecord stored)
    {
        uint type = stored.Mode & ModeBits.S_IFMT;
        VolumeDirectory? directory = type == ModeBits.S_IFDIR ? new VolumeDirectory(this, ino, stored.NextCookie) : null;
        VolumeFileData? data = type == ModeBits.S_IFREG ? new VolumeFileData(this, ino, stored.Blocks) : null;
        var xattrs = new VolumeXattrs(this, ino);
        ulong symlinkBlocks = type == ModeBits.S_IFLNK ? stored.Blocks : 0;
        var inode = new Inode(ino, stored.Generation, stored.ToInodeRecord(), stored.SymlinkTarget, directory, data, xattrs, symlinkBlocks);
        directory?.Attach(inode);
        data?.Attach(inode);
        return inode;
    }

    private void DeleteRecords(ulong ino)
    {
        Span<byte> key = stackalloc byte[VolumeKeys.MaxLength];
        TreeDelete(key[..VolumeKeys.OfInode(key, ino)]);
        if (_orphans.TryRemove(ino, out _))
        {
            TreeDelete(key[..VolumeKeys.OfOrphan(key, ino)]);
        }
        foreach (byte[] name in KeysWithPrefix(VolumeKeys.Xattr, ino))
        {
            TreeDelete(name);
        }
    }

    /// <summary>Every key of one kind about one inode (collected first: the tree is changed afterwards).</summary>
    internal List<byte[]> KeysWithPrefix(byte kind, ulong ino)
    {
        Span<byte> prefix = stackalloc byte[9];
        VolumeKeys.PrefixOf(prefix, kind, ino);
        var keys = new List<byte[]>();
        Tree.ScanPrefix(prefix, (k, _) =>
        {
            keys.Add(k.ToArray());
            return true;
        });
        return keys;
    }

    /// <summary>Inodes a crash left with no links (unlinked while open, or O_TMPFILE never linked): nobody can reach them; free them.</summary>
    private void FreeOrphans()
    {
        var orphans = new List<ulong>();
        Span<byte> prefix = stackalloc byte[1];
        prefix[0] = VolumeKeys.Orphan;
        Tree.ScanPrefix(prefix, (k, _) =>
        {
            orphans.Add(VolumeKeys.FirstNumber(k));
            return true;
        });
        if (orphans.Count == 0)
        {
            return;
        }
        foreach (ulong ino in orphans)
        {
            _orphans.TryAdd(ino, 0);
            using InodeOperation op = BeginOperation(OperationKind.Forget);
            if (_cache.Acquire(ino, out Inode inode) != 0)
            {
                DeleteRecords(ino); // only the mark was left
                continue;
            }
            op.Record(this);
            (inode.Data as VolumeFileData)?.ReleaseAll();
            foreach (byte[] entryKey in inode.IsDirectory ? KeysWithPrefix(VolumeKeys.DirentByName, ino).Concat(KeysWithPrefix(VolumeKeys.DirentByCookie, ino)) : [])
            {
                TreeDelete(entryKey);
            }
            inode.Freed = true;
            DeleteRecords(ino);
            _cache.Remove(inode);
            op.Commit();
        }
        _log.LogInformation("{Location}: freed {Count} inodes left unlinked but open by an earlier mount", _core.Location, orphans.Count);
    }

    private void ReadUsage()
    {
        long live = 0;
        Span<byte> prefix = stackalloc byte[1];
        prefix[0] = VolumeKeys.SegmentUsage;
        Tree.ScanPrefix(prefix, (_, v) =>
        {
            live += (long)SegmentUsage.Decode(v).LiveBytes;
            return true;
        });
        _liveBytes = live;
    }

    /// <summary>Writes the usage counted since the last checkpoint into 'S' records (under the exclusive gate).</summary>
    private void WriteUsage()
    {
        Dictionary<ulong, UsageDelta> counted;
        lock (_usageLock)
        {
            if (_usage.Count == 0)
            {
                return;
            }
            counted = _usage;
            _usage = [];
        }
        // A segment left with no live byte becomes a pending deletion ('P'), dead below the current root (Maintenance/).
        ulong rootNonce = _core.Root.TreeRoot.SegmentNonce;
        long now = (_core.TimeProvider.GetUtcNow().UtcTicks - DateTime.UnixEpoch.Ticks) * 100;
        foreach ((ulong nonce, UsageDelta delta) in counted)
        {
            Maintenance.SegmentLiveness.Apply(Tree, nonce, delta.Live, delta.End, rootNonce, now);
        }
    }

    private readonly record struct UsageDelta(long Live, long End);
}
