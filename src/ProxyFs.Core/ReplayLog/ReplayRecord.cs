namespace ProxyFs.Core.ReplayLog;

/// <summary>One replayed record: the epoch and payload it was appended with, its sequence number and log address.</summary>
public readonly record struct ReplayRecord(ulong Epoch, ulong Sequence, ReadOnlyMemory<byte> Payload, long Address);

/// <summary>
/// Where an appended record ends in the log, for <see cref="VolumeReplayLog.CommitAsync"/>: committing a position makes
/// that record and every record appended before it durable.
/// </summary>
/// <param name="Sequence">The record's sequence number.</param>
/// <param name="Address">The FasterLog address just past the record.</param>
/// <param name="Incarnation">Which FasterLog instance of this <see cref="VolumeReplayLog"/> the address belongs to (a restart after a fault opens a new one).</param>
public readonly record struct ReplayLogPosition(ulong Sequence, long Address, int Incarnation);

/// <summary>
/// The end of a log that was damaged: the first bad record (<paramref name="Address"/>), why it is bad, the last
/// intact record before it and how far the log was supposed to reach (FasterLog's committed address).
/// </summary>
/// <param name="Repaired">True when <see cref="VolumeReplayLog.Open"/> cut the log back to <paramref name="Address"/>, so new records follow the last intact one.</param>
public sealed record ReplayTornTail(long Address, long CommittedUntil, ulong LastSequence, string Reason, bool Repaired)
{
    /// <summary>Bytes of the log that were lost after the last intact record.</summary>
    public long BytesLost => CommittedUntil - Address;

    public override string ToString() =>
        $"torn tail at address {Address} ({Reason}); last intact record {LastSequence}, {BytesLost} bytes up to {CommittedUntil} lost{(Repaired ? ", cut off at open" : "")}";
}
