using System.Collections.Concurrent;

namespace ProxyFs.Core.FileSystem.Inodes;

/// <summary>What an <see cref="InodeCache"/> asks of its store.</summary>
public interface IInodeSource
{
    /// <summary>
    /// Builds a new object of <paramref name="ino"/> from its stored record and parts; ENOENT when there is none.
    /// Called with the cache's lock of that inode number held: no other load or eviction of it runs meanwhile.
    /// </summary>
    int Load(ulong ino, out Inode inode);

    /// <summary>The unreferenced object of an inode was dropped from memory (under the same per-number lock).</summary>
    void Evicted(Inode inode);
}

/// <summary>
/// The inode objects a store has in memory, and the pin/evict protocol of <see cref="IInodeStore"/> written once for
/// every store: at most one object per inode number; lookups by number that pin without locking; loads on a miss;
/// eviction of idle objects beyond a budget (first idle, first evicted), never of one in use.
/// </summary>
/// <remarks>
/// <para>A pin is an atomic increment of <see cref="Inode.Pins"/>. Eviction swings the pins from 0 to
/// <see cref="Inode.Evicting"/> with one compare-and-swap, so a pin attempt racing with it sees a non-positive
/// count, backs off and retries until the object is gone from the table (then it loads a new one) or kept (when
/// the lookups or opens that the evictor checks next say it is referenced after all). Lookups and opens change only
/// while pinned, so they cannot change under an evictor that holds the pins at <see cref="Inode.Evicting"/>.</para>
/// <para>An object is <em>idle</em> when no operation pins it and no handle has it open; the kernel may still know it
/// (<see cref="Inode.Lookups"/> &gt; 0). An idle object the kernel knows is <em>parked</em> when evicted: its lookup
/// count alone stays in memory (a few dozen bytes instead of the object, its directory entries and its extent map),
/// and the next load gives it back. That keeps the memory of a daemon whose kernel caches a million dentries (after
/// <c>ls -lR</c>) bounded by the budget, not by the kernel's cache. Objects the record cannot give back are never
/// parked: an inode with no links (an orphan kept by a lookup) or a linkable O_TMPFILE.</para>
/// <para>Loads, evictions and removals of one inode number are serialized by a striped lock, which is the innermost
/// lock of the filesystem: neither <see cref="IInodeSource"/> method may take an inode lock.</para>
/// <para>A cache that never evicts does not count pins at all (they would protect nothing): Acquire is one lookup in
/// a concurrent dictionary, Pin and Unpin cost nothing. The pin discipline of the layer above is checked with a cache
/// that evicts (the memory store's test mode).</para>
/// </remarks>
public sealed class InodeCache
{
    /// <summary>A budget that keeps every object (a store that has nowhere to reload from).</summary>
    public const int NeverEvict = -1;

    private const int StripeCount = 64;

    private readonly ConcurrentDictionary<ulong, Inode> _live = new();
    private readonly ConcurrentQueue<Inode> _unreferenced = new();
    private readonly ParkedLookups[] _parked = new ParkedLookups[StripeCount];
    private int _parkedCount;
    private readonly Lock[] _stripes = new Lock[StripeCount];
    private readonly IInodeSource? _source;
    private readonly int _budget;
    private int _queued;
    private long _evictions;

    /// <param name="source">Where objects are loaded from and reported to when evicted; null: never load.</param>
    /// <param name="unreferencedBudget">
    /// How many unreferenced objects to keep: <see cref="NeverEvict"/> keeps all, 0 drops each as soon as it is
    /// unreferenced (a test mode that catches any use of an object nobody references).
    /// </param>
    public InodeCache(IInodeSource? source, int unreferencedBudget)
    {
        if (unreferencedBudget != NeverEvict && (unreferencedBudget < 0 || source is null))
        {
            throw new ArgumentOutOfRangeException(nameof(unreferencedBudget), "evicting needs a source to reload from, and a budget of 0 or more");
        }
        _source = source;
        _budget = unreferencedBudget;
        for (int i = 0; i < StripeCount; i++)
        {
            _stripes[i] = new Lock();
            _parked[i] = new ParkedLookups();
        }
    }

    /// <summary>Objects in memory.</summary>
    public int Count => _live.Count;

    /// <summary>Evicted objects whose kernel lookups are kept (see the remarks).</summary>
    public int Parked => Volatile.Read(ref _parkedCount);

    /// <summary>Objects dropped so far.</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>The pinned object of <paramref name="ino"/>, loaded on a miss; ENOENT when it does not exist.</summary>
    public int Acquire(ulong ino, out Inode inode)
    {
        if (_budget == NeverEvict)
        {
            // Nothing is ever evicted, so a pin would protect nothing: the object is simply the one in the table.
            bool found = _live.TryGetValue(ino, out Inode? kept);
            inode = kept!;
            return found ? 0 : Errno.ENOENT;
        }
        var spin = default(SpinWait);
        while (true)
        {
            if (_live.TryGetValue(ino, out Inode? found))
            {
                if (TryPin(found))
                {
                    inode = found;
                    return 0;
                }
                spin.SpinOnce(); // being evicted: it leaves the table or stays
                continue;
            }
            if (_source is null)
            {
                inode = null!;
                return Errno.ENOENT;
            }
            lock (StripeOf(ino))
            {
                if (_live.ContainsKey(ino))
                {
                    continue; // added meanwhile: pin it above
                }
                int error = _source.Load(ino, out Inode loaded);
                if (error != 0)
                {
                    inode = null!;
                    return error;
                }
                loaded.Pins = 1;
                if (ParkedOf(ino).TryRemove(ino, out ulong lookups))
                {
                    Interlocked.Decrement(ref _parkedCount);
                    loaded.Lookups = lookups;
                }
                if (!_live.TryAdd(ino, loaded))
                {
                    throw new InvalidOperationException($"inode {ino} appeared in the cache while it was being loaded");
                }
                inode = loaded;
                return 0;
            }
        }
    }

