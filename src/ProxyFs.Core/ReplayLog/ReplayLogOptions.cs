using Microsoft.Extensions.Logging;

namespace ProxyFs.Core.ReplayLog;

/// <summary>How <see cref="VolumeReplayLog.Open"/> opens (or creates) a volume's replay log.</summary>
public sealed record ReplayLogOptions
{
    /// <summary>
    /// The caller knows records may be waiting (the root pointer says the last unmount was not clean): a missing
    /// directory or identity file then throws <see cref="ReplayLogMissingException"/> instead of creating a fresh log.
    /// </summary>
    public bool ExpectExisting { get; init; }

    /// <summary>
    /// Open for inspection only (status, fsck): nothing is created or written, a torn tail is reported but not cut
    /// off, and <see cref="VolumeReplayLog.Append"/> throws.
    /// </summary>
    public bool ReadOnly { get; init; }

    /// <summary>
    /// log2 of the FasterLog page size (default 20: 1 MiB). A record must fit in one page, so this bounds
    /// <see cref="VolumeReplayLog.MaxPayloadLength"/>. Fixed when the log is created (recorded in its identity file).
    /// </summary>
    public int PageSizeBits { get; init; } = 20;

    /// <summary>
    /// log2 of the size of one segment file (default 26: 64 MiB). Trimming frees space a whole segment at a time.
    /// Fixed when the log is created.
    /// </summary>
    public int SegmentSizeBits { get; init; } = 26;

    /// <summary>log2 of FasterLog's in-memory ring of pages (default 22: 4 MiB, pinned). At least two pages.</summary>
    public int MemorySizeBits { get; init; } = 22;

    public ILogger? Logger { get; init; }

    internal void Validate()
    {
        if (PageSizeBits is < 12 or > 30)
        {
            throw new ArgumentOutOfRangeException(nameof(PageSizeBits), PageSizeBits, "must be 12..30");
        }
        if (SegmentSizeBits < PageSizeBits || SegmentSizeBits > 40)
        {
            throw new ArgumentOutOfRangeException(nameof(SegmentSizeBits), SegmentSizeBits, $"must be {PageSizeBits}..40 (at least a page)");
        }
        if (MemorySizeBits < PageSizeBits + 1 || MemorySizeBits > 34)
        {
            throw new ArgumentOutOfRangeException(nameof(MemorySizeBits), MemorySizeBits, $"must be {PageSizeBits + 1}..34 (at least two pages)");
        }
    }
}
