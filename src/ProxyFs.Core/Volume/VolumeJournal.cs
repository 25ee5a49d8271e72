using System.Buffers;
using Microsoft.Extensions.Logging;
using ProxyFs.Core.Durability;
using ProxyFs.Core.FileSystem.Inodes;
using ProxyFs.Core.ReplayLog;

namespace ProxyFs.Core.Volume;

/// <summary>
/// A volume's use of its replay log: one record per operation, appended at the operation's commit and tagged with
/// the current epoch; a background group commit every <see cref="VolumeOptions.GroupCommitInterval"/>; explicit
/// commits for fsync; the epoch moved on at each checkpoint's snapshot and the log trimmed once that checkpoint is
/// in the store.
/// </summary>
/// <remarks>
/// <para><b>The epoch rule</b> (ReplayLog/README.md): checkpoint E contains exactly the changes of the records with
/// epoch below E. Records are appended under the inode store's shared gate and the epoch moves on under its exclusive
/// gate (the snapshot), so every record appended before a snapshot has a lower epoch than every record after it.</para>
/// <para><b>A faulted log</b> (full disk, I/O error): records can no longer be made durable. Operations go on (their
/// changes are in the tree, and the next checkpoint stores them); fsync then runs a checkpoint instead of a log
/// commit, and that checkpoint's trim restarts the log.</para>
/// </remarks>
public sealed class VolumeJournal : IDisposable
{
    private readonly VolumeReplayLog _log;
    private readonly ILogger _logger;
    private readonly Lock _appendLock = new();
    private readonly ITimer? _committer;
    private readonly TimeSpan _commitInterval;
    private int _armed;
    private ReplayLogPosition _last;
    private ReplayLogPosition _committed;
    private ulong _epoch;
    private int _committing;
    private volatile bool _lost;
    private ulong _droppedEpoch;
    private int _disposed;

