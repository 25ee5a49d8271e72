using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Threading.Channels;
using ProxyFs.Core.Checksums;

namespace ProxyFs.Core.Cache;

/// <summary>Settings of a <see cref="DiskLineTier"/>.</summary>
public sealed record DiskLineTierOptions
{
    /// <summary>The directory the lines are kept in (created if missing); one daemon at a time may use it.</summary>
    public required string Directory { get; init; }

    /// <summary>Bytes of line files kept at most; the least recently used go first.</summary>
    public long MaxBytes { get; init; } = 10L << 30;

    /// <summary>
    /// Bytes of fetched lines waiting to be written to disk at most (copies, memory outside the read cache's budget);
    /// a line fetched while the queue is full is not written (and counted as dropped).
    /// </summary>
    public long MaxQueuedBytes { get; init; } = 16L << 20;
}

/// <summary>
/// An optional second tier of the read cache on local disk: lines fetched from the store are also written to a file
/// each, and a line that misses in memory is looked for there before the store is asked. Size-bounded (least recently
/// used files go first), each file checksummed with CRC-32C (a file that fails its check, or is short, is deleted and
/// the line fetched again), and reused after a restart: segments are immutable and their nonces never reused, so a
/// line file stays right for as long as it exists. docs/FORMAT.md ("Disk cache line") has the file format.
/// </summary>
/// <remarks>
/// Files live in <c>DIR/&lt;volume key&gt;/&lt;line size&gt;/&lt;segment nonce, 16 hex&gt;-&lt;line&gt;</c>: the volume key
/// (its id) keeps the nonces of different volumes apart, the line size keeps a changed read_cache.line_size from
/// reading old files. Writes go to a temporary name and are renamed into place, so a crash leaves a whole file or
/// none (a torn one fails its CRC). Disk errors never fail a read: the tier counts them and the store serves the line.
/// <para><b>Writes are off the read path</b>: a line fetched from the store is handed to the reader at once and a copy
/// of it is queued for one background writer; the queue holds at most <see cref="DiskLineTierOptions.MaxQueuedBytes"/>,
/// and a line that finds it full is not written (counted as dropped): a slow or busy disk never delays a read, it only
/// keeps fewer lines.</para>
/// </remarks>
public sealed class DiskLineTier
{
    /// <summary>"PFSLINE1": the first 8 bytes of a line file.</summary>
    public static ReadOnlySpan<byte> Magic => "PFSLINE1"u8;

