using System.Collections.Concurrent;
using ProxyFs.Core.Cache;
using ProxyFs.Core.Checksums;
using ProxyFs.ObjectStore;

namespace ProxyFs.Core.LogSegments;

/// <summary>
/// The data path of one volume's writes: bytes appended from every file go, in order, into one open segment, which is
/// sealed and uploaded as one immutable object when it reaches <see cref="SegmentWriterOptions.MaxFlushSize"/>,
/// <see cref="SegmentWriterOptions.MaxFlushTime"/> after its first byte, on <see cref="FlushAsync"/>, and at
/// <see cref="CloseAsync"/>. Appended bytes are readable at once (<see cref="TryRead"/>), before and during the upload.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>An append is never split: when it does not fit in the open segment, that segment is sealed first and the bytes
/// start a new one, so each append is one <see cref="SegmentLocation"/> (one extent). Appends are at most
/// MaxFlushSize bytes (FUSE writes are at most 1 MiB).</item>
/// <item>Up to <see cref="SegmentWriterOptions.MaxConcurrentUploads"/> sealed segments upload at once. When the bytes
/// not yet durable exceed <see cref="SegmentWriterOptions.MaxDirtyBytes"/>, <see cref="Append"/> blocks until uploads
/// free room (backpressure): memory stays bounded.</item>
/// <item>A segment whose upload fails for good (a non-retryable error, or <see cref="SegmentWriterOptions.UploadAttempts"/>
/// used up) puts the writer in <see cref="SegmentWriterState.Failed"/>: <see cref="Append"/>, <see cref="FlushAsync"/>
/// and <see cref="CloseAsync"/> throw <see cref="SegmentWriterFailedException"/>; the bytes stay in memory and readable,
/// and <see cref="RetryFailedAsync"/> tries the failed uploads again.</item>
/// </list>
/// Thread-safe: appends from many threads are serialised by one short lock around the copy.
/// </remarks>
public sealed partial class SegmentWriter : IAsyncDisposable
{
    private readonly IObjectStore _store;
    private readonly INonceSource _nonces;
    private readonly byte[] _volumeId;
    private readonly uint _volumeIdCrc;
    private readonly SegmentWriterOptions _options;
    private readonly TimeProvider _time;
    private readonly BufferPool _pool;
    private readonly ConcurrentDictionary<ulong, InMemorySegment> _inMemory = new();
    private readonly Lock _lock = new();
    private readonly object _roomLock = new();
    private readonly ITimer _timer;
    private InMemorySegment? _open;
    private long _nextSequence = 1;
    private long _dirtyBytes;
    private int _appendsWaiting;