    private VolumeJournal(VolumeReplayLog log, ulong epoch, VolumeOptions options, ILogger logger)
    {
        _log = log;
        _epoch = epoch;
        _logger = logger;
        _commitInterval = options.GroupCommitInterval;
        if (!log.ReadOnly && options.GroupCommitInterval > TimeSpan.Zero)
        {
            // Armed by the first append after each group commit: an idle volume wakes nothing.
            _committer = options.TimeProvider.CreateTimer(_ => GroupCommit(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>The log directory.</summary>
    public string Directory => _log.Directory;

    /// <summary>The epoch records are tagged with now.</summary>
    public ulong Epoch => Interlocked.Read(ref _epoch);

    /// <summary>What the log found when it was opened.</summary>
    public ReplayLogOpened Opened => _log.Opened;

    /// <summary>The log underneath (statistics, replay).</summary>
    public VolumeReplayLog Log => _log;

    /// <summary>True once a record could not be appended or committed: only a checkpoint makes changes durable until the log restarts.</summary>
    public bool Lost => _lost || _log.Faulted is not null;

    /// <summary>Largest payload of one record.</summary>
    public int MaxPayloadLength => _log.MaxPayloadLength;

    /// <summary>
    /// Opens the log of <paramref name="volumeId"/> for a mount whose root pointer says <paramref name="cleanUnmount"/>
    /// and <paramref name="epoch"/>. An unclean unmount expects the log to be there: a missing or damaged one is refused
    /// unless <see cref="VolumeOptions.AcceptReplayLogLoss"/> (then the loss is logged and a new log started). Another
    /// volume's log is always refused.
    /// </summary>
    public static VolumeJournal Open(string directory, Guid volumeId, bool cleanUnmount, ulong epoch, VolumeOptions options, ILogger logger)
    {
        var logOptions = (options.ReplayLog ?? new ReplayLogOptions()) with { ExpectExisting = !cleanUnmount, ReadOnly = false, Logger = logger };
        VolumeReplayLog log;
        try
        {
            log = VolumeReplayLog.Open(directory, volumeId, logOptions);
        }
        catch (Exception e) when (e is ReplayLogMissingException or ReplayLogCorruptException or ReplayLogFormatException && options.AcceptReplayLogLoss)
        {
            string aside = MoveAside(directory);
            logger.LogError("{Reason} Accepting the loss (accept_log_loss): the changes made after the last checkpoint are gone{Aside}",
                e.Message, aside.Length > 0 ? $"; the damaged log was moved to {aside}" : "");
            log = VolumeReplayLog.Open(directory, volumeId, logOptions with { ExpectExisting = false });
        }
        return new VolumeJournal(log, epoch, options, logger);
    }

    /// <summary>Opens the log of an uncleanly unmounted volume read-only, to replay it into a read-only mount; null when there is none.</summary>
    public static VolumeJournal? OpenForReading(string directory, Guid volumeId, ulong epoch, VolumeOptions options, ILogger logger)
    {
        try
        {
            VolumeReplayLog log = VolumeReplayLog.Open(directory, volumeId, (options.ReplayLog ?? new ReplayLogOptions()) with { ReadOnly = true, Logger = logger });
            return new VolumeJournal(log, epoch, options, logger);
        }
        catch (Exception e) when (e is ReplayLogMissingException or ReplayLogInUseException)
        {
            logger.LogWarning("read-only mount without the replay log ({Reason}): it shows the last checkpoint only", e.Message);
            return null;
        }
    }

    /// <summary>Appends the records of one operation (its changes encoded in <paramref name="changes"/>, starting at <paramref name="starts"/>).</summary>
    /// <returns>False when the log cannot take them (it faulted): the changes become durable at the next checkpoint only.</returns>
    public bool Append(OperationKind kind, ReadOnlySpan<byte> changes, IReadOnlyList<int> starts)
    {
        if (_lost)
        {
            Dropped(Interlocked.Read(ref _epoch));
            return false;
        }
        if (JournalRecord.HeaderLength + changes.Length <= _log.MaxPayloadLength)
        {
            return AppendOne(kind, changes, starts.Count);
        }
        List<byte[]> payloads = JournalRecord.Payloads(kind, changes, starts, _log.MaxPayloadLength);
        try
        {
            // One operation's records are consecutive in the log: replay applies them only once the last is read.
            lock (_appendLock)
            {
                ulong epoch = Interlocked.Read(ref _epoch);
                foreach (byte[] payload in payloads)
                {
                    _last = _log.Append(epoch, payload);
                }
            }
            ArmGroupCommit();
        }
        catch (ReplayLogException e)
        {
            MarkLost(e);
            Dropped(Interlocked.Read(ref _epoch));
            return false;
        }
        CrashPoints.Hit(CrashPoints.JournalAfterAppend);
        return true;
    }

    /// <summary>The common case of <see cref="Append"/>: the operation fits one record, assembled in a pooled buffer.</summary>
    private bool AppendOne(OperationKind kind, ReadOnlySpan<byte> changes, int count)
    {
        int length = JournalRecord.HeaderLength + changes.Length;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            JournalRecord.WriteHeader(buffer, kind, continued: false, count);
            changes.CopyTo(buffer.AsSpan(JournalRecord.HeaderLength));
            lock (_appendLock)
            {
                _last = _log.Append(Interlocked.Read(ref _epoch), buffer.AsSpan(0, length));
            }
            ArmGroupCommit();
        }
        catch (ReplayLogException e)
        {
            MarkLost(e);
            Dropped(Interlocked.Read(ref _epoch));
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        CrashPoints.Hit(CrashPoints.JournalAfterAppend);
        return true;
    }

    /// <summary>
    /// Makes every record appended so far durable. False when the log faulted (those records may be lost: the caller
    /// must checkpoint to make the changes durable).
    /// </summary>
    public bool CommitAll()
    {
        ReplayLogPosition last;
        lock (_appendLock)
        {
            last = _last;
        }
        if (last.Sequence == 0)
        {
            return !Lost;
        }
        try
        {
            _log.Commit(last);
        }
        catch (ReplayLogException e)
        {
            MarkLost(e);
            Dropped(Interlocked.Read(ref _epoch));
            return false;
        }
        lock (_appendLock)
        {
            if (last.Sequence > _committed.Sequence || last.Incarnation != _committed.Incarnation)
            {
                _committed = last;
            }
        }
        CrashPoints.Hit(CrashPoints.JournalAfterCommit);
        return !Lost;
    }

    /// <summary>At a checkpoint's snapshot (under the exclusive gate): the epoch records are tagged with from now on, which that checkpoint records.</summary>
    public ulong AdvanceEpoch() => Interlocked.Increment(ref _epoch);

    /// <summary>After replay: records already in the log may carry a higher epoch than the root pointer; new ones must not go below them.</summary>
    public void RaiseEpoch(ulong atLeast) => RaiseTo(ref _epoch, atLeast);

    /// <summary>After checkpoint <paramref name="epoch"/> is in the store: drops the records it contains (restarts a faulted log).</summary>
    public async Task TrimAsync(ulong epoch, CancellationToken cancellationToken)
    {
        await _log.TrimAsync(epoch, cancellationToken).ConfigureAwait(false);
        // Only a checkpoint that holds every change whose record was dropped lets the log carry changes alone again.
        if (_lost && _log.Faulted is null && epoch > Interlocked.Read(ref _droppedEpoch))
        {
            _lost = false;
            _logger.LogWarning("replay log {Directory} restarted after checkpoint epoch {Epoch}", _log.Directory, epoch);
        }
    }

    /// <summary>Records of <paramref name="epoch"/> (or below) were lost with the log: only a later checkpoint holds them.</summary>
    private void Dropped(ulong epoch) => RaiseTo(ref _droppedEpoch, epoch);

    private static void RaiseTo(ref ulong location, ulong value)
    {
        ulong now;
        while ((now = Interlocked.Read(ref location)) < value && Interlocked.CompareExchange(ref location, value, now) != now)
        {
        }
    }

    private void MarkLost(ReplayLogException e)
    {
        if (!_lost)
        {
            _lost = true;
            _logger.LogError(e, "replay log {Directory} failed: changes are durable only at checkpoints until it restarts", _log.Directory);
        }
    }

    /// <summary>Makes sure a group commit runs within the interval: the first append after one arms the next.</summary>
    private void ArmGroupCommit()
    {
        if (_committer is not null && Interlocked.CompareExchange(ref _armed, 1, 0) == 0)
        {
            Rearm();
        }
    }

    private void Rearm()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }
        try
        {
            _committer!.Change(_commitInterval, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // Closed since the check above: the close commits what was appended.
        }
    }

    private void GroupCommit()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }
        if (Interlocked.Exchange(ref _committing, 1) != 0)
        {
            // A commit is still running and may have read the tail before the appends that armed this one: come back.
            Rearm();
            return;
        }
        try
        {
            // Disarmed before the tail is read: an append after this point arms the next group commit.
            Volatile.Write(ref _armed, 0);
            bool behind;
            lock (_appendLock)
            {
                behind = _last.Sequence != _committed.Sequence || _last.Incarnation != _committed.Incarnation;
            }
            if (behind && !Lost)
            {
                CommitAll();
            }
        }
        finally
        {
            Volatile.Write(ref _committing, 0);
        }
    }

    private static string MoveAside(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            return "";
        }
        string aside = $"{directory.TrimEnd('/')}.lost-{DateTime.UtcNow:yyyyMMddTHHmmss}";
        System.IO.Directory.Move(directory, aside);
        return aside;
    }

    /// <summary>
    /// Stops the group commit and closes the log. After a clean unmount (<paramref name="clean"/>: the last checkpoint
    /// holds everything and the log was trimmed) the directory is removed: nothing is needed on local disk.
    /// </summary>
    public void Close(bool clean)
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _committer?.Dispose();
        string directory = _log.Directory;
        bool readOnly = _log.ReadOnly;
        try
        {
            _log.Dispose();
        }
        catch (ReplayLogWriteException e) when (!clean)
        {
            // The volume stopped or was fenced: what the log could not commit is lost either way; said once here.
            _logger.LogError(e, "replay log {Directory}: the last commit failed while closing", directory);
        }
        if (clean && !readOnly)
        {
            // Renamed first, so an interrupted removal never leaves a half-deleted log under the volume's name.
            string doomed = $"{directory.TrimEnd('/')}.removed-{Environment.ProcessId}";
            System.IO.Directory.Move(directory, doomed);
            System.IO.Directory.Delete(doomed, recursive: true);
        }
    }

    public void Dispose() => Close(clean: false);
}
