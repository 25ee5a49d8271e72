using System.Collections.Concurrent;
using ProxyFs.Core.Cache;
using ProxyFs.Core.Checksums;
using ProxyFs.ObjectStore;

namespace ProxyFs.Core.LogSegments;

/// <summary>
/// Reads segment bytes for one volume: from the writer's memory while a segment is not yet durable, otherwise through
/// the volume's part of the read cache, whose lines it fills with one ranged GET each and verifies block by block
/// against the segment's footer (fetched once with a suffix GET and kept; handed over by the writer for the segments
/// it uploads). A block that fails its CRC is read once more, then reported as a <see cref="SegmentCorruptException"/>
/// naming the segment and the block: wrong bytes are never returned.
/// </summary>
/// <remarks>
/// <see cref="Read"/> is synchronous: its callers are FUSE's dedicated blocking threads; a miss blocks the calling thread
/// on the store. <see cref="Prefetch"/> never blocks. Reads go through the store's read path (on <c>s3://</c>, its own
/// connection pool), never behind uploads.
/// </remarks>
public sealed class SegmentReader : ICacheLineSource, IDisposable
{
    private readonly IObjectStore _store;
    private readonly ReadCacheVolume _cache;
    private readonly SegmentWriter? _writer;
    private readonly SegmentReaderOptions _options;
    private readonly uint _volumeIdCrc;
    private readonly int _expectedDataOffset;
    private readonly FooterCache _footers;
    private const int MaxDataLengths = 4096;
    private const int TailSlack = 4096;
    private const int MaxTailBytes = 16 << 20;
    private readonly ConcurrentDictionary<ulong, long> _dataLengths = new();
    private readonly Action<SegmentFooter> _onDurable;
    private readonly ICacheLineSource _source;

    /// <summary>
    /// A reader of the segments of volume <paramref name="volumeId"/> in <paramref name="store"/>, caching through
    /// <paramref name="cache"/>, and serving the segments still in <paramref name="writer"/>'s memory from there.
    /// </summary>
    public SegmentReader(IObjectStore store, ReadCacheVolume cache, ReadOnlySpan<byte> volumeId, SegmentWriter? writer = null, SegmentReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(cache);
        SegmentFormat.ValidateVolumeId(volumeId.Length);
        _options = options ?? new SegmentReaderOptions { KeyPrefix = writer?.Options.KeyPrefix ?? SegmentKeys.DefaultPrefix };
        _options.Validate();
        _store = store;
        _cache = cache;
        _writer = writer;
        Keys = new SegmentKeys(_options.KeyPrefix);
        _volumeIdCrc = Crc32C.Compute(volumeId);
        _expectedDataOffset = SegmentFormat.HeaderLength(volumeId.Length);
        _footers = new FooterCache(_options.FooterCacheEntries);
        _onDurable = _footers.Add;
        writer?.AddDurableListener(_onDurable);
        // With a disk tier, lines missing in memory are looked for on local disk before the store is asked.
        _source = _options.DiskTier?.Wrap(Convert.ToHexStringLower(volumeId), cache.LineSize, this) ?? this;
    }

    /// <summary>The keys of the segments.</summary>
    public SegmentKeys Keys { get; }

    /// <summary>The counters.</summary>
    public SegmentReaderMetrics Metrics { get; } = new();

    /// <summary>The volume's part of the read cache.</summary>
    public ReadCacheVolume Cache => _cache;

    /// <summary>The local-disk tier lines are looked for in before the store, or null.</summary>
    public DiskLineTier? DiskTier => _options.DiskTier;

