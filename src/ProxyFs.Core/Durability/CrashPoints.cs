using System.Diagnostics;

namespace ProxyFs.Core.Durability;

/// <summary>
/// Named places where a test can make the process die at once, as kill -9 would: nothing is flushed, no finally
/// block runs. Armed by the environment variable <c>PROXYFS_CRASH_POINT=&lt;name&gt;[:&lt;n&gt;]</c> (the n-th hit of
/// that point kills; default the first), read once when the process starts. Disarmed, a hit costs one static read.
/// </summary>
/// <remarks>The list of names is <see cref="All"/>; docs/SEMANTICS.md says what each one interrupts.</remarks>
public static class CrashPoints
{
    /// <summary>The environment variable that arms a crash point.</summary>
    public const string EnvironmentVariable = "PROXYFS_CRASH_POINT";

    // The replay log.
    public const string JournalAfterAppend = "journal.after-append";
    public const string JournalAfterCommit = "journal.after-commit";

    // fsync: segments stored, log not yet committed.
    public const string FsyncAfterSegments = "fsync.after-segments";

    // A checkpoint, in the order of its steps.
    public const string CheckpointAfterFreeze = "checkpoint.after-freeze";
    public const string CheckpointAfterDataFlush = "checkpoint.after-data-flush";
    public const string CheckpointBeforeRootSwing = "checkpoint.before-root-swing";
    public const string CheckpointAfterRootSwing = "checkpoint.after-root-swing";
    public const string CheckpointAfterTrim = "checkpoint.after-trim";

    // Data segments.
    public const string SegmentBeforeUpload = "segment.before-upload";
    public const string SegmentAfterUpload = "segment.after-upload";

    // An unmount while the store is down: a spilled segment's file written and fsynced under its temporary name.
    public const string SpillBeforeRename = "spill.before-rename";

    // Each change of a multi-step operation, before its log record (hit once per tree change).
    public const string RenameStep = "rename.step";
    public const string UnlinkStep = "unlink.step";
    public const string RmdirStep = "rmdir.step";
    public const string LinkStep = "link.step";
    public const string TruncateStep = "truncate.step";

    /// <summary>Every crash point, in the order a change meets them.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        RenameStep, UnlinkStep, RmdirStep, LinkStep, TruncateStep,
        JournalAfterAppend, JournalAfterCommit, FsyncAfterSegments,
        SegmentBeforeUpload, SegmentAfterUpload,
        CheckpointAfterFreeze, CheckpointAfterDataFlush, CheckpointBeforeRootSwing, CheckpointAfterRootSwing, CheckpointAfterTrim,
        SpillBeforeRename,
    ];

    private static Arming? _armed = Parse(Environment.GetEnvironmentVariable(EnvironmentVariable), out _);

    /// <summary>The armed point, or null.</summary>
    public static string? ArmedName => Volatile.Read(ref _armed)?.Name;

    /// <summary>Kills the process if <paramref name="name"/> is armed and this is its n-th hit.</summary>
    public static void Hit(string name)
    {
        Arming? armed = Volatile.Read(ref _armed);
        if (armed is not null && armed.Name == name && Interlocked.Increment(ref armed.Hits) == armed.Nth)
        {
            armed.Action(name);
        }
    }

    /// <summary>
    /// Parses <c>name[:n]</c>; null (with the reason in <paramref name="error"/>) for an unknown name or a bad count,
    /// and null without error for an empty value.
    /// </summary>
    public static Arming? Parse(string? value, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        string name = value.Trim();
        long nth = 1;
        int colon = name.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            if (!long.TryParse(name.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out nth) || nth < 1)
            {
                error = $"{EnvironmentVariable}={value}: the hit count after ':' must be a whole number from 1";
                return null;
            }
            name = name[..colon];
        }
        string? known = All.FirstOrDefault(n => n == name);
        if (known is null)
        {
            error = $"{EnvironmentVariable}={value}: no crash point '{name}' (known: {string.Join(", ", All)})";
            return null;
        }
        return new Arming(known, nth, Die);
    }

    /// <summary>Arms <paramref name="arming"/> (null disarms); returns what was armed. For tests in this process.</summary>
    public static Arming? Arm(Arming? arming) => Interlocked.Exchange(ref _armed, arming);

    /// <summary>Why the environment's value was ignored, or null (checked at start-up so a typo is not silent).</summary>
    public static string? EnvironmentError()
    {
        Parse(Environment.GetEnvironmentVariable(EnvironmentVariable), out string? error);
        return error;
    }

    private static void Die(string name)
    {
        Console.Error.WriteLine($"proxyfs: crash point {name} reached: killing the process");
        using Process self = Process.GetCurrentProcess();
        self.Kill(); // SIGKILL on Linux: no flush, no finally, as kill -9
        Thread.Sleep(Timeout.Infinite);
    }

    /// <summary>One armed point: the n-th hit of <paramref name="name"/> runs <paramref name="action"/>.</summary>
    public sealed class Arming(string name, long nth, Action<string> action)
    {
        internal long Hits;

        public string Name { get; } = name;

        public long Nth { get; } = nth;

        public Action<string> Action { get; } = action;

        /// <summary>Hits so far.</summary>
        public long HitCount => Interlocked.Read(ref Hits);

        /// <summary>The same point and count, with another action (tests record instead of dying).</summary>
        public Arming With(Action<string> action) => new(Name, Nth, action);
    }
}