    /// <summary>Bytes before the line's data: magic, data length (u32 LE), CRC-32C of the data (u32 LE).</summary>
    public const int HeaderLength = 16;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<(string Path, long Bytes)>> _files = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Path, long Bytes)> _lru = new(); // most recently used first
    private long _bytes;
    private long _hits;
    private long _misses;
    private long _writes;
    private long _corrupt;
    private long _evictions;
    private long _errors;
    private long _dropped;
    private long _queuedBytes;
    private readonly Channel<PendingWrite> _queue = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;

    /// <summary>Opens (or creates) the tier in <see cref="DiskLineTierOptions.Directory"/> and indexes the line files already there, oldest first.</summary>
    public DiskLineTier(DiskLineTierOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxQueuedBytes);
        Options = options;
        System.IO.Directory.CreateDirectory(options.Directory);
        var found = new DirectoryInfo(options.Directory).EnumerateFiles("*", SearchOption.AllDirectories)
            .Where(f => !f.Name.EndsWith(".tmp", StringComparison.Ordinal) || DeleteQuietly(f.FullName))
            .Select(f => (f.FullName, f.Length, f.LastWriteTimeUtc))
            .OrderByDescending(f => f.LastWriteTimeUtc)
            .ToList();
        foreach (var (path, length, _) in found)
        {
            _files[path] = _lru.AddLast((path, length));
            _bytes += length;
        }
        lock (_lock)
        {
            EvictLocked();
        }
        _writer = Task.Run(WriteQueuedAsync);
    }

    /// <summary>Bytes of lines queued for writing now.</summary>
    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    /// <summary>A test's hold on the background writer: while it is not set, queued lines stay queued.</summary>
    internal ManualResetEventSlim? WriteGate { get; set; }

    /// <summary>Waits until every line queued so far has been written (or failed); for tests and orderly shutdown.</summary>
    public async Task WhenWrittenAsync(CancellationToken cancellationToken = default)
    {
        while (Interlocked.Read(ref _queuedBytes) > 0)
        {
            if (_writer.IsCompleted)
            {
                await _writer.ConfigureAwait(false); // the writer stopped on an unexpected error: that error
            }
            await Task.Delay(5, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The settings.</summary>
    public DiskLineTierOptions Options { get; }

    /// <summary>The counters now.</summary>
    public DiskLineTierMetrics Snapshot()
    {
        lock (_lock)
        {
            return new DiskLineTierMetrics(_bytes, _files.Count, Options.MaxBytes, Interlocked.Read(ref _hits), Interlocked.Read(ref _misses),
                Interlocked.Read(ref _writes), Interlocked.Read(ref _corrupt), Interlocked.Read(ref _evictions), Interlocked.Read(ref _errors))
            {
                Dropped = Interlocked.Read(ref _dropped),
                QueuedBytes = Interlocked.Read(ref _queuedBytes),
            };
        }
    }

    /// <summary>
    /// A line source that looks in this tier first and fills it from <paramref name="inner"/> otherwise, for the volume
    /// <paramref name="volumeKey"/> (its id: letters, digits and '-') with lines of <paramref name="lineSize"/> bytes.
    /// </summary>
    public ICacheLineSource Wrap(string volumeKey, int lineSize, ICacheLineSource inner)
    {
        ArgumentException.ThrowIfNullOrEmpty(volumeKey);
        ArgumentNullException.ThrowIfNull(inner);
        if (!volumeKey.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
        {
            throw new ArgumentException($"a volume key of letters, digits and '-', not '{volumeKey}'", nameof(volumeKey));
        }
        string directory = Path.Combine(Options.Directory, volumeKey, lineSize.ToString(CultureInfo.InvariantCulture));
        System.IO.Directory.CreateDirectory(directory);
        return new TieredSource(this, directory, inner);
    }

    /// <summary>Encodes a line file: the header, then the data.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> data)
    {
        byte[] file = new byte[HeaderLength + data.Length];
        EncodeHeader(file, data);
        data.CopyTo(file.AsSpan(HeaderLength));
        return file;
    }

    private static void EncodeHeader(Span<byte> header, ReadOnlySpan<byte> data)
    {
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], (uint)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], Crc32C.Compute(data));
    }

    private readonly record struct PendingWrite(string Path, byte[] Data, int Length);

    /// <summary>Reads a line file into <paramref name="buffer"/>: its length, or -1 when it is absent, and -2 when it is damaged (then deleted).</summary>
    private int TryRead(string path, Span<byte> buffer)
    {
        lock (_lock)
        {
            if (!_files.TryGetValue(path, out var node))
            {
                Interlocked.Increment(ref _misses);
                return -1;
            }
            _lru.Remove(node);
            _lru.AddFirst(node);
        }
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
            Span<byte> header = stackalloc byte[HeaderLength];
            int n = RandomAccess.Read(handle, header, 0);
            int length = n == HeaderLength && header[..8].SequenceEqual(Magic) ? (int)BinaryPrimitives.ReadUInt32LittleEndian(header[8..]) : -1;
            if (length < 1 || length > buffer.Length || RandomAccess.GetLength(handle) != HeaderLength + length
                || RandomAccess.Read(handle, buffer[..length], HeaderLength) != length
                || Crc32C.Compute(buffer[..length]) != BinaryPrimitives.ReadUInt32LittleEndian(header[12..]))
            {
                Interlocked.Increment(ref _corrupt);
                Forget(path, delete: true);
                return -2;
            }
            Interlocked.Increment(ref _hits);
            return length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Interlocked.Increment(ref _errors);
            Forget(path, delete: e is not FileNotFoundException);
            return -1;
        }
    }

    /// <summary>Queues a copy of a fetched line for the background writer; drops it when the queue is full. Never blocks.</summary>
    private void Enqueue(string path, ReadOnlySpan<byte> data)
    {
        long bytes = HeaderLength + data.Length;
        if (bytes > Options.MaxBytes)
        {
            return;
        }
        if (Interlocked.Add(ref _queuedBytes, data.Length) > Math.Max(Options.MaxQueuedBytes, data.Length))
        {
            Interlocked.Add(ref _queuedBytes, -data.Length);
            Interlocked.Increment(ref _dropped);
            return;
        }
        byte[] copy = ArrayPool<byte>.Shared.Rent(data.Length);
        data.CopyTo(copy);
        if (!_queue.Writer.TryWrite(new PendingWrite(path, copy, data.Length)))
        {
            ArrayPool<byte>.Shared.Return(copy);
            Interlocked.Add(ref _queuedBytes, -data.Length);
            Interlocked.Increment(ref _dropped);
        }
    }

    private async Task WriteQueuedAsync()
    {
        await foreach (PendingWrite pending in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                WriteGate?.Wait();
                Write(pending.Path, pending.Data.AsSpan(0, pending.Length));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(pending.Data);
                Interlocked.Add(ref _queuedBytes, -pending.Length);
            }
        }
    }

    private void Write(string path, ReadOnlySpan<byte> data)
    {
        long bytes = HeaderLength + data.Length;
        string temp = path + ".tmp";
        try
        {
            using (var handle = File.OpenHandle(temp, FileMode.Create, FileAccess.Write, FileShare.None, FileOptions.None, bytes))
            {
                Span<byte> header = stackalloc byte[HeaderLength];
                EncodeHeader(header, data);
                RandomAccess.Write(handle, header, 0);
                RandomAccess.Write(handle, data, HeaderLength);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Interlocked.Increment(ref _errors);
            DeleteQuietly(temp);
            return;
        }
        Interlocked.Increment(ref _writes);
        lock (_lock)
        {
            if (_files.Remove(path, out var old))
            {
                _lru.Remove(old);
                _bytes -= old.Value.Bytes;
            }
            _files[path] = _lru.AddFirst((path, bytes));
            _bytes += bytes;
            EvictLocked();
        }
    }

    private void EvictLocked()
    {
        while (_bytes > Options.MaxBytes && _lru.Last is { } oldest)
        {
            _lru.RemoveLast();
            _files.Remove(oldest.Value.Path);
            _bytes -= oldest.Value.Bytes;
            Interlocked.Increment(ref _evictions);
            DeleteQuietly(oldest.Value.Path);
        }
    }

    private void Forget(string path, bool delete)
    {
        lock (_lock)
        {
            if (_files.Remove(path, out var node))
            {
                _lru.Remove(node);
                _bytes -= node.Value.Bytes;
            }
        }
        if (delete)
        {
            DeleteQuietly(path);
        }
    }

    private bool DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Interlocked.Increment(ref _errors);
        }
        return false;
    }

    /// <summary>The tier in front of a volume's line source.</summary>
    private sealed class TieredSource(DiskLineTier tier, string directory, ICacheLineSource inner) : ICacheLineSource
    {
        private string PathOf(ulong segment, long line) =>
            Path.Combine(directory, segment.ToString("x16", CultureInfo.InvariantCulture) + "-" + line.ToString(CultureInfo.InvariantCulture));

        public async Task<int> FillLineAsync(ulong segment, long line, Memory<byte> buffer, CancellationToken cancellationToken)
        {
            string path = PathOf(segment, line);
            int length = tier.TryRead(path, buffer.Span);
            if (length > 0)
            {
                return length;
            }
            length = await inner.FillLineAsync(segment, line, buffer, cancellationToken).ConfigureAwait(false);
            tier.Enqueue(path, buffer.Span[..length]);
            return length;
        }

        public async Task FillLinesAsync(ulong segment, long firstLine, IReadOnlyList<Memory<byte>> buffers, Action<int, int> filled, CancellationToken cancellationToken)
        {
            // Lines on disk come from there; each stretch of lines that are not, from the source in one request.
            int next = 0;
            while (next < buffers.Count)
            {
                int length = tier.TryRead(PathOf(segment, firstLine + next), buffers[next].Span);
                if (length > 0)
                {
                    filled(next, length);
                    next++;
                    continue;
                }
                int end = next + 1;
                int onDisk = 0;
                while (end < buffers.Count && (onDisk = tier.TryRead(PathOf(segment, firstLine + end), buffers[end].Span)) <= 0)
                {
                    end++;
                }
                int offset = next;
                await inner.FillLinesAsync(segment, firstLine + offset, buffers.Skip(offset).Take(end - offset).ToArray(), (i, n) =>
                {
                    tier.Enqueue(PathOf(segment, firstLine + offset + i), buffers[offset + i].Span[..n]);
                    filled(offset + i, n);
                }, cancellationToken).ConfigureAwait(false);
                if (end < buffers.Count)
                {
                    filled(end, onDisk);
                }
                next = end + 1;
            }
        }
    }
}

/// <summary>The counters of a <see cref="DiskLineTier"/>.</summary>
/// <param name="Bytes">Bytes of line files held.</param>
/// <param name="Files">Line files held.</param>
/// <param name="MaxBytes">The bound.</param>
/// <param name="Hits">Lines read from disk.</param>
/// <param name="Misses">Lines looked for and not there.</param>
/// <param name="Writes">Line files written.</param>
/// <param name="Corrupt">Line files that failed their check and were deleted (the line was fetched again).</param>
/// <param name="Evictions">Line files deleted to stay within the bound.</param>
/// <param name="Errors">Disk errors (each served from the store instead).</param>
public sealed record DiskLineTierMetrics(long Bytes, int Files, long MaxBytes, long Hits, long Misses, long Writes, long Corrupt, long Evictions, long Errors)
{
    /// <summary>Fetched lines not written because the write queue was full.</summary>
    public long Dropped { get; init; }

    /// <summary>Bytes of lines waiting to be written now.</summary>
    public long QueuedBytes { get; init; }
}
