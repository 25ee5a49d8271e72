using System.Buffers;
using Microsoft.Extensions.Logging;

namespace ProxyFs.Core.ReplayLog;

/// <summary>
/// A volume's replay log: every metadata change made since the last checkpoint, appended as one record (epoch,
/// sequence number, opaque payload, CRC-32C) to a FasterLog on local disk, group-committed, replayed on mount and
/// trimmed after each checkpoint. Format: docs/FORMAT.md "Replay log"; behaviour: README.md beside this file.
/// </summary>
/// <remarks>
/// Thread-safe: any number of threads append and commit concurrently. <see cref="Replay"/> is meant for mount time,
/// before the volume appends: it reads what is committed, and must not run concurrently with <see cref="TrimAsync"/>
/// (which deletes the segment files it reads) or <see cref="Dispose"/>.
/// </remarks>
public sealed partial class VolumeReplayLog : IDisposable, IAsyncDisposable
{
    private readonly Lock _appendLock = new();
    private readonly LogIdentity _identity;
    private readonly ReplayLogOptions _options;
    private readonly int _lockFd;
    private readonly EpochRuns _runs;
    private readonly Dictionary<int, long> _retired = [];
    private LogInstance _instance;
    private ulong _sequence;
    private long _appends;
    private bool _disposed;

    private VolumeReplayLog(string directory, Guid volumeId, LogIdentity identity, ReplayLogOptions options, int lockFd, LogInstance instance,
        EpochRuns runs, ReplayLogOpened opened)
    {
        Directory = directory;
        VolumeId = volumeId;
        _identity = identity;
        _options = options;
        _lockFd = lockFd;
        _instance = instance;
        _runs = runs;
        _sequence = opened.LastSequence;
        Opened = opened;
        MaxPayloadLength = (1 << identity.PageSizeBits) - instance.Log.HeaderSize - RecordFrame.HeaderLength;
    }

    public string Directory { get; }

    public Guid VolumeId { get; }

    /// <summary>What opening found: a fresh log or an existing one, its records, a torn tail.</summary>
    public ReplayLogOpened Opened { get; }

    /// <summary>The largest payload a record can carry (a record must fit in one FasterLog page).</summary>
    public int MaxPayloadLength { get; }

    public bool ReadOnly => _options.ReadOnly;

    /// <summary>The write failure that stopped the log, or null while it works (see <see cref="ReplayLogWriteException"/>).</summary>
    public ReplayLogWriteException? Faulted => Volatile.Read(ref _instance).Committer.Fault as ReplayLogWriteException;

    /// <summary>The sequence number of the last record appended (0 when none ever was).</summary>
    public ulong LastSequence
    {
        get
        {
            lock (_appendLock)
            {
                return _sequence;
            }
        }
    }

