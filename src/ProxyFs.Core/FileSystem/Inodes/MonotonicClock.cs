namespace ProxyFs.Core.FileSystem.Inodes;

/// <summary>
/// The time source of a store: the wall clock made strictly increasing, like the fine-grained timestamps Linux
/// gives an inode whose times were just looked at, so "mtime advanced" is observable after every change; or a
/// given clock (tests). Thread-safe.
/// </summary>
public sealed class MonotonicClock(Func<Timespec>? clock = null)
{
    private long _lastNanoseconds;

    /// <summary>The current time, strictly later than any time handed out before (unless a given clock says otherwise).</summary>
    public Timespec Now()
    {
        if (clock is not null)
        {
            return clock();
        }
        long wall = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;
        while (true)
        {
            long last = Volatile.Read(ref _lastNanoseconds);
            long next = wall > last ? wall : last + 1;
            if (Interlocked.CompareExchange(ref _lastNanoseconds, next, last) == last)
            {
                return new Timespec(next / 1_000_000_000, (uint)(next % 1_000_000_000));
            }
        }
    }

    /// <summary>Never hands out a time at or before <paramref name="floor"/> (a volume: the newest time it stored).</summary>
    public void AdvancePast(Timespec floor)
    {
        long target = (floor.Seconds * 1_000_000_000) + floor.Nanoseconds;
        long last = Volatile.Read(ref _lastNanoseconds);
        while (last < target)
        {
            long seen = Interlocked.CompareExchange(ref _lastNanoseconds, target, last);
            if (seen == last)
            {
                return;
            }
            last = seen;
        }
    }
}