    /// <summary>
    /// Copies <c>destination.Length</c> bytes of segment <paramref name="nonce"/> from <paramref name="offset"/> in its data
    /// area. Blocks on a cache miss.
    /// </summary>
    /// <exception cref="SegmentCorruptException">the stored segment is damaged.</exception>
    /// <exception cref="SegmentReadException">the segment has fewer bytes than asked for.</exception>
    /// <exception cref="ObjectStoreException">the store failed (e.g. the segment does not exist).</exception>
    public void Read(ulong nonce, long offset, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (destination.IsEmpty)
        {
            return;
        }
        if (_writer is not null && _writer.TryRead(nonce, offset, destination))
        {
            Metrics.RecordMemoryRead(destination.Length);
            return;
        }
        if (_footers.TryGet(nonce) is { } known)
        {
            CheckRange(known, offset, destination.Length);
        }
        int lineSize = _cache.LineSize;
        long position = offset;
        var rest = destination;
        while (!rest.IsEmpty)
        {
            long line = position / lineSize;
            int within = (int)(position % lineSize);
            int n = Math.Min(lineSize - within, rest.Length);
            int copied = _cache.Read(new LineKey(nonce, line), within, rest[..n], _source);
            if (copied < n)
            {
                CheckRange(_footers.TryGet(nonce) ?? GetFooterAsync(nonce).GetAwaiter().GetResult(), offset, destination.Length);
                throw new SegmentReadException(nonce, Keys.KeyOf(nonce), $"segment {Keys.KeyOf(nonce)}: line {line} ended before byte {position + n}");
            }
            rest = rest[n..];
            position += n;
        }
        Metrics.RecordCacheRead(destination.Length);
    }

