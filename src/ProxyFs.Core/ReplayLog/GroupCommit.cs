namespace ProxyFs.Core.ReplayLog;

/// <summary>
/// Group commit: at most one flush runs at a time, and every caller that arrives while one runs shares the next
/// one. A caller whose address the running flush already covers waits for it; the others wait for the next flush,
/// which starts as soon as the running one ends and covers everything appended by then. So N concurrent committers
/// cost at most two flushes, never N. After a failed flush every wait fails with the same exception.
/// </summary>
internal sealed class GroupCommit
{
    private readonly Func<Task<long>> _flush;
    private readonly Func<long> _tail;
    private readonly Lock _lock = new();
    private long _durable;
    private Round? _running;
    private Round? _next;
    private Exception? _fault;
    private long _flushes;
    private long _waits;

    /// <param name="flush">Makes everything appended so far durable; returns the address it is durable up to.</param>
    /// <param name="tail">The address past the last appended record.</param>
    /// <param name="durable">The address the log is already durable up to.</param>
    public GroupCommit(Func<Task<long>> flush, Func<long> tail, long durable)
    {
        _flush = flush;
        _tail = tail;
        _durable = durable;
    }

    /// <summary>The address everything before which is durable.</summary>
    public long Durable
    {
        get
        {
            lock (_lock)
            {
                return _durable;
            }
        }
    }

    /// <summary>The flush that failed, or null. Every later wait for an address not yet durable fails with it.</summary>
    public Exception? Fault => Volatile.Read(ref _fault);

    /// <summary>Flushes started.</summary>
    public long Flushes => Interlocked.Read(ref _flushes);

    /// <summary>Calls that had to wait for a flush.</summary>
    public long Waits => Interlocked.Read(ref _waits);

    /// <summary>Completes when everything before <paramref name="address"/> is durable.</summary>
    public Task WaitAsync(long address) => Enter(address);

    /// <summary>
    /// Runs a flush that starts after this call (even with nothing new appended: FasterLog also persists its begin
    /// address then, which is how a trim becomes durable) and completes when it has.
    /// </summary>
    public Task ForceAsync() => Enter(null);

    /// <summary>
    /// Waits for the running flush when it covers <paramref name="address"/>, else for the next one, starting a flush
    /// when none runs. A null address (<see cref="ForceAsync"/>) never counts as covered.
    /// </summary>
    private Task Enter(long? address)
    {
        Round? start = null;
        Task wait;
        lock (_lock)
        {
            // Durable first: a record made durable before a later flush failed stays committed.
            if (address <= _durable)
            {
                return Task.CompletedTask;
            }
            if (_fault is not null)
            {
                return Task.FromException(_fault);
            }
            if (address is not null)
            {
                _waits++;
            }
            if (_running is null)
            {
                start = _running = new Round(_tail());
                wait = start.Done.Task;
            }
            else if (address <= _running.Target)
            {
                wait = _running.Done.Task;
            }
            else
            {
                _next ??= new Round(0);
                wait = _next.Done.Task;
            }
        }
        if (start is not null)
        {
            _ = Task.Run(() => RunAsync(start));
        }
        return wait;
    }

    private async Task RunAsync(Round round)
    {
        while (true)
        {
            Interlocked.Increment(ref _flushes);
            Exception? failure = null;
            long durable = 0;
            try
            {
                durable = await _flush().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // Not swallowed: every waiter of this round and of the next one gets it, and so do all later calls.
                failure = e;
            }
            Round? next;
            lock (_lock)
            {
                next = _next;
                _next = null;
                if (failure is not null)
                {
                    _fault = failure;
                    _running = null;
                }
                else
                {
                    _durable = Math.Max(_durable, durable);
                    _running = next;
                    if (next is not null)
                    {
                        next.Target = _tail();
                    }
                }
            }
            if (failure is not null)
            {
                round.Done.TrySetException(failure);
                next?.Done.TrySetException(failure);
                return;
            }
            round.Done.TrySetResult();
            if (next is null)
            {
                return;
            }
            round = next;
        }
    }

    private sealed class Round(long target)
    {
        public long Target { get; set; } = target;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