    /// <summary>
    /// A writer for the volume <paramref name="volumeId"/> (1 to 1,024 bytes, written into every segment header) that
    /// uploads to <paramref name="store"/> and takes segment nonces from <paramref name="nonces"/>.
    /// </summary>
    public SegmentWriter(IObjectStore store, INonceSource nonces, ReadOnlySpan<byte> volumeId, SegmentWriterOptions? options = null, SegmentWriterMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(nonces);
        SegmentFormat.ValidateVolumeId(volumeId.Length);
        _options = options ?? new SegmentWriterOptions();
        _options.Validate();
        _store = store;
        _nonces = nonces;
        _volumeId = volumeId.ToArray();
        _volumeIdCrc = Crc32C.Compute(volumeId);
        _time = _options.TimeProvider;
        Keys = new SegmentKeys(_options.KeyPrefix);
        _pool = new BufferPool(_options.ChunkSize, (int)Math.Min(int.MaxValue, _options.ChunkPoolRetainBytes / _options.ChunkSize));
        _uploadSlots = new SemaphoreSlim(_options.MaxConcurrentUploads, _options.MaxConcurrentUploads);
        Metrics = metrics ?? new SegmentWriterMetrics();
        Metrics.Bind(() => Interlocked.Read(ref _dirtyBytes), () => _options.MaxConcurrentUploads - _uploadSlots.CurrentCount);
        _timer = _time.CreateTimer(_ => OnFlushTimer(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The settings.</summary>
    public SegmentWriterOptions Options => _options;

    /// <summary>The keys of the segments.</summary>
    public SegmentKeys Keys { get; }

    /// <summary>The store segments go to.</summary>
    public IObjectStore Store => _store;

    /// <summary>The counters.</summary>
    public SegmentWriterMetrics Metrics { get; }

    /// <summary>Running, failed (see <see cref="Failure"/>) or closed.</summary>
    public SegmentWriterState State => _state;

    /// <summary>Why the writer failed, or null.</summary>
    public SegmentWriterFailedException? Failure => _failure;

    /// <summary>Appended bytes not yet durable (what backpressure limits).</summary>
    public long BytesWaiting => Interlocked.Read(ref _dirtyBytes);

    /// <summary>Appends blocked by backpressure right now.</summary>
    public int AppendsWaiting => Volatile.Read(ref _appendsWaiting);

    /// <summary>The nonces of the segments whose upload failed for good (readable from memory).</summary>
    public IReadOnlyList<ulong> FailedSegments
    {
        get
        {
            lock (_lock)
            {
                return [.. _failed.Select(s => s.Nonce)];
            }
        }
    }

    /// <summary>
    /// Appends <paramref name="data"/> (1 byte to MaxFlushSize) to the open segment and returns where it is. Blocks while
    /// the bytes not yet durable exceed MaxDirtyBytes. The bytes are readable through <see cref="TryRead"/> as soon as
    /// this returns, and durable once a later <see cref="FlushAsync"/> returns.
    /// </summary>
    /// <exception cref="SegmentWriterFailedException">the writer has failed (see <see cref="Failure"/>).</exception>
    /// <exception cref="ObjectDisposedException">the writer is closing or closed.</exception>
    public SegmentLocation Append(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            throw new ArgumentException("nothing to append", nameof(data));
        }
        if (data.Length > _options.MaxFlushSize)
        {
            throw new ArgumentException($"an append is at most MaxFlushSize ({_options.MaxFlushSize}) bytes, not {data.Length}: split it", nameof(data));
        }
        ReserveRoom(data.Length);
        bool reserved = true;
        try
        {
            lock (_lock)
            {
                ThrowIfNotAccepting();
                var segment = _open;
                if (segment is not null && segment.Length + data.Length > _options.MaxFlushSize)
                {
                    SealLocked(segment, FlushReason.Size);
                    segment = null;
                }
                segment ??= OpenLocked();
                var location = new SegmentLocation(segment.Nonce, segment.Length, data.Length);
                segment.Append(data);
                reserved = false;
                if (segment.Length == _options.MaxFlushSize)
                {
                    SealLocked(segment, FlushReason.Size);
                }
                return location;
            }
        }
        finally
        {
            if (reserved)
            {
                ReleaseRoom(data.Length);
            }
        }
    }

    /// <summary>True while segment <paramref name="nonce"/> is in memory (open, uploading, or failed).</summary>
    public bool Contains(ulong nonce) => _inMemory.ContainsKey(nonce);

    /// <summary>
    /// Copies bytes of segment <paramref name="nonce"/> from <paramref name="offset"/> (in its data area) when the segment
    /// is still in memory; false when it is not (it is durable: read it from the store).
    /// </summary>
    /// <exception cref="SegmentReadException">the segment is in memory but has fewer bytes.</exception>
    public bool TryRead(ulong nonce, long offset, Span<byte> destination)
    {
        if (!_inMemory.TryGetValue(nonce, out var segment) || !segment.TryAcquire())
        {
            return false;
        }
        try
        {
            segment.CopyTo(offset, destination);
        }
        finally
        {
            segment.Release();
        }
        Metrics.RecordMemoryRead(destination.Length);
        return true;
    }

    private InMemorySegment OpenLocked()
    {
        ulong nonce = _nonces.Next();
        if (_inMemory.ContainsKey(nonce))
        {
            throw new InvalidOperationException($"the nonce source returned 0x{nonce:x16} again while that segment is still in memory");
        }
        byte[] header = new byte[SegmentFormat.HeaderLength(_volumeId.Length)];
        SegmentFormat.WriteHeader(header, nonce, _volumeId);
        var segment = new InMemorySegment(nonce, _nextSequence++, Keys.KeyOf(nonce), header, _pool, _options.MaxFlushSize, _time.GetTimestamp());
        _inMemory[nonce] = segment;
        _pending.Add(segment.Sequence);
        _open = segment;
        _timer.Change(_options.MaxFlushTime, Timeout.InfiniteTimeSpan);
        return segment;
    }

    private void SealLocked(InMemorySegment segment, FlushReason reason)
    {
        if (ReferenceEquals(_open, segment))
        {
            _open = null;
        }
        segment.SealReason = reason;
        Metrics.RecordFlush(reason);
        StartUpload(segment);
    }

    private void OnFlushTimer()
    {
        lock (_lock)
        {
            if (_open is not { } segment)
            {
                return;
            }
            // A callback armed for an earlier segment may run late: seal only a segment old enough, else re-arm.
            var age = _time.GetElapsedTime(segment.OpenedAt);
            if (age >= _options.MaxFlushTime)
            {
                SealLocked(segment, FlushReason.Time);
            }
            else
            {
                _timer.Change(_options.MaxFlushTime - age, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private void ThrowIfNotAccepting()
    {
        if (_spilling)
        {
            throw new ObjectDisposedException(nameof(SegmentWriter), "the segment writer is closed: the segments the store did not take were spilled to local disk");
        }
        if (_state == SegmentWriterState.Failed)
        {
            throw new SegmentWriterFailedException($"the segment writer has failed and accepts no more bytes: {_failure!.Message}", _failure);
        }
        if (_closing)
        {
            throw new ObjectDisposedException(nameof(SegmentWriter), "the segment writer is closed");
        }
    }

    private void ReserveRoom(int bytes)
    {
        lock (_roomLock)
        {
            if (_dirtyBytes + bytes <= _options.MaxDirtyBytes || _dirtyBytes == 0)
            {
                _dirtyBytes += bytes;
                return;
            }
            long start = _time.GetTimestamp();
            _appendsWaiting++;
            try
            {
                while (_dirtyBytes + bytes > _options.MaxDirtyBytes && _dirtyBytes > 0)
                {
                    ThrowIfNotAccepting();
                    Monitor.Wait(_roomLock);
                }
                ThrowIfNotAccepting();
                _dirtyBytes += bytes;
            }
            finally
            {
                _appendsWaiting--;
                Metrics.RecordBackpressure(_time.GetElapsedTime(start));
            }
        }
    }

    private void ReleaseRoom(long bytes)
    {
        lock (_roomLock)
        {
            _dirtyBytes -= bytes;
            Monitor.PulseAll(_roomLock);
        }
    }

    private void WakeWaitersForRoom()
    {
        lock (_roomLock)
        {
            Monitor.PulseAll(_roomLock);
        }
    }
}
