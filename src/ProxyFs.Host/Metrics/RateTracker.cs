using System.Diagnostics;

namespace ProxyFs.Host.Metrics;

/// <summary>
/// Per-second rates of a vector of monotonic counters over a sliding window: <see cref="Sample"/> (called
/// periodically) keeps readings no older than the window; <see cref="Rates"/> compares the counters now with the
/// oldest reading kept. Until the window has passed once, the rate is over the time since the first reading.
/// </summary>
public sealed class RateTracker
{
    private readonly Func<long[]> _read;
    private readonly long _windowTicks;
    private readonly Queue<(long Timestamp, long[] Values)> _samples = new();
    private readonly Lock _lock = new();
    private readonly Func<long> _clock;

    /// <param name="read">Reads the counters (the same length every time).</param>
    /// <param name="window">How far back rates look.</param>
    /// <param name="clock">Stopwatch-style timestamps (tests give their own).</param>
    public RateTracker(Func<long[]> read, TimeSpan window, Func<long>? clock = null)
    {
        _read = read;
        _clock = clock ?? Stopwatch.GetTimestamp;
        _windowTicks = (long)(window.TotalSeconds * Stopwatch.Frequency);
        Sample();
    }

    /// <summary>Takes a reading and forgets those older than the window.</summary>
    public void Sample()
    {
        long[] values = _read();
        long now = _clock();
        lock (_lock)
        {
            _samples.Enqueue((now, values));
            // Keep one reading at least a window old, so that the rate always spans a whole window once it can.
            while (_samples.Count > 2 && now - _samples.ElementAt(1).Timestamp >= _windowTicks)
            {
                _samples.Dequeue();
            }
        }
    }

    /// <summary>The counters now, their rates per second, and the seconds the rates span.</summary>
    public (long[] Values, double[] PerSecond, double Seconds) Rates()
    {
        long[] now = _read();
        long timestamp = _clock();
        (long Timestamp, long[] Values) oldest;
        lock (_lock)
        {
            oldest = _samples.Peek();
        }
        double seconds = (double)(timestamp - oldest.Timestamp) / Stopwatch.Frequency;
        double[] rates = new double[now.Length];
        if (seconds > 0)
        {
            for (int i = 0; i < now.Length && i < oldest.Values.Length; i++)
            {
                rates[i] = Math.Max(0, now[i] - oldest.Values[i]) / seconds;
            }
        }
        return (now, rates, seconds);
    }
}
