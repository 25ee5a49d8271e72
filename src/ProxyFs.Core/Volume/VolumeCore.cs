using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ProxyFs.Core.Cache;
using ProxyFs.Core.Durability;
using ProxyFs.Core.FileSystem;
using ProxyFs.Core.HeadHunter;
using ProxyFs.Core.LogSegments;
using ProxyFs.ObjectStore;
using SegmentWriter = ProxyFs.Core.LogSegments.SegmentWriter;

namespace ProxyFs.Core.Volume;

/// <summary>
/// The persistent state of a volume in a store: its descriptor, its root pointer, the HeadHunter tree of all its
/// metadata, and its data segments. Formats and opens volumes and runs checkpoints. What the records mean (inodes,
/// directories, extents) is the inode store's business, built on top.
/// </summary>
/// <remarks>
/// A checkpoint: (1) snapshot the tree's dirty pages into a metadata segment image, (2) make durable every data
/// segment appended before the snapshot (an extent enters the tree only after its bytes were appended, so this covers
/// every extent in the snapshot), (3) store the metadata segment, (4) replace the root pointer with a conditional
/// write. A crash at any step leaves the previous root pointer, whose tree and data are complete. A refused root
/// pointer write means another writer: the volume turns read-only.
/// </remarks>
public sealed class VolumeCore : IAsyncDisposable
{
    private readonly IObjectStore _store;
    private readonly RootPointerStore _rootStore;
    private readonly VolumeOptions _options;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _rootLock = new(1, 1);
    private readonly SemaphoreSlim _checkpointLock = new(1, 1);
    private ITimer? _timer;
    private readonly NonceReservation? _nonces;
    private readonly ReadCacheVolume? _cacheVolume;
    private RootPointer _root;
    private HeadHunterCheckpoint? _pending;
    private ulong _pendingEpoch;
    private long _nextInode;
    private volatile string? _fenced;
    private int _disposed;
    private long _checkpoints;
    private long _lastCheckpointTicks;

    private VolumeCore(IObjectStore store, RootPointerStore rootStore, VolumeDescriptor descriptor, RootPointer root,
        HeadHunterTree tree, VolumeJournal? journal, VolumeOptions options, ReadCache? cache, ILogger log)
    {
        Journal = journal;
        _store = store;
        _rootStore = rootStore;
        _options = options;
        _log = log;
        Descriptor = descriptor;
        _root = root;
        Tree = tree;
        _nextInode = (long)root.NextInode;
        _lastCheckpointTicks = options.TimeProvider.GetTimestamp();
        ReadOnly = options.ReadOnly || options.Generation is not null;
        if (!ReadOnly)
        {
            _nonces = new NonceReservation(root.NoncesReservedUpTo, root.NoncesReservedUpTo, options.NonceBatch, Reserve);
            Data = new SegmentWriter(store, _nonces, descriptor.VolumeIdBytes, options.Segments with
            {
                MaxFlushSize = options.MaxFlushSize ?? descriptor.MaxSegmentSize,
                BlockSize = descriptor.SegmentBlockSize,
                KeyPrefix = VolumeLayout.DataSegments.Prefix,
                TimeProvider = options.TimeProvider,
            });
        }
        Spill = journal is null ? null : new SegmentSpill(Path.Combine(journal.Directory, SegmentSpill.DirectoryName));
        // A read-only mount uploads nothing: it reads the segments a read-write mount has yet to upload from their files.
        IObjectStore dataStore = store;
        if (ReadOnly && Spill?.List() is { Count: > 0 } spilled && new SpillReadOverlay(store, VolumeLayout.DataSegments, spilled) is { Count: > 0 } overlay)
        {
            SpilledOverlay = overlay;
            dataStore = overlay;
        }
        _cacheVolume = (cache ?? new ReadCache(new ReadCacheOptions())).RegisterVolume(options.ReadCacheName ?? descriptor.VolumeId.ToString(), options.ReadCacheWeight);
        DataReader = new SegmentReader(dataStore, _cacheVolume, descriptor.VolumeIdBytes, Data,
            new SegmentReaderOptions { KeyPrefix = VolumeLayout.DataSegments.Prefix, DiskTier = options.ReadCacheDiskTier, BlockSize = Data?.Options.BlockSize ?? new SegmentWriterOptions().BlockSize });
    }

