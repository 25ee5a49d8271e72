using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace ProxyFs.Core.HeadHunter;

/// <summary>
/// Validated stored records (pages and blobs) by address, within a byte budget, evicted by CLOCK.
/// </summary>
/// <remarks>
/// Hits are lock-free: a concurrent dictionary lookup, a reference bit set only when clear, and a hit counter
/// striped by thread so that readers on different cores do not write the same cache line. Inserts, removals and
/// the clock hand take a private lock. A caller that got a record keeps its bytes alive however the cache evicts:
/// arrays are never reused.
/// </remarks>
internal sealed class PageCache
{
    private const int Stripes = 16;
    private readonly ConcurrentDictionary<PageAddress, Entry> _map = new();
    private readonly List<Entry?> _ring = [];
    private readonly Stack<int> _freeSlots = new();
    private readonly Lock _lock = new();
    private readonly long _budget;

    // One counter per 64-byte line: index 8 * stripe.
    private readonly long[] _hits = new long[Stripes * 8];
    private int _hand;
    private long _bytes;
    private long _misses;
    private long _evictions;

    public PageCache(long budgetBytes) => _budget = budgetBytes;

    public byte[]? TryGet(PageAddress address)
    {
        if (_map.TryGetValue(address, out var entry))
        {
            if (!entry.Referenced)
            {
                entry.Referenced = true;
            }
            Interlocked.Increment(ref _hits[(Environment.CurrentManagedThreadId % Stripes) * 8]);
            return entry.Bytes;
        }
        return null;
    }

    public void CountMiss() => Interlocked.Increment(ref _misses);

    /// <summary>Whether a record is cached, without counting a hit or touching its reference bit.</summary>
    public bool Contains(PageAddress address) => _map.ContainsKey(address);

    /// <summary>Adds a record (or returns the copy already there) and evicts records beyond the budget.</summary>
    public byte[] Add(PageAddress address, byte[] bytes)
    {
        lock (_lock)
        {
            if (_map.TryGetValue(address, out var existing))
            {
                return existing.Bytes;
            }
            var entry = new Entry(address, bytes) { Referenced = true };
            entry.Slot = _freeSlots.Count > 0 ? _freeSlots.Pop() : AppendSlot();
            _ring[entry.Slot] = entry;
            _map[address] = entry;
            _bytes += bytes.Length;
            EvictToBudget();
            return bytes;
        }
    }

    /// <summary>Drops a record that the tree no longer references (it was superseded).</summary>
    public void Remove(PageAddress address)
    {
        lock (_lock)
        {
            if (_map.TryGetValue(address, out var entry))
            {
                Drop(entry);
            }
        }
    }

    public PageCacheStatistics Snapshot(long inFlightBytes, long dirtyPages)
    {
        long hits = 0;
        for (var i = 0; i < Stripes; i++)
        {
            hits += Interlocked.Read(ref _hits[i * 8]);
        }
        lock (_lock)
        {
            return new PageCacheStatistics(
                hits, Interlocked.Read(ref _misses), _evictions, _bytes, _map.Count, inFlightBytes, _budget, dirtyPages);
        }
    }

    private int AppendSlot()
    {
        _ring.Add(null);
        return _ring.Count - 1;
    }

    private void EvictToBudget()
    {
        // Two full turns of the hand clear every reference bit and then evict.
        var ring = CollectionsMarshal.AsSpan(_ring);
        var steps = 2 * ring.Length;
        while (_bytes > _budget && steps-- > 0)
        {
            if (_hand >= ring.Length)
            {
                _hand = 0;
            }
            var entry = ring[_hand++];
            if (entry is null)
            {
                continue;
            }
            if (entry.Referenced)
            {
                entry.Referenced = false;
                continue;
            }
            Drop(entry);
            _evictions++;
        }
    }

    private void Drop(Entry entry)
    {
        _map.TryRemove(entry.Address, out _);
        _ring[entry.Slot] = null;
        _freeSlots.Push(entry.Slot);
        _bytes -= entry.Bytes.Length;
    }

    private sealed class Entry(PageAddress address, byte[] bytes)
    {
        private volatile bool _referenced;

        public PageAddress Address { get; } = address;

        public byte[] Bytes { get; } = bytes;

        public int Slot { get; set; }

        public bool Referenced
        {
            get => _referenced;
            set => _referenced = value;
        }
    }
}
