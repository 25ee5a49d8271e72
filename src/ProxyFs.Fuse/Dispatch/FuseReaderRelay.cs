namespace ProxyFs.Fuse.Dispatch;

/// <summary>
/// Decides which reader threads wait in read(2) on /dev/fuse. The kernel hands each request to the reader that has
/// waited longest (its wait queue is FIFO), so with every reader waiting, a program issuing one request at a time is
/// served by each reader in turn: every request wakes a thread that has been asleep the longest, and measured on these
/// machines that made warm 4 KiB random reads 0.6× of one reader's speed. The relay keeps one reader listening; the
/// others are parked (most recently parked first, so the hot ones are woken). A reader that receives a request stops
/// listening, serves it, and listens again, so a serial stream stays on one thread. When a request has been in its
/// handler since the previous tick of the watcher (<see cref="FuseMountOptions.ReaderHandoff"/>: 1–2 ticks in all) and nobody listens, the
/// watcher unparks a reader to listen in its place; so a handler that blocks (on the object store, on another request
/// of this mount) holds back the others for at most two ticks. The watcher ticks only while requests come; it sleeps
/// otherwise and is woken by the first request. With a zero tick every reader listens (the kernel's order).
/// </summary>
internal sealed class FuseReaderRelay : IDisposable
{
    private readonly object _gate = new();
    private readonly FuseWorker[] _workers;
    private readonly Stack<FuseWorker> _parked = new();
    private readonly int _tickMs;
    private readonly bool _enabled;
    private Thread? _watcher;
    private int _listeners; // 1 while a reader listens, else 0
    private int _watcherIdle;
    private bool _stopped;
    private long _handoffs;

    public FuseReaderRelay(IReadOnlyList<FuseWorker> workers, TimeSpan tick)
    {
        _workers = [.. workers];
        _tickMs = tick <= TimeSpan.Zero ? 0 : Math.Max(1, (int)Math.Ceiling(tick.TotalMilliseconds));
        // With one reader there is nobody to hand over to: it simply listens.
        _enabled = _tickMs != 0 && _workers.Length > 1;
    }

    /// <summary>Times a parked reader was woken because the listening one was held by a slow request.</summary>
    public long Handoffs => Interlocked.Read(ref _handoffs);

    /// <summary>Starts the watcher thread (not needed when every reader listens).</summary>
    public void Start(string name)
    {
        if (!_enabled)
        {
            return;
        }
        _watcher = new Thread(Watch) { IsBackground = true, Name = name };
        _watcher.Start();
    }

    /// <summary>
    /// Returns when <paramref name="worker"/> may read the next request: at once when nobody else listens, otherwise
    /// after being parked and woken. False once the relay is stopped: the reader ends.
    /// </summary>
    public bool Listen(FuseWorker worker)
    {
        if (!_enabled)
        {
            return !Volatile.Read(ref _stopped);
        }
        while (true)
        {
            if (Volatile.Read(ref _stopped))
            {
                return false;
            }
            // Claimed with one compare-and-swap. An increment that is taken back when it finds a listener leaves a
            // moment in which the count says two: a listener that received, served and came back inside that moment
            // saw the other's claim, the other saw its claim, and both parked with nobody reading /dev/fuse and
            // nobody busy for the watcher to notice (a hung mount, seen once under load).
            if (Interlocked.CompareExchange(ref _listeners, 1, 0) == 0)
            {
                return true;
            }
            lock (_gate)
            {
                if (_stopped)
                {
                    return false;
                }
                // Someone listens: it either serves the next request itself or is found held by the watcher, which
                // then wakes a parked reader. So parking never leaves the connection without a listener for good.
                _parked.Push(worker);
            }
            worker.Wake.Wait();
        }
    }

    /// <summary><paramref name="worker"/> read a request: it stops listening and is busy until <see cref="Served"/>.</summary>
    public void Received(FuseWorker worker)
    {
        if (!_enabled)
        {
            return;
        }
        Volatile.Write(ref worker.Busy, 1);
        Volatile.Write(ref worker.Sequence, worker.Sequence + 1);
        // Nobody listens now (a parked reader may claim it). Also a full fence between the busy flag and reading the
        // watcher's flag (the watcher fences the other way).
        Interlocked.Exchange(ref _listeners, 0);
        if (Volatile.Read(ref _watcherIdle) != 0 && Interlocked.Exchange(ref _watcherIdle, 0) != 0)
        {
            lock (_gate)
            {
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary><paramref name="worker"/> has answered its request.</summary>
    public void Served(FuseWorker worker)
    {
        if (_enabled)
        {
            Volatile.Write(ref worker.Busy, 0);
        }
    }

    /// <summary>The session ends: parked readers and the watcher return.</summary>
    public void Stop()
    {
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }
            _stopped = true;
            while (_parked.TryPop(out var worker))
            {
                worker.Wake.Release();
            }
            Monitor.PulseAll(_gate);
        }
    }

    public void Dispose()
    {
        Stop();
        if (_watcher is { } watcher && watcher != Thread.CurrentThread)
        {
            watcher.Join(TimeSpan.FromSeconds(2));
        }
    }

    private void Watch()
    {
        var seen = new long[_workers.Length];
        long lastTotal = -1;
        while (true)
        {
            bool active = false;
            bool held = false;
            long total = 0;
            for (int i = 0; i < _workers.Length; i++)
            {
                var worker = _workers[i];
                long sequence = Volatile.Read(ref worker.Sequence);
                total += sequence;
                if (Volatile.Read(ref worker.Busy) != 0)
                {
                    active = true;
                    held |= sequence == seen[i];
                }
                seen[i] = sequence;
            }
            active |= total != lastTotal;
            lastTotal = total;
            lock (_gate)
            {
                if (_stopped)
                {
                    return;
                }
                if (held && Volatile.Read(ref _listeners) == 0 && _parked.TryPop(out var spare))
                {
                    _handoffs++;
                    spare.Wake.Release();
                }
                if (active)
                {
                    Monitor.Wait(_gate, _tickMs);
                    continue;
                }
                // Nothing came during a whole tick: sleep until a request does. The flag is set before looking at the
                // readers once more (a request received in between is seen here, or sees the flag and wakes us).
                Interlocked.Exchange(ref _watcherIdle, 1);
                if (AnyBusy())
                {
                    Volatile.Write(ref _watcherIdle, 0);
                    Monitor.Wait(_gate, _tickMs);
                    continue;
                }
                while (Volatile.Read(ref _watcherIdle) != 0 && !_stopped)
                {
                    Monitor.Wait(_gate);
                }
            }
        }
    }

    private bool AnyBusy()
    {
        foreach (var worker in _workers)
        {
            if (Volatile.Read(ref worker.Busy) != 0)
            {
                return true;
            }
        }
        return false;
    }
}
