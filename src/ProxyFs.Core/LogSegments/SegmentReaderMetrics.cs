using System.Globalization;

namespace ProxyFs.Core.LogSegments;

/// <summary>Counters of one <see cref="SegmentReader"/>.</summary>
public sealed class SegmentReaderMetrics
{
    private long _memoryBytes;
    private long _cacheBytes;
    private long _footersFetched;
    private long _footerGets;
    private long _lineGets;
    private long _checksumMismatches;
    private long _corrupt;

    internal void RecordMemoryRead(int bytes) => Interlocked.Add(ref _memoryBytes, bytes);

    internal void RecordCacheRead(int bytes) => Interlocked.Add(ref _cacheBytes, bytes);

    internal void RecordFooterFetched() => Interlocked.Increment(ref _footersFetched);

    internal void RecordFooterGet() => Interlocked.Increment(ref _footerGets);

    internal void RecordLineGet() => Interlocked.Increment(ref _lineGets);

    internal void RecordChecksumMismatch() => Interlocked.Increment(ref _checksumMismatches);

    internal void RecordCorrupt() => Interlocked.Increment(ref _corrupt);

    /// <summary>Bytes served from segments still in the writer's memory.</summary>
    public long BytesFromMemory => Interlocked.Read(ref _memoryBytes);

    /// <summary>Bytes served through the read cache.</summary>
    public long BytesFromCache => Interlocked.Read(ref _cacheBytes);

    /// <summary>Footers read from the store (not handed over by the writer).</summary>
    public long FootersFetched => Interlocked.Read(ref _footersFetched);

    /// <summary>GET requests for footers.</summary>
    public long FooterGets => Interlocked.Read(ref _footerGets);

    /// <summary>GET requests for lines.</summary>
    public long LineGets => Interlocked.Read(ref _lineGets);

    /// <summary>Blocks or footers whose bytes failed their CRC on one read (read again).</summary>
    public long ChecksumMismatches => Interlocked.Read(ref _checksumMismatches);

    /// <summary>Reads that reported a segment corrupt.</summary>
    public long CorruptSegmentErrors => Interlocked.Read(ref _corrupt);

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"from memory {BytesFromMemory} bytes, through the cache {BytesFromCache} bytes; GETs: {LineGets} lines, {FooterGets} footers ({FootersFetched} footers fetched); checksum mismatches {ChecksumMismatches}, corrupt {CorruptSegmentErrors}");
}
