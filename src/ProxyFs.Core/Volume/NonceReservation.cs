using ProxyFs.Core.LogSegments;

namespace ProxyFs.Core.Volume;

/// <summary>
/// Hands out segment nonces (data and metadata segments share one space). Nonces are reserved in batches recorded
/// in the root pointer before any of them is used, so after a crash the volume resumes above everything it may have
/// used: a nonce is never used twice.
/// </summary>
public sealed class NonceReservation : INonceSource
{
    private readonly Lock _lock = new();
    private readonly Func<ulong, ulong> _reserve;
    private readonly ulong _batch;
    private ulong _next;
    private ulong _reservedUpTo;

    /// <param name="next">The first nonce to hand out (the mounted root pointer's reservation: nothing at or above it was used).</param>
    /// <param name="reservedUpTo">Nonces below this are reserved already.</param>
    /// <param name="reserve">Makes durable a reservation up to at least its argument and returns the new limit (writes the root pointer).</param>
    public NonceReservation(ulong next, ulong reservedUpTo, ulong batch, Func<ulong, ulong> reserve)
    {
        ArgumentOutOfRangeException.ThrowIfZero(batch);
        _next = next;
        _reservedUpTo = reservedUpTo;
        _batch = batch;
        _reserve = reserve;
    }

    /// <summary>The limit recorded durably so far.</summary>
    public ulong ReservedUpTo
    {
        get
        {
            lock (_lock)
            {
                return _reservedUpTo;
            }
        }
    }

    /// <summary>True when less than half a batch is left: the next root pointer write should raise the reservation.</summary>
    public bool Low
    {
        get
        {
            lock (_lock)
            {
                return _next + (_batch / 2) >= _reservedUpTo;
            }
        }
    }

    /// <summary>The next reservation to record: enough for a batch beyond the next nonce.</summary>
    public ulong NextReservation
    {
        get
        {
            lock (_lock)
            {
                return Math.Max(_reservedUpTo, _next + _batch);
            }
        }
    }

    public ulong Next()
    {
        lock (_lock)
        {
            if (_next >= _reservedUpTo)
            {
                ulong limit = _reserve(_next + _batch);
                if (limit <= _next)
                {
                    throw new InvalidOperationException($"nonce reservation up to {limit} does not cover nonce {_next}");
                }
                _reservedUpTo = limit;
            }
            return _next++;
        }
    }

    /// <summary>Records that a root pointer with this reservation was written (by a checkpoint).</summary>
    public void Recorded(ulong reservedUpTo)
    {
        lock (_lock)
        {
            _reservedUpTo = Math.Max(_reservedUpTo, reservedUpTo);
        }
    }
}
