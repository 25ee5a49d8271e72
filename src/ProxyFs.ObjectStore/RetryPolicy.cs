using System.Diagnostics;

namespace ProxyFs.ObjectStore;

/// <summary>
/// When and how long to wait before trying again: only <see cref="ObjectStoreException.IsRetryable"/> failures (5xx,
/// throttling, timeouts, broken connections), never other 4xx; exponential backoff with jitter (half of each delay is
/// random, so that clients that failed together do not retry together). Used by <see cref="Decorators.RetryingObjectStore"/>
/// and by the S3 backend for the parts of a multipart upload.
/// </summary>
public sealed record RetryPolicy
{
    /// <summary>4 attempts, 100 ms doubling to at most 5 s (throttling starts at 500 ms).</summary>
    public static RetryPolicy Default { get; } = new();

    /// <summary>One attempt: no retries.</summary>
    public static RetryPolicy None { get; } = new() { MaxAttempts = 1 };

    /// <summary>Attempts in all, the first included (at least 1).</summary>
    public int MaxAttempts { get; init; } = 4;

    /// <summary>The delay after the first failure; it doubles after each further one.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The delay after the first <see cref="ObjectStoreErrorKind.Throttled"/> failure.</summary>
    public TimeSpan ThrottledBaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>No delay is longer than this.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The delay before attempt <paramref name="failedAttempts"/> + 1, after <paramref name="failedAttempts"/> failures (1 or more).</summary>
    public TimeSpan DelayBefore(int failedAttempts, bool throttled)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failedAttempts, 1);
        double baseMs = (throttled ? ThrottledBaseDelay : BaseDelay).TotalMilliseconds;
        double ceiling = Math.Min(MaxDelay.TotalMilliseconds, baseMs * Math.Pow(2, Math.Min(failedAttempts - 1, 30)));
        return TimeSpan.FromMilliseconds((ceiling / 2) + (Random.Shared.NextDouble() * ceiling / 2));
    }

    /// <summary>
    /// Runs <paramref name="attempt"/> until it succeeds, fails with a non-retryable error, or <see cref="MaxAttempts"/>
    /// are spent; the last failure is then thrown with the number of attempts and the time spent added to its message.
    /// </summary>
    public async Task<T> RunAsync<T>(Func<int, CancellationToken, Task<T>> attempt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        long start = Stopwatch.GetTimestamp();
        for (int n = 1; ; n++)
        {
            try
            {
                return await attempt(n, cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectStoreException e) when (e.IsRetryable && n < MaxAttempts)
            {
                await Task.Delay(DelayBefore(n, e.Kind == ObjectStoreErrorKind.Throttled), cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectStoreException e) when (e.IsRetryable && n > 1)
            {
                throw GaveUp(e, n, Stopwatch.GetElapsedTime(start));
            }
        }
    }

    internal static ObjectStoreException GaveUp(ObjectStoreException e, int attempts, TimeSpan elapsed) =>
        new(e.Kind, e.Operation, e.Location, e.Key, $"{e.Detail} (gave up after {attempts} attempts in {elapsed.TotalSeconds:0.0} s)", e)
        {
            HttpStatus = e.HttpStatus,
        };
}
