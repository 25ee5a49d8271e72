using System.Diagnostics;

namespace ProxyFs.Core.HeadHunter;

/// <summary>
/// HeadHunter: an ordered map of byte keys (1..<see cref="MaxKeyLength"/> bytes, unsigned lexicographic order) to
/// byte values, kept as a paged copy-on-write B+tree whose pages live in metadata segments of an object store.
/// </summary>
/// <remarks>
/// <para><b>Memory.</b> Stored pages are immutable and read in place from a bounded CLOCK cache (see
/// <see cref="HeadHunterOptions.CacheBudgetBytes"/>). Modifying a key copies the leaf and every ancestor into
/// in-memory dirty nodes (copy-on-write); dirty nodes are never evicted and are written by the next checkpoint.</para>
/// <para><b>Locking.</b> One <see cref="ReaderWriterLockSlim"/>: lookups and scans hold it shared, <c>Put</c>,
/// <c>Delete</c>, <see cref="BeginCheckpoint"/> and <see cref="CompleteCheckpoint"/> hold it exclusive, so readers
/// never see a half-split node. The page source is read <i>outside</i> the lock: an operation that misses the cache
/// releases the lock, reads the page, and restarts from the root (finding the page it fetched). Only the rare
/// sibling fetch of a cascading merge reads under the exclusive lock. Scan visitors run under the shared lock: they
/// must be quick and must not call back into the tree's writing methods (that throws
/// <see cref="LockRecursionException"/>).</para>
/// <para><b>Checkpoints.</b> <see cref="BeginCheckpoint"/> freezes the dirty nodes (exclusive lock, a pointer
/// walk), serializes them children first with every new large value into one metadata segment image
/// <i>outside</i> the lock (writers meanwhile change copies of frozen nodes), then swaps the written nodes for
/// their addresses (exclusive lock, a walk of the nodes dirtied meanwhile). Until <see cref="CompleteCheckpoint"/>
/// the written records are read from the image itself. The caller stores the image as object
/// <see cref="HeadHunterCheckpoint.SegmentNonce"/>, records <see cref="HeadHunterCheckpoint.RootAddress"/> in its
/// root pointer, then calls <see cref="CompleteCheckpoint"/>. One checkpoint may be in flight at a time. If the
/// upload fails, retry it with the same bytes: the tree already refers to them.</para>
/// </remarks>
public sealed partial class HeadHunterTree : IDisposable
{
    /// <summary>Longest key.</summary>
    public const int MaxKeyLength = 1024;

    /// <summary>Longest value (larger than the inline limit means stored as a blob).</summary>
    public const int MaxValueLength = 16 * 1024 * 1024;

    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly IPageSource _source;
    private readonly PageCache _cache;
    private readonly int _pageSize;
    private readonly int _maxInline;
    private readonly int _minFill;
    private readonly List<PageAddress> _superseded = [];
    private ChildRef _root;
    private long _dirtyPages;
    private HeadHunterCheckpoint? _inFlight;
    private byte[] _lastPutKey = [];

    /// <summary>True while BeginCheckpoint serializes frozen nodes outside the lock.</summary>
    private bool _checkpointing;

    /// <summary>Frozen nodes that writers replaced by copies during the current serialization.</summary>
    private readonly List<Node> _copiedFrozen = [];

    /// <summary>The in-flight checkpoint's segment image: its records are read from here until the store has them.</summary>
    private volatile InFlightSegment? _inFlightSegment;

    private HeadHunterTree(IPageSource source, HeadHunterOptions options)
    {
        ArgumentNullException.ThrowIfNull(source);
        options.Validate();
        _source = source;
        _pageSize = options.PageSize;
        _maxInline = options.EffectiveMaxInlineValueLength;
        _minFill = _pageSize / 4;
        _cache = new PageCache(options.CacheBudgetBytes);
    }

    /// <summary>A new empty tree (formatting a volume). Its first checkpoint writes an empty leaf as the root.</summary>
    public static HeadHunterTree Create(IPageSource source, HeadHunterOptions? options = null)
    {
        var tree = new HeadHunterTree(source, options ?? new HeadHunterOptions());
        tree._root = new ChildRef(new LeafNode(tree._maxInline));
        tree._dirtyPages = 1;
        return tree;
    }

