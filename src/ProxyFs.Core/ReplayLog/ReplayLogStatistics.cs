namespace ProxyFs.Core.ReplayLog;

/// <summary>Sizes and counters of a replay log.</summary>
/// <param name="Records">Records in the log (appended or recovered, not yet trimmed).</param>
/// <param name="LastSequence">The sequence number of the last record appended.</param>
/// <param name="BeginAddress">FasterLog's begin address (the first record kept).</param>
/// <param name="TailAddress">FasterLog's tail address (where the next record goes).</param>
/// <param name="DurableAddress">Everything before this address is durable.</param>
/// <param name="BytesOnDisk">The sizes of the files in the log directory, added up.</param>
/// <param name="SegmentFiles">FasterLog segment files (log.N) in the directory.</param>
/// <param name="Appends">Records appended since the log was opened (or restarted).</param>
/// <param name="Flushes">FasterLog commits run by the group commit of the current FasterLog instance.</param>
/// <param name="CommitWaits">Commit calls that had to wait for a flush (the others found their record durable already).</param>
public sealed record ReplayLogStatistics(
    long Records,
    ulong LastSequence,
    long BeginAddress,
    long TailAddress,
    long DurableAddress,
    long BytesOnDisk,
    int SegmentFiles,
    long Appends,
    long Flushes,
    long CommitWaits);
