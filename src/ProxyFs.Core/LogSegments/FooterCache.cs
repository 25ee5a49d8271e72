using System.Collections.Concurrent;

namespace ProxyFs.Core.LogSegments;

/// <summary>
/// Segment footers by nonce, bounded (oldest inserted forgotten first), with one fetch per footer however many readers
/// ask at once. A failed fetch is forgotten, so the next reader tries again.
/// </summary>
internal sealed class FooterCache(int capacity)
{
    private readonly ConcurrentDictionary<ulong, Lazy<Task<SegmentFooter>>> _entries = new();
    private readonly ConcurrentQueue<ulong> _order = new();

    public SegmentFooter? TryGet(ulong nonce) =>
        _entries.TryGetValue(nonce, out var entry) && entry.IsValueCreated && entry.Value.IsCompletedSuccessfully ? entry.Value.Result : null;

    public void Add(SegmentFooter footer)
    {
        _entries[footer.Nonce] = new Lazy<Task<SegmentFooter>>(Task.FromResult(footer));
        Inserted(footer.Nonce);
    }

    public Task<SegmentFooter> GetOrFetch(ulong nonce, Func<ulong, Task<SegmentFooter>> fetch)
    {
        if (_entries.TryGetValue(nonce, out var entry))
        {
            return entry.Value;
        }
        var mine = new Lazy<Task<SegmentFooter>>(() => fetch(nonce), LazyThreadSafetyMode.ExecutionAndPublication);
        var winner = _entries.GetOrAdd(nonce, mine);
        if (!ReferenceEquals(winner, mine))
        {
            return winner.Value;
        }
        Inserted(nonce);
        var task = mine.Value;
        _ = task.ContinueWith(
            _ => _entries.TryRemove(new KeyValuePair<ulong, Lazy<Task<SegmentFooter>>>(nonce, mine)),
            CancellationToken.None, TaskContinuationOptions.NotOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return task;
    }

    private void Inserted(ulong nonce)
    {
        _order.Enqueue(nonce);
        while (_order.Count > capacity && _order.TryDequeue(out ulong old))
        {
            _entries.TryRemove(old, out _);
        }
    }
}
