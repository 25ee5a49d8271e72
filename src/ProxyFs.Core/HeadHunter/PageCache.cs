using System.Collections.Concurrent;

namespace ProxyFs.Core.HeadHunter;

/// <summary>
/// Validated stored records (pages and blobs) by address, within a byte budget, evicted by CLOCK.
/// </summary>
/// <remarks>
/// Hits are lock-free (a concurrent dictionary lookup and a reference bit). Inserts, removals and the clock hand
/// take a private lock. Pinned records (written by a checkpoint whose segment may not be stored yet) are never
/// evicted; they count in <see cref="PageCacheStatistics.CachedBytes"/> and may push the cache over budget until
/// unpinned. A caller that got a record keeps its bytes alive however the cache evicts, since arrays are never reused.
/// </remarks>
internal sealed class PageCache
{
    private readonly ConcurrentDictionary<PageAddress, Entry> _map = new();
    private readonly List<Entry?> _ring = [];
    private readonly Stack<int> _freeSlots = new();
    private readonly Lock _lock = new();
    private readonly long _budget;
    private int _hand;
    private long _bytes;
    private long _pinnedBytes;
    private long _hits;
    private long _misses;
    private long _evictions;

    public PageCache(long budgetBytes) => _budget = budgetBytes;

    public long BudgetBytes => _budget;

    public byte[]? TryGet(PageAddress address)
    {
        if (_map.TryGetValue(address, out var entry))
        {
            entry.Referenced = true;
            Interlocked.Increment(ref _hits);
            return entry.Bytes;
        }
        return null;
    }

    public void CountMiss() => Interlocked.Increment(ref _misses);

    /// <summary>Adds a record (or returns the copy already there) and evicts clean records beyond the budget.</summary>
    public byte[] Add(PageAddress address, byte[] bytes, bool pinned)
    {
        lock (_lock)
        {
            if (_map.TryGetValue(address, out var existing))
            {
                if (pinned && !existing.Pinned)
                {
                    existing.Pinned = true;
                    _pinnedBytes += existing.Bytes.Length;
                }
                return existing.Bytes;
            }
            var entry = new Entry(address, bytes) { Pinned = pinned, Referenced = true };
            entry.Slot = _freeSlots.Count > 0 ? _freeSlots.Pop() : AppendSlot();
            _ring[entry.Slot] = entry;
            _map[address] = entry;
            _bytes += bytes.Length;
            if (pinned)
            {
                _pinnedBytes += bytes.Length;
            }
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

    public void Unpin(IEnumerable<PageAddress> addresses)
    {
        lock (_lock)
        {
            foreach (var address in addresses)
            {
                if (_map.TryGetValue(address, out var entry) && entry.Pinned)
                {
                    entry.Pinned = false;
                    _pinnedBytes -= entry.Bytes.Length;
                }
            }
            EvictToBudget();
        }
    }

    public PageCacheStatistics Snapshot(long dirtyPages)
    {
        lock (_lock)
        {
            return new PageCacheStatistics(
                Interlocked.Read(ref _hits), Interlocked.Read(ref _misses), _evictions, _bytes, _map.Count, _pinnedBytes, _budget, dirtyPages);
        }
    }

    private int AppendSlot()
    {
        _ring.Add(null);
        return _ring.Count - 1;
    }

    private void EvictToBudget()
    {
        // Two full turns of the hand clear every reference bit and then evict; stop if only pinned records remain.
        var steps = 2 * _ring.Count;
        while (_bytes > _budget && _bytes > _pinnedBytes && steps-- > 0)
        {
            if (_hand >= _ring.Count)
            {
                _hand = 0;
            }
            var entry = _ring[_hand++];
            if (entry is null || entry.Pinned)
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
        if (entry.Pinned)
        {
            _pinnedBytes -= entry.Bytes.Length;
        }
    }

    private sealed class Entry(PageAddress address, byte[] bytes)
    {
        private volatile bool _referenced;

        public PageAddress Address { get; } = address;

        public byte[] Bytes { get; } = bytes;

        public bool Pinned { get; set; }

        public int Slot { get; set; }

        public bool Referenced
        {
            get => _referenced;
            set => _referenced = value;
        }
    }
}
