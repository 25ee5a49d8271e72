using System.Collections;

namespace ProxyFs.Core.ReplayLog;

/// <summary>How a replay ended.</summary>
/// <param name="Replayed">Records returned (epoch ≥ the replay's epoch).</param>
/// <param name="Skipped">Intact records of older epochs, not returned.</param>
/// <param name="LastSequence">The sequence number of the last intact record read (0 for none).</param>
/// <param name="EndAddress">The address where reading stopped.</param>
/// <param name="TornTail">Why the log ended early: found by this replay (read-only log) or cut off when it was opened; null for a clean end.</param>
public sealed record ReplayOutcome(long Replayed, long Skipped, ulong LastSequence, long EndAddress, ReplayTornTail? TornTail);

/// <summary>
/// The records of a replay, read lazily each time it is enumerated (a replay is read-only and repeatable).
/// <see cref="Outcome"/> tells how the last completed enumeration ended.
/// </summary>
public sealed class ReplayScan : IEnumerable<ReplayRecord>
{
    private readonly VolumeReplayLog _log;
    private readonly ulong _fromEpoch;

    internal ReplayScan(VolumeReplayLog log, ulong fromEpoch)
    {
        _log = log;
        _fromEpoch = fromEpoch;
    }

    /// <summary>How the last enumeration that ran to its end ended; null before one has.</summary>
    public ReplayOutcome? Outcome { get; private set; }

    public IEnumerator<ReplayRecord> GetEnumerator()
    {
        LogScanner scanner = _log.NewScanner();
        long replayed = 0;
        long skipped = 0;
        foreach (ReplayRecord record in scanner.Records())
        {
            if (record.Epoch >= _fromEpoch)
            {
                replayed++;
                yield return record;
            }
            else
            {
                skipped++;
            }
        }
        ScanOutcome scan = scanner.Outcome!;
        Outcome = new ReplayOutcome(replayed, skipped, scan.LastSequence, scan.IntactUntil, scan.TornTail ?? _log.Opened.TornTail);
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

public sealed partial class VolumeReplayLog
{
    /// <summary>
    /// Every committed record with epoch ≥ <paramref name="fromEpoch"/>, in append order. Reading stops at the end of
    /// the log or at a torn tail (<see cref="ReplayScan.Outcome"/> says which); damage followed by intact records
    /// throws <see cref="ReplayLogCorruptException"/> from the enumeration.
    /// </summary>
    public ReplayScan Replay(ulong fromEpoch)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new ReplayScan(this, fromEpoch);
    }

    internal LogScanner NewScanner()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return Volatile.Read(ref _instance).Scanner(Directory);
    }
}
