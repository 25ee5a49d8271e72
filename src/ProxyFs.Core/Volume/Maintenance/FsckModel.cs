namespace ProxyFs.Core.Volume.Maintenance;

/// <summary>How `proxyfs fsck` checks a volume.</summary>
public sealed record FsckOptions
{
    /// <summary>Perform the safe repairs (docs/CLI.md lists them).</summary>
    public bool Repair { get; init; }

    /// <summary>Check a volume whose root pointer says it is mounted (or whose last mount crashed).</summary>
    public bool Force { get; init; }

    /// <summary>Orphan objects younger than this are reported, not deleted (a writer may be about to refer to them).</summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Read every data segment whole and check its block checksums (otherwise only its footer).</summary>
    public bool CheckData { get; init; } = true;

    /// <summary>Receives (phase, done, total) as the check goes.</summary>
    public IProgress<FsckProgress>? Progress { get; init; }
}

public readonly record struct FsckProgress(string Phase, long Done, long Total);

/// <summary>One thing fsck found: an error (repairable or not) or a warning.</summary>
public sealed class FsckProblem(FsckSeverity severity, string message, Action<FsckRepair>? repair = null)
{
    public FsckSeverity Severity { get; } = severity;

    public string Message { get; } = message;

    /// <summary>The safe repair, if there is one.</summary>
    internal Action<FsckRepair>? Repair { get; } = repair;

    public bool Repairable => Repair is not null;

    public bool Repaired { get; internal set; }

    public override string ToString() =>
        (Repaired ? "repaired: " : Severity == FsckSeverity.Warning ? "warning: " : "error: ") + Message;
}

public enum FsckSeverity
{
    Warning,
    Error,
}

/// <summary>What fsck found, and its exit code (fsck(8): 0 clean, 1 errors corrected, 4 errors left, 8 operational error).</summary>
public sealed class FsckReport
{
    public const int Clean = 0;
    public const int Corrected = 1;
    public const int Uncorrected = 4;
    public const int OperationalError = 8;

    public List<FsckProblem> Problems { get; } = [];

    public long Inodes { get; internal set; }
    public long DirectoryEntries { get; internal set; }
    public long Extents { get; internal set; }
    public long TreeRecords { get; internal set; }
    public int DataSegments { get; internal set; }
    public int MetadataSegments { get; internal set; }
    public int Generations { get; internal set; }

    /// <summary>False when some record of a kept generation could not be read: nothing was repaired.</summary>
    public bool TreeReadable { get; internal set; } = true;

    public IEnumerable<FsckProblem> Errors => Problems.Where(p => p.Severity == FsckSeverity.Error);

    public int ExitCode =>
        Errors.Any(p => !p.Repaired) ? Uncorrected
        : Errors.Any() ? Corrected
        : Clean;
}

/// <summary>A volume that looks mounted (its root pointer lacks the clean-unmount mark): fsck needs --force.</summary>
public sealed class VolumeInUseException(string message) : InvalidOperationException(message);
