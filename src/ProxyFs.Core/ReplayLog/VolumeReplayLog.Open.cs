using Microsoft.Extensions.Logging;
using ProxyFs.ObjectStore.File;

namespace ProxyFs.Core.ReplayLog;

/// <summary>What <see cref="VolumeReplayLog.Open"/> found.</summary>
/// <param name="Created">The directory had no log: a fresh one was created.</param>
/// <param name="Records">Intact records in the log.</param>
/// <param name="LastSequence">The sequence number of the last intact record (0 for none).</param>
/// <param name="TornTail">Where the log was damaged at its end, if it was (cut off unless the log is read-only).</param>
public sealed record ReplayLogOpened(bool Created, long Records, ulong LastSequence, ReplayTornTail? TornTail);

public sealed partial class VolumeReplayLog
{
    /// <summary>The default directory of a volume's replay log.</summary>
    public static string DefaultDirectory(Guid volumeId) => Path.Combine("/var/lib/proxyfs", volumeId.ToString());

    /// <summary>
    /// Opens the replay log of volume <paramref name="volumeId"/> in <paramref name="directory"/>, creating it when
    /// there is none (unless <see cref="ReplayLogOptions.ExpectExisting"/> or <see cref="ReplayLogOptions.ReadOnly"/>).
    /// Scans the whole log: a damaged end is cut off (<see cref="Opened"/> says where and why), damage with intact
    /// records after it throws <see cref="ReplayLogCorruptException"/>.
    /// </summary>
    /// <exception cref="ReplayLogMissingException">A log was expected and there is none.</exception>
    /// <exception cref="ReplayLogForeignException">The directory holds another volume's log.</exception>
    /// <exception cref="ReplayLogFormatException">Not a replay log, a damaged identity file, or a newer format.</exception>
    /// <exception cref="ReplayLogInUseException">Another process has the log open.</exception>
    public static VolumeReplayLog Open(string directory, Guid volumeId, ReplayLogOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        options ??= new ReplayLogOptions();
        options.Validate();
        directory = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(directory))
        {
            if (options.ExpectExisting || options.ReadOnly)
            {
                throw Missing(directory, volumeId, "the directory does not exist");
            }
            System.IO.Directory.CreateDirectory(directory);
            FileNative.FsyncDirectory(Path.GetDirectoryName(directory)!);
        }
        int lockFd = LogNative.TryLockDirectory(directory);
        if (lockFd < 0)
        {
            throw new ReplayLogInUseException($"replay log {directory} is in use by another process (or another mount of volume {volumeId} in this one)");
        }
        LogInstance? instance = null;
        try
        {
            bool created = false;
            LogIdentity? identity = LogIdentity.TryRead(directory);
            if (identity is null)
            {
                if (options.ExpectExisting || options.ReadOnly)
                {
                    throw Missing(directory, volumeId, $"it has no '{LogIdentity.FileName}' file");
                }
                identity = Create(directory, volumeId, options);
                created = true;
            }
            else if (identity.VolumeId != volumeId)
            {
                throw new ReplayLogForeignException(
                    $"replay log {directory} belongs to volume {identity.VolumeId}, not {volumeId}: it is not replayed into this volume. " +
                    "Give this volume its own log directory.");
            }
            instance = LogInstance.Open(directory, identity, options, incarnation: 1);
            var runs = new EpochRuns();
            ScanOutcome outcome = instance.Scanner(directory).Run(r => runs.Add(r.Epoch, r.Address));
            ReplayTornTail? torn = outcome.TornTail;
            if (torn is not null && !options.ReadOnly)
            {
                LogInstance damaged = instance;
                instance = null;
                instance = CutOff(damaged, identity, options, torn);
                torn = torn with { Repaired = true };
            }
            var opened = new ReplayLogOpened(created, outcome.Records, outcome.LastSequence, torn);
            if (torn is not null)
            {
                options.Logger?.LogWarning("Replay log {Directory}: {TornTail}", directory, torn);
            }
            return new VolumeReplayLog(directory, volumeId, identity, options, lockFd, instance, runs, opened);
        }
        catch
        {
            instance?.Dispose();
            LogNative.UnlockDirectory(lockFd);
            throw;
        }
    }

    private static ReplayLogMissingException Missing(string directory, Guid volumeId, string what) =>
        new($"the replay log of volume {volumeId} is missing: {directory}: {what}. The volume was not unmounted cleanly, so the " +
            "changes made after its last checkpoint cannot be replayed; restore the directory, or mount without it to accept losing them.");

    private static LogIdentity Create(string directory, Guid volumeId, ReplayLogOptions options)
    {
        // Only an interrupted creation (the identity file is written last) leaves these; anything else is not ours.
        foreach (string entry in System.IO.Directory.EnumerateFileSystemEntries(directory))
        {
            string name = Path.GetFileName(entry);
            bool ours = name == CommitFile.FileName || name.StartsWith(LogInstance.SegmentBaseName + ".", StringComparison.Ordinal)
                || (name.StartsWith(LogIdentity.FileName + ".", StringComparison.Ordinal) && name.EndsWith(".tmp", StringComparison.Ordinal));
            if (!ours || System.IO.Directory.Exists(entry))
            {
                throw new ReplayLogFormatException(
                    $"{directory} is not empty and has no '{LogIdentity.FileName}' file: it is not a replay log, and proxyfs will not write into it");
            }
            File.Delete(entry);
        }
        CommitFile.Open(directory, create: true, readOnly: false).Dispose();
        var identity = new LogIdentity(volumeId, options.PageSizeBits, options.SegmentSizeBits,
            (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100);
        identity.Write(directory);
        return identity;
    }

    /// <summary>Rewrites the commit so that the log ends at the torn tail, and reopens FasterLog there (disposes <paramref name="instance"/>).</summary>
    private static LogInstance CutOff(LogInstance instance, LogIdentity identity, ReplayLogOptions options, ReplayTornTail torn)
    {
        string directory = instance.Directory;
        try
        {
            instance.CommitFile.RewriteUntil(torn.Address);
        }
        finally
        {
            instance.Dispose();
        }
        LogInstance reopened = LogInstance.Open(directory, identity, options, instance.Incarnation + 1);
        if (reopened.Log.TailAddress != torn.Address || reopened.Log.CommittedUntilAddress != torn.Address)
        {
            long tail = reopened.Log.TailAddress;
            reopened.Dispose();
            throw new ReplayLogException($"replay log {directory}: cut back to address {torn.Address} after a torn tail, but FasterLog recovered to {tail}");
        }
        return reopened;
    }
}
