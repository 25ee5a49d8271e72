using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace ProxyFs.Core.Cache;

/// <summary>
/// Counters of one volume's part of the read cache (issue 6, item 5): hits, misses, bytes served and fetched,
/// read-ahead bytes fetched, used and wasted, evictions, promotions. Also published on the meter
/// <see cref="MeterName"/>, tagged with the volume.
/// </summary>
public sealed class ReadCacheVolumeMetrics
{
    /// <summary>The name of the <see cref="Meter"/>.</summary>
    public const string MeterName = "ProxyFs.Cache";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> AccessCounter = Meter.CreateCounter<long>("proxyfs.cache.accesses");
    private static readonly Counter<long> ServedCounter = Meter.CreateCounter<long>("proxyfs.cache.bytes.served", "By");
    private static readonly Counter<long> FetchedCounter = Meter.CreateCounter<long>("proxyfs.cache.bytes.fetched", "By");

    private readonly KeyValuePair<string, object?> _volumeTag;
    private long _hits;
    private long _joinedFills;
    private long _misses;
    private long _bytesServed;
    private long _bytesFetched;
    private long _readAheadFetched;
    private long _readAheadUsed;
    private long _readAheadWasted;
    private long _readAheadDropped;
    private long _readAheadErrors;
    private long _evictions;
    private long _promotions;
    private long _demotions;
    private volatile Exception? _lastReadAheadError;

    internal ReadCacheVolumeMetrics(string volume)
    {
        Volume = volume;
        _volumeTag = new("volume", volume);
    }

    /// <summary>The volume's name.</summary>
    public string Volume { get; }

    /// <summary>The last read-ahead fill that failed (read-ahead errors reach no reader; a reader that needs the line fills it again and gets its own error).</summary>
    public Exception? LastReadAheadError => _lastReadAheadError;

    internal void RecordHit(int bytes)
    {
        Interlocked.Increment(ref _hits);
        Interlocked.Add(ref _bytesServed, bytes);
        AccessCounter.Add(1, _volumeTag, new("result", "hit"));
        ServedCounter.Add(bytes, _volumeTag);
    }

    internal void RecordJoinedFill(int bytes)
    {
        Interlocked.Increment(ref _joinedFills);
        Interlocked.Add(ref _bytesServed, bytes);
        AccessCounter.Add(1, _volumeTag, new("result", "wait"));
        ServedCounter.Add(bytes, _volumeTag);
    }

    internal void RecordMiss(int bytes)
    {
        Interlocked.Increment(ref _misses);
        Interlocked.Add(ref _bytesServed, bytes);
        AccessCounter.Add(1, _volumeTag, new("result", "miss"));
        ServedCounter.Add(bytes, _volumeTag);
    }

    internal void RecordFetched(int bytes, bool prefetch)
    {
        Interlocked.Add(ref _bytesFetched, bytes);
        if (prefetch)
        {
            Interlocked.Add(ref _readAheadFetched, bytes);
        }
        FetchedCounter.Add(bytes, _volumeTag, new("readahead", prefetch));
    }

    internal void RecordReadAheadUsed(int bytes) => Interlocked.Add(ref _readAheadUsed, bytes);

    internal void RecordReadAheadDropped() => Interlocked.Increment(ref _readAheadDropped);

    internal void RecordReadAheadError(Exception error)
    {
        Interlocked.Increment(ref _readAheadErrors);
        _lastReadAheadError = error;
    }

    internal void RecordEviction(int unusedPrefetchedBytes)
    {
        Interlocked.Increment(ref _evictions);
        Interlocked.Add(ref _readAheadWasted, unusedPrefetchedBytes);
    }

    internal void RecordPromotion() => Interlocked.Increment(ref _promotions);

    internal void RecordDemotion() => Interlocked.Increment(ref _demotions);

    internal ReadCacheVolumeMetricsSnapshot Snapshot(double weight, long share, long occupancy, long protectedBytes, int lines) => new()
    {
        Volume = Volume,
        Weight = weight,
        ShareBytes = share,
        OccupancyBytes = occupancy,
        ProtectedBytes = protectedBytes,
        Lines = lines,
        Hits = Interlocked.Read(ref _hits),
        JoinedFills = Interlocked.Read(ref _joinedFills),
        Misses = Interlocked.Read(ref _misses),
        BytesServed = Interlocked.Read(ref _bytesServed),
        BytesFetched = Interlocked.Read(ref _bytesFetched),
        ReadAheadBytesFetched = Interlocked.Read(ref _readAheadFetched),
        ReadAheadBytesUsed = Interlocked.Read(ref _readAheadUsed),
        ReadAheadBytesWasted = Interlocked.Read(ref _readAheadWasted),
        ReadAheadDropped = Interlocked.Read(ref _readAheadDropped),
        ReadAheadErrors = Interlocked.Read(ref _readAheadErrors),
        Evictions = Interlocked.Read(ref _evictions),
        Promotions = Interlocked.Read(ref _promotions),
        Demotions = Interlocked.Read(ref _demotions),
    };
}

