namespace ProxyFs.Core.LogSegments;

/// <summary>Settings of a <see cref="SegmentWriter"/>; the defaults are the production ones.</summary>
public sealed record SegmentWriterOptions
{
    /// <summary>A segment is sealed and uploaded when its data reaches this size (ProxyFS's default, 10 MiB). An append never straddles two segments: one that does not fit seals the open segment first.</summary>
    public int MaxFlushSize { get; init; } = 10 << 20;

    /// <summary>
    /// A segment is sealed this long after its first byte, however small. 1 s: see docs/FORMAT.md and the benchmark
    /// in tests/ProxyFs.Core.Tests/LogSegments/Benchmarks for the measurements behind it.
    /// </summary>
    public TimeSpan MaxFlushTime { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Segment uploads in flight at once.</summary>
    public int MaxConcurrentUploads { get; init; } = 4;

    /// <summary>Appended bytes not yet durable above which <see cref="SegmentWriter.Append"/> blocks until uploads free room (at least 2 × <see cref="MaxFlushSize"/>).</summary>
    public long MaxDirtyBytes { get; init; } = 256L << 20;

    /// <summary>Size of the pooled buffers segments are made of (a power of two, 4 KiB to 64 MiB).</summary>
    public int ChunkSize { get; init; } = 1 << 20;

    /// <summary>Bytes of free chunks kept for reuse; more are left to the garbage collector.</summary>
    public long ChunkPoolRetainBytes { get; init; } = 64L << 20;

    /// <summary>Data bytes covered by each CRC-32C in the footer (a power of two; the read cache line must be a multiple).</summary>
    public int BlockSize { get; init; } = 64 << 10;

    /// <summary>Prefix of the segment keys (<see cref="SegmentKeys"/>).</summary>
    public string KeyPrefix { get; init; } = SegmentKeys.DefaultPrefix;

    /// <summary>
    /// Attempts per segment upload before the writer fails, each one a put through the store's own retry decorator
    /// (when it has one). Only retryable errors (Transient, Throttled) are tried again.
    /// </summary>
    public int UploadAttempts { get; init; } = 5;

    /// <summary>Wait before the second upload attempt; doubled for each further one up to <see cref="MaxUploadRetryDelay"/>.</summary>
    public TimeSpan UploadRetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between upload attempts.</summary>
    public TimeSpan MaxUploadRetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Upload with <c>If-None-Match: *</c> (create-only), so a reused nonce is caught instead of overwriting a segment.
    /// A put that finds the key taken compares the stored bytes with its own: equal means an earlier attempt landed.
    /// </summary>
    public bool CreateOnly { get; init; } = true;

    /// <summary>The clock of MaxFlushTime, retry delays and latency (tests pass a manual one).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    internal void Validate()
    {
        if (MaxFlushSize < 1)
        {
            throw new ArgumentException($"MaxFlushSize must be positive, not {MaxFlushSize}");
        }
        if (MaxFlushTime <= TimeSpan.Zero)
        {
            throw new ArgumentException($"MaxFlushTime must be positive, not {MaxFlushTime}");
        }
        if (MaxConcurrentUploads < 1)
        {
            throw new ArgumentException($"MaxConcurrentUploads must be at least 1, not {MaxConcurrentUploads}");
        }
        if (MaxDirtyBytes < 2L * MaxFlushSize)
        {
            throw new ArgumentException($"MaxDirtyBytes ({MaxDirtyBytes}) must be at least twice MaxFlushSize ({MaxFlushSize}), or appends could wait for room that no upload frees");
        }
        if (ChunkSize < 4096 || ChunkSize > (64 << 20) || !int.IsPow2(ChunkSize))
        {
            throw new ArgumentException($"ChunkSize must be a power of two from 4 KiB to 64 MiB, not {ChunkSize}");
        }
        SegmentFormat.ValidateBlockSize(BlockSize);
        if (UploadAttempts < 1)
        {
            throw new ArgumentException($"UploadAttempts must be at least 1, not {UploadAttempts}");
        }
        ArgumentNullException.ThrowIfNull(TimeProvider);
        _ = new SegmentKeys(KeyPrefix);
    }
}
