using FASTER.core;

namespace ProxyFs.Core.ReplayLog;

/// <summary>
/// One FasterLog opened on a log directory: its device (segment files <c>log.N</c>), its commit file and the group
/// commit over it. A <see cref="VolumeReplayLog"/> replaces its instance to cut off a torn tail or to restart after a
/// failed write: FasterLog stays failed after a device error until it is reopened.
/// </summary>
internal sealed class LogInstance : IDisposable
{
    public const string SegmentBaseName = "log";

    private readonly IDevice _device;
    private readonly string _directory;
    private readonly int _pageSizeBits;

    private LogInstance(string directory, int incarnation, int pageSizeBits, IDevice device, CommitFile commitFile, FasterLog log)
    {
        _directory = directory;
        Incarnation = incarnation;
        _pageSizeBits = pageSizeBits;
        _device = device;
        CommitFile = commitFile;
        Log = log;
        Committer = new GroupCommit(FlushAsync, () => Log.TailAddress, log.CommittedUntilAddress);
    }

    public int Incarnation { get; }

    public string Directory => _directory;

    public FasterLog Log { get; }

    public CommitFile CommitFile { get; }

    public GroupCommit Committer { get; }

    /// <summary>Opens FasterLog on <paramref name="directory"/>, recovering it to its newest commit.</summary>
    public static LogInstance Open(string directory, LogIdentity identity, ReplayLogOptions options, int incarnation)
    {
        CommitFile commitFile = CommitFile.Open(directory, create: false, options.ReadOnly);
        if (options.ExpectExisting && commitFile.Newest is null && commitFile.DamagedSlots == 2)
        {
            // FasterLog would open it empty: the changes committed since the last checkpoint would be gone in silence.
            commitFile.Dispose();
            throw new ReplayLogCorruptException(
                $"{Path.Combine(directory, CommitFile.FileName)}: both commit records are damaged, so the replay log's committed changes cannot be found " +
                "(a torn write damages one at most); the volume was not unmounted cleanly and needs them");
        }
        IDevice? device = null;
        try
        {
            device = Devices.CreateLogDevice(Path.Combine(directory, SegmentBaseName), preallocateFile: false, deleteOnClose: false,
                recoverDevice: true);
            var settings = new FasterLogSettings
            {
                LogDevice = device,
                LogCommitManager = commitFile,
                PageSizeBits = identity.PageSizeBits,
                SegmentSizeBits = identity.SegmentSizeBits,
                MemorySizeBits = Math.Max(options.MemorySizeBits, identity.PageSizeBits + 1),
                TryRecoverLatest = true,
                AutoCommit = false,
                AutoRefreshSafeTailAddress = false,
                RemoveOutdatedCommits = false,
                LogChecksum = LogChecksumType.None,
            };
            var log = new FasterLog(settings, FasterLogger.For(options.Logger, commitFile));
            return new LogInstance(directory, incarnation, identity.PageSizeBits, device, commitFile, log);
        }
        catch
        {
            device?.Dispose();
            commitFile.Dispose();
            throw;
        }
    }

    public LogScanner Scanner(string where) => new(Log, _pageSizeBits, where);

    /// <summary>The address just past a record enqueued at <paramref name="address"/> with an entry of <paramref name="length"/> bytes.</summary>
    public long EndOf(long address, int length) => address + Log.HeaderSize + ((length + 3) & ~3L);

    public void Dispose()
    {
        Log.Dispose();
        _device.Dispose();
        CommitFile.Dispose();
    }

    private async Task<long> FlushAsync()
    {
        try
        {
            await Log.CommitAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Whatever failed (FasterLog's CommitFailureException, the commit file's IOException, ...), the log is now
            // faulted: the failure is reported to every waiter as a ReplayLogWriteException that keeps it as its cause.
            throw WriteFailure(e);
        }
        return Log.CommittedUntilAddress;
    }

    private ReplayLogWriteException WriteFailure(Exception e)
    {
        long available = LogNative.AvailableBytes(_directory);
        bool full = LogNative.IsDiskFull(e) || (available >= 0 && available < 2L << _pageSizeBits);
        string why = full ? $"the file system is full ({available} bytes free, ENOSPC)" : e.Message;
        return new ReplayLogWriteException(
            $"replay log {_directory}: writing failed: {why}. Records not yet committed are lost; the log accepts records again after a " +
            "checkpoint past every epoch appended so far and a trim to it.", full, e);
    }
}