    /// <summary>Enters a new object (just created), pinned once.</summary>
    public void Add(Inode inode)
    {
        inode.Pins = _budget == NeverEvict ? 0 : 1;
        if (!_live.TryAdd(inode.Ino, inode))
        {
            throw new InvalidOperationException($"inode {inode.Ino} created twice");
        }
    }

    /// <summary>Pins an object the caller holds through a lookup or an open handle.</summary>
    public void Pin(Inode inode)
    {
        if (_budget == NeverEvict)
        {
            return;
        }
        var spin = default(SpinWait);
        while (!TryPin(inode))
        {
            if (Volatile.Read(ref inode.Evicted))
            {
                throw new InvalidOperationException($"inode {inode.Ino}: pin of an evicted object (it was used without a reference)");
            }
            spin.SpinOnce();
        }
    }

    /// <summary>Gives a pin back; an object left unreferenced becomes a candidate for eviction.</summary>
    public void Unpin(Inode inode)
    {
        if (_budget == NeverEvict)
        {
            return;
        }
        if (Volatile.Read(ref inode.Evicted))
        {
            throw new InvalidOperationException($"inode {inode.Ino}: unpin of an evicted object (it was used without a reference)");
        }
        int pins = Interlocked.Decrement(ref inode.Pins);
        if (pins < 0)
        {
            throw new InvalidOperationException($"inode {inode.Ino}: unpinned more often than pinned");
        }
        if (pins > 0 || _budget == NeverEvict || !inode.IsEvictable || inode.Freed)
        {
            return;
        }
        if (_budget == 0)
        {
            TryEvict(inode);
            return;
        }
        if (Interlocked.CompareExchange(ref inode.Queued, 1, 0) == 0)
        {
            _unreferenced.Enqueue(inode);
            Interlocked.Increment(ref _queued);
        }
        while (Volatile.Read(ref _queued) > _budget && _unreferenced.TryDequeue(out Inode? oldest))
        {
            Interlocked.Decrement(ref _queued);
            Interlocked.CompareExchange(ref oldest.Queued, 0, 1);
            TryEvict(oldest); // referenced again meanwhile: kept; it queues again when it is next unreferenced
        }
    }

    /// <summary>Takes a freed inode's object out (the store has deleted its record first).</summary>
    public void Remove(Inode inode)
    {
        lock (StripeOf(inode.Ino))
        {
            _live.TryRemove(new KeyValuePair<ulong, Inode>(inode.Ino, inode));
            if (ParkedOf(inode.Ino).TryRemove(inode.Ino, out _))
            {
                Interlocked.Decrement(ref _parkedCount);
            }
        }
    }

    /// <summary>Objects with pins outstanding (a leak when nothing is in progress); pins are counted only by a cache that evicts.</summary>
    public IReadOnlyList<Inode> Pinned() => _live.Values.Where(i => Volatile.Read(ref i.Pins) > 0).ToList();

    private static bool TryPin(Inode inode)
    {
        if (Interlocked.Increment(ref inode.Pins) > 0)
        {
            return true;
        }
        Interlocked.Decrement(ref inode.Pins);
        return false;
    }

    private void TryEvict(Inode inode)
    {
        lock (StripeOf(inode.Ino))
        {
            if (Interlocked.CompareExchange(ref inode.Pins, Inode.Evicting, 0) != 0 || inode.Freed)
            {
                return; // pinned again, or freed (out of the table already; the object is dead)
            }
            if (!inode.IsEvictable)
            {
                // Kept: give back the pins that racing attempts left (adding MinValue to MinValue + n wraps to n).
                Interlocked.Add(ref inode.Pins, Inode.Evicting);
                return;
            }
            if (!_live.TryRemove(new KeyValuePair<ulong, Inode>(inode.Ino, inode)))
            {
                throw new InvalidOperationException($"inode {inode.Ino}: an unfreed object missing from the cache");
            }
            if (inode.Lookups != 0)
            {
                ParkedOf(inode.Ino).Set(inode.Ino, inode.Lookups); // the load that follows gives them back
                Interlocked.Increment(ref _parkedCount);
            }
            Volatile.Write(ref inode.Evicted, true);
            Interlocked.Increment(ref _evictions);
            _source!.Evicted(inode);
        }
    }

    private Lock StripeOf(ulong ino) => _stripes[(int)(ino % StripeCount)];

    /// <summary>The parked lookups of <paramref name="ino"/>'s stripe; used only under <see cref="StripeOf"/>.</summary>
    private ParkedLookups ParkedOf(ulong ino) => _parked[(int)(ino % StripeCount)];
}