    /// <summary>
    /// Starts fetching, in the background, the cache lines of segment <paramref name="nonce"/> that cover
    /// <paramref name="length"/> bytes from <paramref name="offset"/> (clipped to the segment's data), skipping lines
    /// already cached or being filled and segments still in memory. Returns at once. What the read-ahead tracker answers
    /// goes here, mapped through the file's extents.
    /// </summary>
    public void Prefetch(ulong nonce, long offset, long length, long dataLength = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length <= 0 || (_writer?.Contains(nonce) ?? false))
        {
            return;
        }
        if (_footers.TryGet(nonce) is { } footer)
        {
            PrefetchLines(nonce, offset, Math.Min(offset + length, footer.DataLength));
            return;
        }
        if (dataLength > 0)
        {
            if (_dataLengths.Count >= MaxDataLengths)
            {
                _dataLengths.Clear(); // hints only: a run without one fetches the footer on its own
            }
            _dataLengths[nonce] = dataLength;
        }
        // The footer is not known yet: the range is data the caller knows exists (it comes from an extent), so the lines
        // start now; their GET and the footer's go out together and each line is checked once both have arrived.
        PrefetchLines(nonce, offset, offset + length);
    }

    /// <summary>True when the footer of segment <paramref name="nonce"/> is in memory (its data length is then known).</summary>
    public bool HasFooter(ulong nonce) => _footers.TryGet(nonce) is not null;

    /// <summary>The footer of segment <paramref name="nonce"/>: from memory, or fetched (once, whatever the concurrency) from the store.</summary>
    public Task<SegmentFooter> GetFooterAsync(ulong nonce) => _footers.GetOrFetch(nonce, FetchFooterAsync);

    /// <summary>Stops listening to the writer.</summary>
    public void Dispose() => _writer?.RemoveDurableListener(_onDurable);

    async Task<int> ICacheLineSource.FillLineAsync(ulong segment, long line, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        string key = Keys.KeyOf(segment);
        long start = line * buffer.Length;
        var footerTask = GetFooterAsync(segment);
        SegmentFooter footer;
        int got;
        if (footerTask.IsCompletedSuccessfully)
        {
            footer = footerTask.Result;
            got = await GetLineAsync(key, footer.DataOffset + start, buffer[..LineLength(footer, key, line, buffer.Length)], cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // First touch of the segment: fetch the line at the data offset a header of this volume has, while the footer
            // comes; the footer then says whether that was right. Both requests finish before the buffer is used or given back.
            var lineTask = GetLineAsync(key, _expectedDataOffset + start, buffer, cancellationToken);
            try
            {
                footer = await footerTask.ConfigureAwait(false);
            }
            finally
            {
                await ((Task)lineTask).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
            }
            got = await lineTask.ConfigureAwait(false);
            if (footer.DataOffset != _expectedDataOffset)
            {
                got = await GetLineAsync(key, footer.DataOffset + start, buffer[..LineLength(footer, key, line, buffer.Length)], cancellationToken).ConfigureAwait(false);
            }
        }
        int length = LineLength(footer, key, line, buffer.Length);
        for (int attempt = 0; ; attempt++)
        {
            if (got < length)
            {
                throw new SegmentReadException(segment, key, $"segment {key} in {_store.Location}: a GET of line {line} gave {got} bytes, not {length}");
            }
            if (FirstBadBlock(footer, start, buffer.Span[..length]) is not { } bad)
            {
                return length;
            }
            Metrics.RecordChecksumMismatch();
            if (attempt >= _options.ChecksumRetries)
            {
                Metrics.RecordCorrupt();
                long blockStart = (long)bad.Block * footer.BlockSize;
                throw new SegmentCorruptException(segment, key, bad.Block,
                    $"segment {key} (nonce 0x{segment:x16}) in {_store.Location}: data block {bad.Block} (data bytes [{blockStart}, {Math.Min(blockStart + footer.BlockSize, footer.DataLength)})) fails its CRC-32C: " +
                    $"the footer says 0x{footer.BlockCrc(bad.Block):x8}, the bytes read give 0x{bad.Actual:x8} ({attempt + 1} reads)");
            }
            got = await GetLineAsync(key, footer.DataOffset + start, buffer[..length], cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Read-ahead of adjacent lines: one ranged GET for all of them (the footer is known: read-ahead starts from it),
    /// each line handed to the cache as soon as its bytes arrived and passed their CRCs. A line that fails its CRC,
    /// and the lines after it, are read again one by one (a damaged transfer passes; a damaged object is reported).
    /// </summary>
    async Task ICacheLineSource.FillLinesAsync(ulong segment, long firstLine, IReadOnlyList<Memory<byte>> buffers, Action<int, int> filled, CancellationToken cancellationToken)
    {
        ICacheLineSource self = this;
        int next = buffers.Count > 1 ? await FillRunAsync(segment, firstLine, buffers, filled, cancellationToken).ConfigureAwait(false) : 0;
        for (; next < buffers.Count; next++)
        {
            filled(next, await self.FillLineAsync(segment, firstLine + next, buffers[next], cancellationToken).ConfigureAwait(false));
        }
    }

    /// <summary>
    /// One ranged GET for adjacent lines, each reported as soon as its bytes arrived and passed their CRCs; returns how
    /// many were reported (the caller reads the others one by one). When the footer is not known yet it is fetched at
    /// the same time (a second request, not a wait before the first): the data is asked for at the offset a header of
    /// this volume puts it, and lines past the data end are not asked for once the footer says where it is.
    /// </summary>
    private async Task<int> FillRunAsync(ulong segment, long firstLine, IReadOnlyList<Memory<byte>> buffers, Action<int, int> filled, CancellationToken cancellationToken)
    {
        string key = Keys.KeyOf(segment);
        int lineSize = buffers[0].Length;
        SegmentFooter? footer = _footers.TryGet(segment);
        if (footer is null && _dataLengths.TryGetValue(segment, out long dataLength)
            && firstLine * lineSize < dataLength && (firstLine + buffers.Count) * lineSize >= dataLength)
        {
            return await FillLastRunAsync(segment, key, firstLine, buffers, dataLength, filled, cancellationToken).ConfigureAwait(false);
        }
        Task<SegmentFooter>? footerTask = footer is null ? GetFooterAsync(segment) : null;
        long dataOffset = footer?.DataOffset ?? _expectedDataOffset;
        long total = 0;
        for (int i = 0; i < buffers.Count; i++)
        {
            total += footer is null ? lineSize : LineLength(footer, key, firstLine + i, lineSize);
        }
        int next = 0;
        try
        {
            Metrics.RecordLineGet();
            await using var stream = await _store.GetAsync(key, ByteRange.Of(dataOffset + (firstLine * lineSize), total), cancellationToken).ConfigureAwait(false);
            for (; next < buffers.Count; next++)
            {
                var line = buffers[next][..(int)Math.Min(lineSize, stream.Remaining)];
                int got = line.IsEmpty ? 0 : await stream.ReadFullyAsync(line, cancellationToken).ConfigureAwait(false);
                if (footer is null)
                {
                    footer = await footerTask!.ConfigureAwait(false);
                    if (footer.DataOffset != dataOffset)
                    {
                        break; // not where this volume's header puts it: the lines are read one by one at the right offset
                    }
                }
                int length = LineLength(footer, key, firstLine + next, lineSize);
                if (got < length || FirstBadBlock(footer, (firstLine + next) * lineSize, line.Span[..length]) is not null)
                {
                    break;
                }
                filled(next, length);
            }
        }
        finally
        {
            // A footer fetch this run started and no longer waits for is observed (its error, if any, is the next reader's).
            _ = footerTask?.ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        return next;
    }

    /// <summary>
    /// The run of lines that ends a segment's data, whose footer is not known yet, with the footer in the same GET: the
    /// data length comes from the volume's record of the segment (a <see cref="Prefetch"/> hint), the footer's length
    /// from the block size the volume writes. One request instead of two per segment: for a sequential read half the
    /// GETs (each costs the store far more than its bytes). The lines are reported once the footer is in and they pass
    /// their CRCs. When the object does not end where that says (an older record, another block size, a damaged
    /// transfer), the footer is fetched on its own and the lines read are checked against it.
    /// </summary>
    private async Task<int> FillLastRunAsync(ulong segment, string key, long firstLine, IReadOnlyList<Memory<byte>> buffers, long dataLength,
        Action<int, int> filled, CancellationToken cancellationToken)
    {
        int lineSize = buffers[0].Length;
        long start = firstLine * lineSize;
        int count = (int)((dataLength - start + lineSize - 1) / lineSize);
        int[] got = new int[count];
        long tailLength = SegmentFormat.FooterLength(dataLength, _options.BlockSize) + SegmentFormat.TrailerLength + TailSlack;
        SegmentFooter? footer = null;
        Metrics.RecordLineGet();
        await using (var stream = await _store.GetAsync(key, ByteRange.Of(_expectedDataOffset + start, dataLength - start + tailLength), cancellationToken).ConfigureAwait(false))
        {
            bool whole = true;
            for (int i = 0; i < count && whole; i++)
            {
                int length = (int)Math.Min(lineSize, dataLength - start - ((long)i * lineSize));
                got[i] = await stream.ReadFullyAsync(buffers[i][..length], cancellationToken).ConfigureAwait(false);
                whole = got[i] == length;
            }
            // The range asked for a little more than the footer should take (ranges end at the object's end): the bytes
            // left are the footer and trailer when they end the object right after the data.
            long left = stream.Remaining;
            if (whole && left is > 0 and <= MaxTailBytes && _expectedDataOffset + dataLength + left == stream.Object.Size)
            {
                byte[] tail = new byte[left];
                if (await stream.ReadFullyAsync(tail, cancellationToken).ConfigureAwait(false) == tail.Length)
                {
                    footer = FooterOf(segment, tail, stream.Object.Size, dataLength);
                }
            }
        }
        _dataLengths.TryRemove(segment, out _);
        if (footer is not null)
        {
            _footers.Add(footer);
            Metrics.RecordFooterFetched();
        }
        else
        {
            footer = await GetFooterAsync(segment).ConfigureAwait(false);
            if (footer.DataOffset != _expectedDataOffset)
            {
                return 0; // not where this volume's header puts it: the lines are read one by one at the right offset
            }
        }
        int next = 0;
        for (; next < count; next++)
        {
            int length = LineLength(footer, key, firstLine + next, lineSize);
            if (got[next] < length || FirstBadBlock(footer, (firstLine + next) * lineSize, buffers[next].Span[..length]) is not null)
            {
                break;
            }
            filled(next, length);
        }
        return next;
    }

    /// <summary>The footer in <paramref name="tail"/> (the object's last bytes) if it is this segment's, of <paramref name="dataLength"/> data bytes; else null.</summary>
    private SegmentFooter? FooterOf(ulong segment, byte[] tail, long objectLength, long dataLength)
    {
        try
        {
            var footer = SegmentFooter.Parse(tail, objectLength);
            return footer.Nonce == segment && footer.VolumeIdCrc == _volumeIdCrc && footer.DataLength == dataLength && footer.DataOffset == _expectedDataOffset
                ? footer
                : null;
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            return null; // not a footer where one was expected: the footer fetch that follows checks and reports
        }
    }

    private void CheckRange(SegmentFooter footer, long offset, int length)
    {
        if (offset + length > footer.DataLength)
        {
            string key = Keys.KeyOf(footer.Nonce);
            throw new SegmentReadException(footer.Nonce, key,
                $"segment {key} (nonce 0x{footer.Nonce:x16}) has {footer.DataLength} data bytes; the read of [{offset}, {offset + length}) goes past them");
        }
    }

    private void PrefetchLines(ulong nonce, long offset, long end)
    {
        int lineSize = _cache.LineSize;
        long first = offset / lineSize;
        long last = (end + lineSize - 1) / lineSize;
        if (last > first)
        {
            _cache.Prefetch(nonce, first, (int)Math.Min(last - first, int.MaxValue), _source);
        }
    }

    private static int LineLength(SegmentFooter footer, string key, long line, int lineSize)
    {
        long start = line * lineSize;
        if (start >= footer.DataLength)
        {
            throw new SegmentReadException(footer.Nonce, key, $"segment {key} has {footer.DataLength} data bytes: it has no line {line} of {lineSize} bytes");
        }
        if (lineSize % footer.BlockSize != 0)
        {
            throw new SegmentReadException(footer.Nonce, key, $"segment {key} has CRC blocks of {footer.BlockSize} bytes, which the read cache line of {lineSize} bytes is not a multiple of");
        }
        return (int)Math.Min(lineSize, footer.DataLength - start);
    }

    private static (int Block, uint Actual)? FirstBadBlock(SegmentFooter footer, long start, ReadOnlySpan<byte> data)
    {
        int first = (int)(start / footer.BlockSize);
        for (int i = 0; i * footer.BlockSize < data.Length; i++)
        {
            var block = data.Slice(i * footer.BlockSize, Math.Min(footer.BlockSize, data.Length - (i * footer.BlockSize)));
            uint actual = Crc32C.Compute(block);
            if (actual != footer.BlockCrc(first + i))
            {
                return (first + i, actual);
            }
        }
        return null;
    }

    private async Task<int> GetLineAsync(string key, long objectOffset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        Metrics.RecordLineGet();
        var read = await _store.ReadAsync(key, objectOffset, buffer, cancellationToken).ConfigureAwait(false);
        return read.BytesRead;
    }

    private async Task<SegmentFooter> FetchFooterAsync(ulong nonce)
    {
        string key = Keys.KeyOf(nonce);
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                var footer = await ReadFooterOnceAsync(key).ConfigureAwait(false);
                if (footer.Nonce != nonce || footer.VolumeIdCrc != _volumeIdCrc)
                {
                    Metrics.RecordCorrupt();
                    throw new SegmentCorruptException(nonce, key, -1,
                        $"segment {key} in {_store.Location} is not segment 0x{nonce:x16} of this volume: its footer names nonce 0x{footer.Nonce:x16} and volume id CRC 0x{footer.VolumeIdCrc:x8} (this volume's is 0x{_volumeIdCrc:x8})");
                }
                Metrics.RecordFooterFetched();
                return footer;
            }
            catch (FormatException e)
            {
                Metrics.RecordChecksumMismatch();
                if (attempt >= _options.ChecksumRetries)
                {
                    Metrics.RecordCorrupt();
                    throw new SegmentCorruptException(nonce, key, -1, $"segment {key} (nonce 0x{nonce:x16}) in {_store.Location} has a damaged footer ({attempt + 1} reads): {e.Message}", e);
                }
            }
        }
    }

    private async Task<SegmentFooter> ReadFooterOnceAsync(string key)
    {
        Metrics.RecordFooterGet();
        byte[] tail;
        long objectLength;
        await using (var stream = await _store.GetAsync(key, ByteRange.Suffix(_options.FooterProbeBytes)).ConfigureAwait(false))
        {
            tail = new byte[stream.Length];
            await stream.ReadFullyAsync(tail).ConfigureAwait(false);
            objectLength = stream.Object.Size;
        }
        if (tail.Length < SegmentFormat.TrailerLength + SegmentFormat.FooterFixedLength)
        {
            throw new FormatException($"the object is {objectLength} bytes, too short for a segment");
        }
        int f = SegmentFooter.ReadFooterLength(tail.AsSpan(tail.Length - SegmentFormat.TrailerLength));
        int needed = f + SegmentFormat.TrailerLength;
        if (needed > objectLength)
        {
            throw new FormatException($"the trailer gives a footer of {f} bytes, longer than the {objectLength}-byte object");
        }
        if (needed > tail.Length)
        {
            Metrics.RecordFooterGet();
            tail = await _store.GetBytesAsync(key, ByteRange.Of(objectLength - needed, needed)).ConfigureAwait(false);
            if (tail.Length != needed)
            {
                throw new FormatException($"a GET of the last {needed} bytes gave {tail.Length}");
            }
        }
        return SegmentFooter.Parse(tail.AsSpan(tail.Length - needed), objectLength);
    }
}