    /// <summary>
    /// Opens the tree whose root page is at <paramref name="root"/> (mounting). Reads and validates the root page
    /// now, so a bad root pointer fails here with <see cref="HeadHunterCorruptionException"/>.
    /// </summary>
    public static HeadHunterTree Open(IPageSource source, PageAddress root, HeadHunterOptions? options = null)
    {
        if (root.IsNone)
        {
            throw new ArgumentException("a stored tree needs a root address", nameof(root));
        }
        var tree = new HeadHunterTree(source, options ?? new HeadHunterOptions());
        var page = tree.Load(root);
        if (PageFormat.KindOf(page) == RecordKind.Blob)
        {
            throw new HeadHunterCorruptionException(root, "the root address names a blob, not a page");
        }
        tree._root = new ChildRef(root);
        return tree;
    }

    /// <summary>Page size in bytes.</summary>
    public int PageSize => _pageSize;

    /// <summary>Values longer than this are stored as blobs.</summary>
    public int MaxInlineValueLength => _maxInline;

    /// <summary>Cache counters and the number of dirty pages.</summary>
    public PageCacheStatistics Statistics =>
        _cache.Snapshot(_inFlightSegment?.Image.Length ?? 0, Interlocked.Read(ref _dirtyPages));

    /// <summary>The stored root, or <see cref="PageAddress.None"/> while the root is dirty.</summary>
    public PageAddress RootAddress
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                return _root.IsDirty ? PageAddress.None : _root.Address;
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    public void Dispose() => _lock.Dispose();

    private static void ValidateKey(ReadOnlySpan<byte> key)
    {
        if (key.Length is 0 or > MaxKeyLength)
        {
            throw new ArgumentException($"keys are 1..{MaxKeyLength} bytes, got {key.Length}", nameof(key));
        }
    }

    /// <summary>The record at <paramref name="address"/> from the operation's own fetches or the cache; null on a miss (recorded in the context) unless loading under the lock is allowed.</summary>
    private byte[]? Resolve(PageAddress address, ReadContext context)
    {
        var record = context.Find(address) ?? _cache.TryGet(address);
        if (record is not null)
        {
            return record;
        }
        if (context.LoadUnderLock || _inFlightSegment?.Nonce == address.SegmentNonce)
        {
            record = Load(address);
            context.Keep(address, record);
            return record;
        }
        context.Missing = address;
        return null;
    }

    /// <summary>Reads the page <paramref name="context"/> missed (outside any lock) and keeps it for the retry.</summary>
    private void FetchMissing(ReadContext context)
    {
        Debug.Assert(!_lock.IsReadLockHeld && !_lock.IsWriteLockHeld);
        var address = context.Missing;
        if (context.ReadAhead.Count > 0 && _inFlightSegment is null)
        {
            LoadWithReadAhead(context);
        }
        else
        {
            context.Keep(address, Load(address));
        }
        context.ReadAhead.Clear();
        context.Missing = default;
    }

    /// <summary>
    /// Reads a record into the cache: from the image of the checkpoint in flight when it is one of its records (the
    /// store may not have it yet), else from the page source, validated.
    /// </summary>
    private byte[] Load(PageAddress address)
    {
        if (_inFlightSegment is { } inFlight && inFlight.Nonce == address.SegmentNonce)
        {
            return _cache.Add(address, inFlight.Image.Slice((int)address.Offset, (int)address.Length).ToArray());
        }
        _cache.CountMiss();
        var record = _source.ReadPage(address);
        PageFormat.Validate(record, address);
        return _cache.Add(address, record);
    }

    /// <summary>The segment image of a checkpoint whose upload has not been confirmed.</summary>
    private sealed record InFlightSegment(ulong Nonce, ReadOnlyMemory<byte> Image);

    /// <summary>A stored page, checked to be of the level its parent implies (any level for the root: -1).</summary>
    private static PageView CheckPage(byte[] record, PageAddress address, int expectedLevel)
    {
        var kind = PageFormat.KindOf(record);
        if (kind == RecordKind.Blob || (expectedLevel >= 0 && PageFormat.LevelOf(record) != expectedLevel))
        {
            throw new HeadHunterCorruptionException(
                address, $"expected a page at level {expectedLevel}, found a {kind} record at level {PageFormat.LevelOf(record)}");
        }
        return new PageView(record);
    }

    private static ReadOnlySpan<byte> BlobData(byte[] record, PageAddress address)
    {
        if (PageFormat.KindOf(record) != RecordKind.Blob)
        {
            throw new HeadHunterCorruptionException(address, $"a leaf refers to a {PageFormat.KindOf(record)} page as a value blob");
        }
        return record.AsSpan(PageFormat.HeaderLength);
    }
}