/// <summary>One volume's read cache counters at one moment.</summary>
public sealed record ReadCacheVolumeMetricsSnapshot
{
    /// <summary>The volume.</summary>
    public string Volume { get; init; } = "";

    /// <summary>Its weight.</summary>
    public double Weight { get; init; }

    /// <summary>Its share of the budget.</summary>
    public long ShareBytes { get; init; }

    /// <summary>Bytes of lines held.</summary>
    public long OccupancyBytes { get; init; }

    /// <summary>Of which in the protected segment.</summary>
    public long ProtectedBytes { get; init; }

    /// <summary>Lines held.</summary>
    public int Lines { get; init; }

    /// <summary>Line accesses that found the line ready.</summary>
    public long Hits { get; init; }

    /// <summary>Line accesses that waited for a fill already running (another reader's, or read-ahead's).</summary>
    public long JoinedFills { get; init; }

    /// <summary>Line accesses that filled the line themselves.</summary>
    public long Misses { get; init; }

    /// <summary>Hits over all line accesses.</summary>
    public double HitRatio => Hits + JoinedFills + Misses == 0 ? 0 : (double)Hits / (Hits + JoinedFills + Misses);

    /// <summary>Bytes copied to readers.</summary>
    public long BytesServed { get; init; }

    /// <summary>Bytes read from the store into lines (demand and read-ahead).</summary>
    public long BytesFetched { get; init; }

    /// <summary>Of which by read-ahead.</summary>
    public long ReadAheadBytesFetched { get; init; }

    /// <summary>Bytes of read-ahead lines that a reader then used.</summary>
    public long ReadAheadBytesUsed { get; init; }

    /// <summary>Bytes of read-ahead lines evicted unused.</summary>
    public long ReadAheadBytesWasted { get; init; }

    /// <summary>Read-ahead fills not started because too many were in flight.</summary>
    public long ReadAheadDropped { get; init; }

    /// <summary>Read-ahead fills that failed.</summary>
    public long ReadAheadErrors { get; init; }

    /// <summary>Lines evicted.</summary>
    public long Evictions { get; init; }

    /// <summary>Lines moved from probation to protected.</summary>
    public long Promotions { get; init; }

    /// <summary>Lines moved from protected back to probation.</summary>
    public long Demotions { get; init; }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Volume}: weight {Weight}, {OccupancyBytes}/{ShareBytes} bytes ({Lines} lines, {ProtectedBytes} protected); hit ratio {HitRatio:P1} ({Hits} hits, {JoinedFills} joined fills, {Misses} misses); " +
        $"served {BytesServed}, fetched {BytesFetched} bytes; read-ahead fetched {ReadAheadBytesFetched}, used {ReadAheadBytesUsed}, wasted {ReadAheadBytesWasted} bytes, {ReadAheadDropped} dropped, {ReadAheadErrors} errors; " +
        $"evictions {Evictions}, promotions {Promotions}, demotions {Demotions}");
}

/// <summary>The whole read cache's counters at one moment.</summary>
public sealed record ReadCacheMetricsSnapshot(long BudgetBytes, IReadOnlyList<ReadCacheVolumeMetricsSnapshot> Volumes)
{
    /// <summary>The memory of the cache's lines (<see cref="LinePool"/>), all volumes together.</summary>
    public LineMemoryMetrics LineMemory { get; init; } = new(0, 0, 0, 0);

    /// <summary>Bytes held by all volumes.</summary>
    public long OccupancyBytes => Volumes.Sum(v => v.OccupancyBytes);

    /// <summary>Hits over all line accesses, all volumes.</summary>
    public double HitRatio
    {
        get
        {
            long hits = Volumes.Sum(v => v.Hits);
            long all = hits + Volumes.Sum(v => v.JoinedFills + v.Misses);
            return all == 0 ? 0 : (double)hits / all;
        }
    }

    /// <summary>Bytes copied to readers, all volumes.</summary>
    public long BytesServed => Volumes.Sum(v => v.BytesServed);

    /// <summary>Bytes fetched from stores, all volumes.</summary>
    public long BytesFetched => Volumes.Sum(v => v.BytesFetched);

    /// <inheritdoc />
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"read cache: {OccupancyBytes}/{BudgetBytes} bytes, hit ratio {HitRatio:P1}, served {BytesServed}, fetched {BytesFetched} bytes");
        foreach (var v in Volumes)
        {
            text.Append("\n  ").Append(v);
        }
        return text.ToString();
    }
}

/// <summary>The read cache's line memory.</summary>
/// <param name="MappedBytes">Bytes of lines cut from slabs: the most the lines have used at once (resident or not).</param>
/// <param name="FreeBytes">Bytes of free lines kept backed for reuse.</param>
/// <param name="HugePageSlabs">Slabs advised to use transparent huge pages.</param>
/// <param name="SlowHugePages">Huge pages that were slow to back (each turned huge pages off for five minutes).</param>
public sealed record LineMemoryMetrics(long MappedBytes, long FreeBytes, long HugePageSlabs, long SlowHugePages);
