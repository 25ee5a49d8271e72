namespace ProxyFs.Core.ReplayLog;

/// <summary>Base of every failure the replay log reports; the message names the log directory.</summary>
public class ReplayLogException : Exception
{
    public ReplayLogException()
    {
    }

    public ReplayLogException(string message)
        : base(message)
    {
    }

    public ReplayLogException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The caller expected a log (the volume was not unmounted cleanly) but the directory, or its identity file, is
/// missing: the changes made after the last checkpoint cannot be replayed. Distinct from opening a fresh log.
/// </summary>
public sealed class ReplayLogMissingException : ReplayLogException
{
    public ReplayLogMissingException()
    {
    }

    public ReplayLogMissingException(string message)
        : base(message)
    {
    }

    public ReplayLogMissingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The directory holds the replay log of another volume: it is never replayed into this one.</summary>
public sealed class ReplayLogForeignException : ReplayLogException
{
    public ReplayLogForeignException()
    {
    }

    public ReplayLogForeignException(string message)
        : base(message)
    {
    }

    public ReplayLogForeignException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The directory is not a replay log, its identity file is damaged, or it was written by a newer format.</summary>
public sealed class ReplayLogFormatException : ReplayLogException
{
    public ReplayLogFormatException()
    {
    }

    public ReplayLogFormatException(string message)
        : base(message)
    {
    }

    public ReplayLogFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// A damaged record with intact records after it: that is not a torn tail (a crash only tears the end) but
/// corruption, and replaying around it would apply later changes without an earlier one.
/// </summary>
public sealed class ReplayLogCorruptException : ReplayLogException
{
    public ReplayLogCorruptException()
    {
    }

    public ReplayLogCorruptException(string message)
        : base(message)
    {
    }

    public ReplayLogCorruptException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Another process (or another instance in this one) has the log open.</summary>
public sealed class ReplayLogInUseException : ReplayLogException
{
    public ReplayLogInUseException()
    {
    }

    public ReplayLogInUseException(string message)
        : base(message)
    {
    }

    public ReplayLogInUseException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Writing the log failed (a full disk, an I/O error). The log is then <see cref="VolumeReplayLog.Faulted"/>: records
/// appended but not yet committed are lost and will never be replayed, and appends and commits fail until
/// <see cref="VolumeReplayLog.Trim"/> restarts it past every epoch appended so far (see docs/FORMAT.md "Replay log").
/// </summary>
public sealed class ReplayLogWriteException : ReplayLogException
{
    public ReplayLogWriteException()
    {
    }

    public ReplayLogWriteException(string message)
        : base(message)
    {
    }

    public ReplayLogWriteException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ReplayLogWriteException(string message, bool isDiskFull, Exception? innerException)
        : base(message, innerException)
    {
        IsDiskFull = isDiskFull;
    }

    /// <summary>The failure is a full file system (ENOSPC): the log works again once space is freed.</summary>
    public bool IsDiskFull { get; }
}