    /// <summary>
    /// Appends one record (in memory: <see cref="CommitAsync"/> makes it durable) and returns its position. Cheap;
    /// any number of threads may append at once, and sequence numbers follow the order of the records in the log.
    /// </summary>
    /// <param name="epoch">The checkpoint generation the record follows: <see cref="Replay"/> filters on it and <see cref="Trim"/> drops by it.</param>
    /// <param name="payload">The record, opaque to the log; at most <see cref="MaxPayloadLength"/> bytes.</param>
    /// <exception cref="ReplayLogWriteException">The log is <see cref="Faulted"/>.</exception>
    public ReplayLogPosition Append(ulong epoch, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > MaxPayloadLength)
        {
            throw new ArgumentException($"a replay log record carries at most {MaxPayloadLength} bytes, not {payload.Length}", nameof(payload));
        }
        int length = RecordFrame.HeaderLength + payload.Length;
        byte[] frame = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            RecordFrame.Prepare(frame, epoch, payload);
            lock (_appendLock)
            {
                ThrowIfUnwritable();
                LogInstance instance = _instance;
                ulong sequence = _sequence + 1;
                RecordFrame.Seal(frame.AsSpan(0, length), sequence);
                long address = Enqueue(instance, frame.AsSpan(0, length));
                _sequence = sequence;
                _runs.Add(epoch, address);
                _appends++;
                return new ReplayLogPosition(sequence, instance.EndOf(address, length), instance.Incarnation);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    /// <summary>
    /// Completes when the record at <paramref name="position"/> and every record appended before it are durable on
    /// disk. Concurrent callers share one flush (group commit).
    /// </summary>
    /// <exception cref="ReplayLogWriteException">Writing failed; the record is lost and the log is <see cref="Faulted"/>.</exception>
    public ValueTask CommitAsync(ReplayLogPosition position, CancellationToken cancellationToken = default)
    {
        LogInstance instance = Volatile.Read(ref _instance);
        if (position.Incarnation != instance.Incarnation)
        {
            CheckRetired(position);
            return ValueTask.CompletedTask;
        }
        Task wait = instance.Committer.WaitAsync(position.Address);
        return wait.IsCompletedSuccessfully ? ValueTask.CompletedTask : new ValueTask(wait.WaitAsync(cancellationToken));
    }

    /// <summary>Blocks until <paramref name="position"/> is durable: <see cref="CommitAsync"/> for threads that may block.</summary>
    public void Commit(ReplayLogPosition position)
    {
        ValueTask commit = CommitAsync(position);
        if (!commit.IsCompletedSuccessfully)
        {
            commit.AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>Sizes and counters of the log now.</summary>
    public ReplayLogStatistics Statistics
    {
        get
        {
            long bytes = 0;
            int segments = 0;
            foreach (FileInfo file in new DirectoryInfo(Directory).EnumerateFiles())
            {
                long length;
                try
                {
                    length = file.Length;
                }
                catch (FileNotFoundException)
                {
                    // A segment file that FasterLog deleted after a trim (in the background) since it was listed: it is
                    // no longer on disk, so it is not counted.
                    continue;
                }
                bytes += length;
                if (file.Name.StartsWith(LogInstance.SegmentBaseName + ".", StringComparison.Ordinal))
                {
                    segments++;
                }
            }
            lock (_appendLock)
            {
                LogInstance instance = _instance;
                return new ReplayLogStatistics(
                    Records: _runs.Records,
                    LastSequence: _sequence,
                    BeginAddress: instance.Log.BeginAddress,
                    TailAddress: instance.Log.TailAddress,
                    DurableAddress: instance.Committer.Durable,
                    BytesOnDisk: bytes,
                    SegmentFiles: segments,
                    Appends: _appends,
                    Flushes: instance.Committer.Flushes,
                    CommitWaits: instance.Committer.Waits);
            }
        }
    }

    /// <summary>Commits everything appended and closes the log. Throws <see cref="ReplayLogWriteException"/> if that last commit fails (the log is closed all the same).</summary>
    public void Dispose()
    {
        Task? last;
        lock (_appendLock)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            last = ReadOnly || _instance.Committer.Fault is not null ? null : _instance.Committer.ForceAsync();
        }
        ReplayLogWriteException? failure = null;
        try
        {
            last?.GetAwaiter().GetResult();
        }
        catch (ReplayLogWriteException e)
        {
            failure = e;
            _options.Logger?.LogError(e, "Replay log {Directory}: the last commit before closing failed", Directory);
        }
        finally
        {
            _instance.Dispose();
            LogNative.UnlockDirectory(_lockFd);
        }
        if (failure is not null)
        {
            throw failure;
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    public override string ToString() => $"replay log {Directory} (volume {VolumeId})";

    private void ThrowIfUnwritable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (ReadOnly)
        {
            throw new InvalidOperationException($"{this} is open read-only");
        }
        if (_instance.Committer.Fault is ReplayLogWriteException fault)
        {
            throw fault;
        }
    }

    /// <summary>FasterLog's enqueue, which fails while its page ring waits for flushes; a failed flush faults the log.</summary>
    private static long Enqueue(LogInstance instance, ReadOnlySpan<byte> frame)
    {
        var spin = new SpinWait();
        long address;
        while (!instance.Log.TryEnqueue(frame, out address))
        {
            if (instance.Committer.Fault is ReplayLogWriteException fault)
            {
                throw fault;
            }
            if (spin.Count % 64 == 63)
            {
                // A flush that fails only reports it to a commit: make sure one runs so a full ring cannot hang us.
                _ = instance.Committer.ForceAsync();
            }
            spin.SpinOnce(sleep1Threshold: 32);
        }
        return address;
    }

    private void CheckRetired(ReplayLogPosition position)
    {
        lock (_appendLock)
        {
            if (!_retired.TryGetValue(position.Incarnation, out long durable))
            {
                throw new ArgumentException($"{position} was not returned by {this}", nameof(position));
            }
            if (position.Address > durable)
            {
                throw new ReplayLogWriteException(
                    $"{this}: record {position.Sequence} was lost when the log failed before committing it (see the log's fault)", false, null);
            }
        }
    }
}
