namespace ProxyFs.Core.LogSegments;

/// <summary>Settings of a <see cref="SegmentReader"/>.</summary>
public sealed record SegmentReaderOptions
{
    /// <summary>Prefix of the segment keys (the writer's).</summary>
    public string KeyPrefix { get; init; } = SegmentKeys.DefaultPrefix;

    /// <summary>Segment footers kept in memory (a 10 MiB segment's footer is 688 bytes).</summary>
    public int FooterCacheEntries { get; init; } = 16384;

    /// <summary>Bytes of the suffix GET that fetches a footer; a longer footer costs a second GET. 4 KiB covers segments up to 63 MiB in 64 KiB blocks.</summary>
    public int FooterProbeBytes { get; init; } = 4096;

    /// <summary>
    /// The CRC block size the volume's writer uses (<see cref="SegmentWriterOptions.BlockSize"/>): it sizes the footer a
    /// read-ahead GET takes with a segment's last lines. A segment written with another one still reads (its footer is
    /// then fetched on its own).
    /// </summary>
    public int BlockSize { get; init; } = 64 << 10;

    /// <summary>
    /// GETs of a line (or footer) tried again when its bytes fail their CRC, before reporting the segment corrupt: a
    /// damaged transfer passes, a damaged object does not.
    /// </summary>
    public int ChecksumRetries { get; init; } = 1;

    /// <summary>The daemon's local-disk tier of the read cache, shared by its volumes; null: none.</summary>
    public Cache.DiskLineTier? DiskTier { get; init; }

    internal void Validate()
    {
        _ = new SegmentKeys(KeyPrefix);
        SegmentFormat.ValidateBlockSize(BlockSize);
        if (FooterCacheEntries < 1 || FooterProbeBytes < SegmentFormat.FooterFixedLength + SegmentFormat.TrailerLength || ChecksumRetries < 0)
        {
            throw new ArgumentException("segment reader: FooterCacheEntries >= 1, FooterProbeBytes >= 64 and ChecksumRetries >= 0");
        }
    }
}
