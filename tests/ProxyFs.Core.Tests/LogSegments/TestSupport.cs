using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using ProxyFs.Core.LogSegments;
using ProxyFs.ObjectStore;
using ProxyFs.ObjectStore.File;
using ProxyFs.ObjectStore.Memory;

namespace ProxyFs.Core.Tests.LogSegments;

/// <summary>Nonces 1, 2, 3, … (or from <c>first</c>), as the volume's batch reservation would hand them out.</summary>
internal sealed class CountingNonceSource(ulong first = 1) : INonceSource
{
    private long _next = (long)first - 1;

    public int Issued { get; private set; }

    public ulong Next()
    {
        Issued++;
        return (ulong)Interlocked.Increment(ref _next);
    }
}

/// <summary>The stores the data-path tests run against.</summary>
public enum StoreKind
{
    Memory,
    File,
}

/// <summary>A unique temporary directory for one test, removed on dispose, and stores in it.</summary>
internal sealed class TestDirectory : IDisposable
{
    public TestDirectory([CallerMemberName] string name = "")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"proxyfs-seg-{name}-{Guid.NewGuid():N}");
    }

    public string Path { get; }

    /// <summary>A store of <paramref name="kind"/>; file stores live in <see cref="Path"/> (without fsync: the tests do not cut power).</summary>
    public IObjectStore Open(StoreKind kind) => kind switch
    {
        StoreKind.Memory => new MemoryObjectStore("test"),
        _ => new FileObjectStore(Path, new FileStoreOptions { Fsync = false }),
    };

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}

/// <summary>Deterministic test bytes.</summary>
internal static class TestBytes
{
    public static byte[] Make(int seed, int length)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}

/// <summary>A gate requests wait at while it is closed.</summary>
internal sealed class Gate
{
    private volatile TaskCompletionSource _open = Opened();

    public bool IsOpen => _open.Task.IsCompleted;

    public void Close()
    {
        if (_open.Task.IsCompleted)
        {
            _open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public void Open() => _open.TrySetResult();

    public Task WaitAsync(CancellationToken cancellationToken) => _open.Task.WaitAsync(cancellationToken);

    private static TaskCompletionSource Opened()
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        tcs.SetResult();
        return tcs;
    }
}

/// <summary>A store decorator that counts requests, can hold GETs and puts at gates, and records GET ranges.</summary>
internal sealed class ProbeStore(IObjectStore inner) : IObjectStore
{
    private int _gets;
    private int _puts;
    private int _getsWaiting;
    private int _putsWaiting;

    public Gate Gets { get; } = new();

    public Gate Puts { get; } = new();

    public ConcurrentQueue<(string Key, ByteRange Range)> GetLog { get; } = new();

    public int GetCount => Volatile.Read(ref _gets);

    public int PutCount => Volatile.Read(ref _puts);

    public int GetsWaiting => Volatile.Read(ref _getsWaiting);

    public int PutsWaiting => Volatile.Read(ref _putsWaiting);

    public IObjectStore Inner => inner;

    public string Location => inner.Location;

    public Task<ObjectInfo> HeadAsync(string key, CancellationToken cancellationToken = default) => inner.HeadAsync(key, cancellationToken);

    public async Task<ObjectReadStream> GetAsync(string key, ByteRange range = default, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _gets);
        GetLog.Enqueue((key, range));
        Interlocked.Increment(ref _getsWaiting);
        try
        {
            await Gets.WaitAsync(cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _getsWaiting);
        }
        return await inner.GetAsync(key, range, cancellationToken);
    }

    public async Task<PutResult> PutAsync(string key, ObjectBody body, PutCondition condition = default, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _puts);
        Interlocked.Increment(ref _putsWaiting);
        try
        {
            await Puts.WaitAsync(cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _putsWaiting);
        }
        return await inner.PutAsync(key, body, condition, cancellationToken);
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);

    public Task<ObjectListing> ListAsync(string prefix, string? startAfter = null, int maxKeys = ObjectListing.MaxPageSize, CancellationToken cancellationToken = default) =>
        inner.ListAsync(prefix, startAfter, maxKeys, cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

/// <summary>A clock that moves only when told; its timers fire inside <see cref="Advance"/>.</summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<ManualTimer> _timers = [];
    private long _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Volatile.Read(ref _ticks);

    public override DateTimeOffset GetUtcNow() => DateTimeOffset.UnixEpoch + TimeSpan.FromTicks(Volatile.Read(ref _ticks));

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        lock (_lock)
        {
            _timers.Add(timer);
        }
        timer.Change(dueTime, period);
        return timer;
    }

    public void Advance(TimeSpan by)
    {
        List<ManualTimer> due;
        lock (_lock)
        {
            _ticks += by.Ticks;
            due = [.. _timers.Where(t => t.DueAt is long at && at <= _ticks)];
            foreach (var t in due)
            {
                t.DueAt = t.Period is { } p && p > TimeSpan.Zero ? _ticks + p.Ticks : null;
            }
        }
        foreach (var t in due)
        {
            t.Fire();
        }
    }

    private sealed class ManualTimer(ManualTimeProvider clock, TimerCallback callback, object? state) : ITimer
    {
        public long? DueAt { get; set; }

        public TimeSpan? Period { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._lock)
            {
                DueAt = dueTime == Timeout.InfiniteTimeSpan ? null : clock._ticks + dueTime.Ticks;
                Period = period == Timeout.InfiniteTimeSpan ? null : period;
            }
            return true;
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (clock._lock)
            {
                DueAt = null;
                clock._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>Waits for a condition that the code under test makes true (a guard against hangs, not a timing assertion).</summary>
internal static class Eventually
{
    public static void True(Func<bool> condition, string what, int timeoutSeconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"still not true after {timeoutSeconds} s: {what}");
            }
            Thread.Sleep(1);
        }
    }
}