    /// <summary>
    /// Starts the periodic checkpoints (every <see cref="VolumeOptions.CheckpointInterval"/>; none when it is zero or the
    /// volume is read-only). Called once the volume is ready for them — the replay log replayed and the
    /// <see cref="Participant"/> registered — never from the open itself: a checkpoint during replay would freeze a tree
    /// half replayed and trim records not yet applied. Each one is armed when the previous one has finished, so a slow
    /// store (or an outage) never piles checkpoints up. Idempotent.
    /// </summary>
    public void StartPeriodicCheckpoints()
    {
        if (ReadOnly || _options.CheckpointInterval <= TimeSpan.Zero || Volatile.Read(ref _disposed) != 0)
        {
            return;
        }
        ITimer timer = _options.TimeProvider.CreateTimer(_ => _ = PeriodicCheckpointAsync(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (Interlocked.CompareExchange(ref _timer, timer, null) is not null)
        {
            timer.Dispose();
            return;
        }
        timer.Change(_options.CheckpointInterval, Timeout.InfiniteTimeSpan);
    }

    public VolumeDescriptor Descriptor { get; }

    public HeadHunterTree Tree { get; }

    /// <summary>
    /// The replay log: every operation's changes since the last checkpoint. Null on a read-only mount of a cleanly
    /// unmounted volume (nothing to replay); read-only on a read-only mount of one that was not.
    /// </summary>
    public VolumeJournal? Journal { get; }

    /// <summary>
    /// Where the data segments the store did not take are written when the volume closes during an outage
    /// (<c>spill/</c> in the replay log directory), and uploaded from by the next read-write mount; null without a
    /// replay log.
    /// </summary>
    public SegmentSpill? Spill { get; }

    /// <summary>A read-only mount's reads of the segments waiting in <see cref="Spill"/>; null when none wait or the mount is read-write.</summary>
    internal SpillReadOverlay? SpilledOverlay { get; }

    /// <summary>Where the data segments are read from: the store, or the store and the spill directory (<see cref="SpilledOverlay"/>).</summary>
    internal IObjectStore DataStore => (IObjectStore?)SpilledOverlay ?? _store;

    /// <summary>The data segment writer; null on a read-only mount.</summary>
    public SegmentWriter? Data { get; }

    public SegmentReader DataReader { get; }

    public bool ReadOnly { get; }

    /// <summary>Why this volume stopped writing (another writer, a failed store), or null.</summary>
    public string? Fenced => _fenced;

    /// <summary>The root pointer as last read or written.</summary>
    public RootPointer Root => Volatile.Read(ref _root);

    public string Location => _store.Location;

    /// <summary>
    /// What writes the tree between checkpoints (the inode store): quiesced around each checkpoint's snapshot so
    /// the snapshot never holds half an operation. Set once, before the first change.
    /// </summary>
    public ICheckpointParticipant? Participant { get; set; }

    /// <summary>Checkpoints completed by this mount.</summary>
    public long Checkpoints => Interlocked.Read(ref _checkpoints);

    /// <summary>Time since the last checkpoint of this mount completed (since the mount, before the first).</summary>
    public TimeSpan SinceLastCheckpoint => _options.TimeProvider.GetElapsedTime(Volatile.Read(ref _lastCheckpointTicks));

    /// <summary>The object store the volume lives in.</summary>
    public IObjectStore Store => _store;

    /// <summary>
    /// The nonce reservation of the root pointer this mount opened: every nonce below it was handed out by an earlier
    /// mount, which is gone, so a segment below it that the tree does not name is nobody's (space reclamation).
    /// </summary>
    public ulong OpenedReservation { get; private init; }

    /// <summary>The clock of this mount (checkpoint times, pending deletions).</summary>
    public TimeProvider TimeProvider => _options.TimeProvider;

    /// <summary>A new inode number (persisted by the next checkpoint; never handed out twice by this mount).</summary>
    public ulong AllocateInode() => (ulong)Interlocked.Increment(ref _nextInode) - 1;

    /// <summary>After replay: inode numbers the replayed records used are never handed out again.</summary>
    public void ReserveInodesBelow(ulong next)
    {
        long now;
        while ((now = Interlocked.Read(ref _nextInode)) < (long)next && Interlocked.CompareExchange(ref _nextInode, (long)next, now) != now)
        {
        }
    }

    /// <summary>Creates a volume: descriptor, an empty tree filled by <paramref name="initialize"/>, and root pointer generation 1.</summary>
    public static async Task<VolumeDescriptor> FormatAsync(IObjectStore store, VolumeFormatOptions format, Action<HeadHunterTree, Func<ulong>> initialize,
        TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(initialize);
        time ??= TimeProvider.System;
        ObjectInfo? existing = await store.TryHeadAsync(VolumeLayout.DescriptorKey, cancellationToken).ConfigureAwait(false);
        if (existing is not null)
        {
            if (!format.Force)
            {
                string what = await DescribeAsync(store, cancellationToken).ConfigureAwait(false);
                throw new InvalidOperationException($"{store.Location} already holds a volume ({what}); format --force replaces it and destroys its data");
            }
            await DeleteAllAsync(store, cancellationToken).ConfigureAwait(false);
        }
        var descriptor = new VolumeDescriptor(Guid.NewGuid(), Nanoseconds(time), format.MaxSegmentSize, format.PageSize, format.SegmentBlockSize, format.Label);
        var pages = new StorePageSource(store, VolumeLayout.MetadataSegments);
        using HeadHunterTree tree = HeadHunterTree.Create(pages, new HeadHunterOptions { PageSize = format.PageSize });
        ulong nextInode = IFileSystem.RootIno;
        initialize(tree, () => nextInode++);
        const ulong FirstNonce = 1;
        HeadHunterCheckpoint cp = tree.BeginCheckpoint(FirstNonce);
        try
        {
            await store.PutAsync(VolumeLayout.DescriptorKey, descriptor.Encode(), PutCondition.IfNoneMatch, cancellationToken).ConfigureAwait(false);
            if (!cp.IsEmpty)
            {
                await store.PutAsync(VolumeLayout.MetadataSegments.KeyOf(FirstNonce), cp.Segment, PutCondition.IfNoneMatch, cancellationToken).ConfigureAwait(false);
            }
            var root = new RootPointer(descriptor.VolumeId, 1, descriptor.CreatedNanoseconds, cp.RootAddress, nextInode,
                FirstNonce + 1, 0, CleanUnmount: true, []);
            await new RootPointerStore(store).CreateAsync(root, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            tree.CompleteCheckpoint(cp);
        }
        return descriptor;
    }

    /// <summary>Opens a volume. Unless read-only, records a nonce reservation first: that write also fences any other writer.</summary>
    public static async Task<VolumeCore> OpenAsync(IObjectStore store, VolumeOptions options, ReadCache? cache = null, ILogger? log = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        log ??= NullLogger.Instance;
        VolumeDescriptor descriptor = await ReadDescriptorAsync(store, cancellationToken).ConfigureAwait(false);
        if (options.MaxFlushSize is < 1 || options.MaxFlushSize > descriptor.MaxSegmentSize)
        {
            throw new InvalidOperationException(
                $"a flush size of {options.MaxFlushSize} bytes is outside 1 to this volume's segment size of {descriptor.MaxSegmentSize} bytes (fixed when it was formatted)");
        }
        var rootStore = new RootPointerStore(store);
        RootPointer root = await rootStore.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (root.VolumeId != descriptor.VolumeId)
        {
            throw new VolumeFormatException($"{rootStore.Location} belongs to volume {root.VolumeId}, not {descriptor.VolumeId}");
        }
        PageAddress treeRoot = root.TreeRoot;
        if (options.Generation is ulong g && g != root.Generation)
        {
            CheckpointGeneration? older = root.History.Cast<CheckpointGeneration?>().FirstOrDefault(h => h!.Value.Generation == g);
            if (older is null)
            {
                throw new InvalidOperationException(
                    $"checkpoint generation {g} is not kept by {store.Location}; kept: {string.Join(", ", root.History.Select(h => h.Generation).Prepend(root.Generation))}");
            }
            treeRoot = older.Value.TreeRoot;
        }
        var pages = new StorePageSource(store, VolumeLayout.MetadataSegments);
        HeadHunterTree tree = treeRoot.IsNone ? HeadHunterTree.Create(pages, options.TreeOptions(descriptor)) : HeadHunterTree.Open(pages, treeRoot, options.TreeOptions(descriptor));
        VolumeJournal? journal;
        try
        {
            journal = OpenJournal(store, descriptor, root, options, log);
        }
        catch
        {
            tree.Dispose();
            throw;
        }
        var volume = new VolumeCore(store, rootStore, descriptor, root, tree, journal, options, cache, log) { OpenedReservation = root.NoncesReservedUpTo };
        if (!volume.ReadOnly)
        {
            if (!root.CleanUnmount)
            {
                log.LogWarning("{Location} was not unmounted cleanly: replaying the changes made after checkpoint generation {Generation} from {Log}",
                    store.Location, root.Generation, journal!.Directory);
            }
            try
            {
                await volume.WriteRootAsync(root.TreeRoot, cleanUnmount: false, epoch: null, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                volume.Fence($"the mount's root pointer write failed: {e.Message}");
                await volume.DisposeAsync().ConfigureAwait(false);
                throw;
            }
            try
            {
                await volume.UploadSpilledAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                volume.Fence($"the segments spilled to {volume.Spill!.Directory} could not be uploaded: {e.Message}");
                await volume.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        else if (volume.SpilledOverlay is { } overlay)
        {
            log.LogWarning("{Directory} holds {Count} data segments that a read-write mount uploads before replaying the log; "
                + "this read-only mount reads them from there", volume.Spill!.Directory, overlay.Count);
        }
        return volume;
    }

    /// <summary>The replay log a mount uses: read-write unless read-only; a read-only mount reads one only when the volume was not unmounted cleanly.</summary>
    private static VolumeJournal? OpenJournal(IObjectStore store, VolumeDescriptor descriptor, RootPointer root, VolumeOptions options, ILogger log)
    {
        string directory = options.ReplayLogDirectory
            ?? (options.ReplayLogParent is { } parent ? Path.Combine(parent, descriptor.VolumeId.ToString()) : ReplayLog.VolumeReplayLog.DefaultDirectory(descriptor.VolumeId));
        bool readOnly = options.ReadOnly || options.Generation is not null;
        if (!readOnly)
        {
            return VolumeJournal.Open(directory, descriptor.VolumeId, root.CleanUnmount, root.ReplayLogEpoch, options, log);
        }
        if (options.Generation is null && !root.CleanUnmount)
        {
            log.LogInformation("{Location} was not unmounted cleanly: a read-only mount replays its log from {Directory} in memory", store.Location, directory);
            return VolumeJournal.OpenForReading(directory, descriptor.VolumeId, root.ReplayLogEpoch, options, log);
        }
        return null;
    }

    public static async Task<VolumeDescriptor> ReadDescriptorAsync(IObjectStore store, CancellationToken cancellationToken = default)
    {
        byte[] bytes;
        try
        {
            bytes = await store.GetBytesAsync(VolumeLayout.DescriptorKey, default, cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectStoreException e) when (e.Kind == ObjectStoreErrorKind.NotFound)
        {
            throw new VolumeFormatException($"{store.Location} holds no proxyfs volume (no '{VolumeLayout.DescriptorKey}' object); create one with: proxyfs format {store.Location}");
        }
        return VolumeDescriptor.Decode(bytes, store.Location + "/" + VolumeLayout.DescriptorKey);
    }

    private static async Task<string> DescribeAsync(IObjectStore store, CancellationToken cancellationToken)
    {
        try
        {
            VolumeDescriptor d = await ReadDescriptorAsync(store, cancellationToken).ConfigureAwait(false);
            return $"id {d.VolumeId}, created {DateTime.UnixEpoch.AddTicks(d.CreatedNanoseconds / 100):u}{(d.Label.Length > 0 ? ", label " + d.Label : "")}";
        }
        catch (VolumeFormatException e)
        {
            return "unreadable: " + e.Message;
        }
    }

    private static async Task DeleteAllAsync(IObjectStore store, CancellationToken cancellationToken)
    {
        // The descriptor last: an interrupted --force leaves a volume that format still recognizes.
        var keys = new List<string>();
        await foreach (ObjectInfo o in store.ListAllAsync("", cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            keys.Add(o.Key);
        }
        foreach (string key in keys.Where(k => k != VolumeLayout.DescriptorKey))
        {
            await store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
        }
        await store.DeleteAsync(VolumeLayout.DescriptorKey, cancellationToken).ConfigureAwait(false);
    }

    private static long Nanoseconds(TimeProvider time) => (time.GetUtcNow().UtcTicks - DateTime.UnixEpoch.Ticks) * 100;

    /// <summary>
    /// Makes everything written so far durable: data segments, the tree's dirty pages, the root pointer.
    /// A checkpoint whose upload fails stays pending (the tree keeps serving its pages from the image) and is
    /// finished first by the next call. Throws <see cref="VolumeFencedException"/> (and turns the volume
    /// read-only) when another writer took over.
    /// </summary>
    public async Task CheckpointAsync(bool cleanUnmount = false, CancellationToken cancellationToken = default)
    {
        ThrowIfCannotWrite();
        // Checkpoints run one at a time under their own lock. The root lock is taken only around root pointer writes,
        // and the writers' quiesce only around the snapshot: a writer that holds its operation and waits for a nonce
        // reservation (a root pointer write) never waits on a checkpoint that waits for that writer.
        await _checkpointLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfCannotWrite();
            if (_pending is not null)
            {
                await FinishAsync(_pending, cleanUnmount: false, cancellationToken).ConfigureAwait(false);
            }
            ulong nonce = _nonces!.Next();
            using (Participant?.Quiesce())
            {
                _pending = Tree.BeginCheckpoint(nonce);
                // Records appended from now on are not in this checkpoint: they get the epoch it records.
                _pendingEpoch = Journal?.AdvanceEpoch() ?? Root.ReplayLogEpoch;
            }
            CrashPoints.Hit(CrashPoints.CheckpointAfterFreeze);
            await FinishAsync(_pending, cleanUnmount, cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _checkpoints);
            Volatile.Write(ref _lastCheckpointTicks, _options.TimeProvider.GetTimestamp());
        }
        finally
        {
            _checkpointLock.Release();
        }
    }

    private async Task FinishAsync(HeadHunterCheckpoint cp, bool cleanUnmount, CancellationToken cancellationToken)
    {
        RootPointer root = Root;
        bool unchanged = cp.IsEmpty && cp.RootAddress == root.TreeRoot && !cleanUnmount && !root.CleanUnmount
            && (ulong)Interlocked.Read(ref _nextInode) == root.NextInode && !_nonces!.Low;
        ulong epoch = _pendingEpoch;
        // Every extent in the snapshot was added after its bytes were appended: flushing now covers them all.
        await FlushDataAsync(cancellationToken).ConfigureAwait(false);
        CrashPoints.Hit(CrashPoints.CheckpointAfterDataFlush);
        if (!cp.IsEmpty)
        {
            // Unconditional: the nonce is this volume's alone, and a retry may find its own earlier put.
            await _store.PutAsync(VolumeLayout.MetadataSegments.KeyOf(cp.SegmentNonce), cp.Segment, PutCondition.None, cancellationToken).ConfigureAwait(false);
        }
        if (!unchanged)
        {
            CrashPoints.Hit(CrashPoints.CheckpointBeforeRootSwing);
            await WriteRootAsync(cp.RootAddress, cleanUnmount, epoch, cancellationToken).ConfigureAwait(false);
            CrashPoints.Hit(CrashPoints.CheckpointAfterRootSwing);
        }
        Tree.CompleteCheckpoint(cp);
        _pending = null;
        if (!unchanged && Journal is not null)
        {
            // The root pointer now records epoch E: the records below E are in the store.
            await Journal.TrimAsync(epoch, cancellationToken).ConfigureAwait(false);
            CrashPoints.Hit(CrashPoints.CheckpointAfterTrim);
        }
    }

    /// <summary>
    /// What fsync, fdatasync and syncfs wait for: every data segment appended so far is in the store, then every
    /// replay-log record appended so far is committed. A full checkpoint instead when the log cannot take records.
    /// </summary>
    public async Task SyncAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfCannotWrite();
        if (Journal is null || Journal.Lost)
        {
            await CheckpointAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return;
        }
        await FlushDataAsync(cancellationToken).ConfigureAwait(false);
        CrashPoints.Hit(CrashPoints.FsyncAfterSegments);
        if (!Journal.CommitAll())
        {
            await CheckpointAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Stores every data segment appended so far. When the segment writer has failed (the store refused or did not
    /// answer through all of an upload's retries: an outage), the segments it kept in memory are uploaded again first,
    /// so the volume takes writes again once the store is back: each fsync and each periodic checkpoint tries.
    /// </summary>
    private async Task FlushDataAsync(CancellationToken cancellationToken)
    {
        SegmentWriter data = Data!;
        if (data.State == SegmentWriterState.Failed)
        {
            _log.LogWarning("{Location}: uploading again the {Count} data segment(s) kept in memory since the store failed ({Reason})",
                _store.Location, data.FailedSegments.Count, data.Failure?.Message);
            await data.RetryFailedAsync(cancellationToken).ConfigureAwait(false);
            _log.LogInformation("{Location}: the data segments kept in memory are stored; writes are accepted again", _store.Location);
            return;
        }
        await data.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops all writing (checkpoints included) for <paramref name="reason"/>: what is in the store stays as the last checkpoint left it.</summary>
    public void Fence(string reason)
    {
        if (_fenced is null)
        {
            _fenced = reason;
            _log.LogError("{Location}: no more checkpoints: {Reason}", _store.Location, reason);
        }
    }

    private void ThrowIfCannotWrite()
    {
        if (ReadOnly)
        {
            throw new InvalidOperationException("the volume is mounted read-only");
        }
        if (_fenced is not null)
        {
            throw new VolumeFencedException(_fenced);
        }
    }

    /// <param name="epoch">The replay log epoch the new root records (a checkpoint's); null: the current root's (same tree).</param>
    private async Task WriteRootAsync(PageAddress treeRoot, bool cleanUnmount, ulong? epoch, CancellationToken cancellationToken)
    {
        await _rootLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await WriteRootLockedAsync(treeRoot, cleanUnmount, epoch, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _rootLock.Release();
        }
    }

    private async Task WriteRootLockedAsync(PageAddress treeRoot, bool cleanUnmount, ulong? epoch, CancellationToken cancellationToken)
    {
        ulong reservation = _nonces!.Low ? _nonces.NextReservation : _nonces.ReservedUpTo;
        RootPointer next = Root.Next(treeRoot, Nanoseconds(_options.TimeProvider), (ulong)Interlocked.Read(ref _nextInode), reservation, cleanUnmount, _options.KeepCheckpoints);
        next = next with { ReplayLogEpoch = epoch ?? Root.ReplayLogEpoch };
        try
        {
            await _rootStore.ReplaceAsync(next, cancellationToken).ConfigureAwait(false);
        }
        catch (VolumeFencedException e)
        {
            _fenced = e.Message;
            _log.LogError("{Message}", e.Message);
            throw;
        }
        Volatile.Write(ref _root, next);
        _nonces.Recorded(reservation);
    }

    /// <summary>A batch of nonces ran out between checkpoints: record a larger reservation now (same tree root).</summary>
    private ulong Reserve(ulong atLeast)
    {
        WriteRootAsync(Root.TreeRoot, cleanUnmount: false, epoch: null, CancellationToken.None).GetAwaiter().GetResult();
        ulong limit = _nonces!.ReservedUpTo;
        return limit >= atLeast ? limit : throw new InvalidOperationException($"nonce reservation {limit} below {atLeast}");
    }

    private async Task PeriodicCheckpointAsync()
    {
        if (_fenced is not null || Volatile.Read(ref _disposed) != 0)
        {
            return;
        }
        try
        {
            await CheckpointAsync().ConfigureAwait(false);
        }
        catch (VolumeFencedException)
        {
            // Logged where it was detected; the volume is read-only from now on.
        }
        catch (Exception e) when (e is ObjectStoreException or IOException or SegmentWriterFailedException)
        {
            _log.LogError(e, "periodic checkpoint of {Location} failed; retrying at the next interval", _store.Location);
        }
        catch (Exception e)
        {
            // Nothing above this task would see it: say it loudly (unless the volume was being disposed under it), and
            // keep trying at the next interval.
            _log.Log(Volatile.Read(ref _disposed) == 0 ? LogLevel.Critical : LogLevel.Debug, e,
                "periodic checkpoint of {Location} failed unexpectedly; retrying at the next interval", _store.Location);
        }
        if (_fenced is null && Volatile.Read(ref _disposed) == 0)
        {
            try
            {
                _timer?.Change(_options.CheckpointInterval, Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
                // The volume was disposed since the check above: there is nothing to arm again.
            }
        }
    }

    /// <summary>
    /// Tests in this process: as if the process died now. Nothing more is written to the store (no checkpoint, no
    /// flush); the replay log is closed with the records appended so far (as the next group commit would have made
    /// them durable) so that another mount in this process can open it.
    /// </summary>
    internal void AbandonForTest()
    {
        Interlocked.Exchange(ref _disposed, 1);
        _timer?.Dispose();
        Fence("abandoned: a simulated crash");
        Journal?.Close(clean: false);
    }

    /// <summary>
    /// Before the replay log is replayed (a mount): uploads the data segments an earlier mount spilled to local disk
    /// because the store was down when it closed, so that every extent the log re-applies points at a stored segment.
    /// </summary>
    private async Task UploadSpilledAsync(CancellationToken cancellationToken)
    {
        // Listed once: the listing both decides whether there is anything to upload and is what is uploaded.
        IReadOnlyList<SpilledSegment> spilled = Spill?.List() ?? [];
        if (spilled.Count == 0)
        {
            return;
        }
        _log.LogWarning("{Directory}: uploading the data segments spilled when the store was down at the last unmount", Spill!.Directory);
        SpillUpload done = await Spill.UploadAsync(spilled, _store, VolumeLayout.DataSegments, Descriptor.VolumeIdBytes, _log, cancellationToken).ConfigureAwait(false);
        _log.LogWarning("{Location}: {Count} spilled data segments ({Bytes} bytes) are in the store{Discarded}; {Directory} is removed",
            _store.Location, done.Uploaded, done.Bytes, done.Discarded > 0 ? $"; {done.Discarded} interrupted spill files removed" : "", Spill.Directory);
    }

    /// <summary>
    /// At a close that did not checkpoint (the store is down, or the volume was fenced): writes every data segment the
    /// store did not take to <see cref="Spill"/>, so the replay log kept for the next mount points at bytes that
    /// exist. True when nothing is left only in memory (nothing was waiting, or it all was spilled). Without a
    /// checkpoint attempt before (<paramref name="uploadsTried"/> false) the segments are first offered to the store.
    /// </summary>
    /// <exception cref="SegmentSpillException">spilling failed (the local disk is full or failing): those bytes are lost.</exception>
    private async Task<bool> SpillUnstoredAsync(bool uploadsTried)
    {
        if (Data is null)
        {
            return true;
        }
        if (!uploadsTried && Data.State == SegmentWriterState.Running)
        {
            // Closing without a checkpoint (fenced): the store may still take the segments, as a plain close would.
            try
            {
                await Data.FlushAsync().ConfigureAwait(false);
            }
            catch (SegmentWriterFailedException e)
            {
                _log.LogWarning("{Location}: the data segments could not be stored at the close ({Reason}): spilling them", _store.Location, e.Message);
            }
        }
        if (Spill is null)
        {
            return Data.BytesWaiting == 0;
        }
        IReadOnlyList<SpilledSegment> spilled;
        try
        {
            spilled = await Data.SpillAsync(Spill).ConfigureAwait(false);
        }
        catch (SegmentSpillException e)
        {
            _log.LogCritical(e, "{Location}: the data segments the store did not take could NOT be written to local disk ({Directory}): {Reason}. "
                + "Nothing was deleted; the replay log is kept, and the file ranges written into the segments not spilled will read as zeros after the next mount",
                _store.Location, Spill.Directory, e.Message);
            throw;
        }
        if (spilled.Count > 0)
        {
            _log.LogWarning("{Location}: the store did not take {Count} data segments ({Bytes} bytes): they were written to {Directory} ({Files}); "
                + "the next mount of this volume uploads them before replaying its log, so nothing written is lost",
                _store.Location, spilled.Count, spilled.Sum(s => s.Length), Spill.Directory, string.Join(", ", spilled.Select(s => Path.GetFileName(s.Path))));
        }
        return true;
    }

    /// <summary>
    /// Checkpoints with the clean-unmount flag (unless read-only or fenced) and releases everything. When that
    /// checkpoint fails because the store is down, the data segments the store did not take are spilled to local disk
    /// and the replay log is kept: the next mount uploads them and replays the log, and this returns normally. Throws
    /// the spill's failure when spilling was not possible, and any other failure of the checkpoint (after spilling).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        if (_timer is not null)
        {
            await _timer.DisposeAsync().ConfigureAwait(false);
        }
        bool clean = false;
        bool kept = false;
        bool checkpointed = false;
        try
        {
            try
            {
                if (!ReadOnly && _fenced is null)
                {
                    checkpointed = true;
                    await CheckpointAsync(cleanUnmount: true).ConfigureAwait(false);
                    clean = true;
                }
            }
            finally
            {
                if (!clean && !ReadOnly)
                {
                    // Under the checkpoint lock: a periodic checkpoint that was waiting for it must not retry uploads meanwhile.
                    await _checkpointLock.WaitAsync().ConfigureAwait(false);
                    try
                    {
                        kept = await SpillUnstoredAsync(uploadsTried: checkpointed).ConfigureAwait(false) && Journal is { Lost: false };
                    }
                    finally
                    {
                        _checkpointLock.Release();
                    }
                }
            }
        }
        catch (Exception e) when (kept && _fenced is null && e is ObjectStoreException or SegmentWriterFailedException)
        {
            // The store is down, and nothing written is only in memory: the next mount completes this unmount.
            _log.LogError("{Location}: the unmount could not checkpoint ({Reason}); the replay log {Directory} is kept with every change since the last "
                + "checkpoint, and the next mount replays it", _store.Location, e.Message, Journal!.Directory);
        }
        finally
        {
            Journal?.Close(clean);
            if (Data is not null)
            {
                await Data.DisposeAsync().ConfigureAwait(false);
            }
            DataReader.Dispose();
            _cacheVolume?.Dispose();
            Tree.Dispose();
            _rootLock.Dispose();
            _checkpointLock.Dispose();
        }
    }
}
