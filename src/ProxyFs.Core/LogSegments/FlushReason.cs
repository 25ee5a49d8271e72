namespace ProxyFs.Core.LogSegments;

/// <summary>Why a segment was sealed and uploaded.</summary>
public enum FlushReason
{
    /// <summary>It reached MaxFlushSize (or the next append did not fit).</summary>
    Size,

    /// <summary>MaxFlushTime passed since its first byte.</summary>
    Time,

    /// <summary><see cref="SegmentWriter.FlushAsync"/> (fsync, checkpoint).</summary>
    Explicit,

    /// <summary>The writer was closed.</summary>
    Shutdown,
}

/// <summary>The state of a <see cref="SegmentWriter"/>.</summary>
public enum SegmentWriterState
{
    /// <summary>Accepting appends and uploading.</summary>
    Running,

    /// <summary>
    /// An upload failed for good: appends and flushes throw <see cref="SegmentWriterFailedException"/>; the bytes not yet
    /// durable stay in memory and readable until <see cref="SegmentWriter.RetryFailedAsync"/> succeeds.
    /// </summary>
    Failed,

    /// <summary>Closed after every byte became durable.</summary>
    Closed,
}
