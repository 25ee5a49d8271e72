using System.Text;
using ProxyFs.Testing.Posix;
using ProxyFs.Testing.Scenarios;

namespace ProxyFs.Testing.Differential;

/// <summary>Where two targets first disagreed while running a sequence.</summary>
public sealed record Divergence(int Step, string What, string Reference, string Subject);

/// <summary>A failing sequence: the seed, where it diverged, and the shortest failing sequence found.</summary>
public sealed record DifferentialFailure(int Seed, Divergence Original, IReadOnlyList<DiffOp> Shrunk, Divergence ShrunkDivergence)
{
    /// <summary>A report to print: the seed and the shrunk sequence, one operation per line (see <see cref="DiffOp.Parse"/>).</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"seed {Seed}: diverged at step {Original.Step} ({Original.What}); shrunk to {Shrunk.Count} operations:");
        foreach (DiffOp op in Shrunk)
        {
            sb.AppendLine("  " + op);
        }
        sb.AppendLine($"shrunk sequence diverges at step {ShrunkDivergence.Step} ({ShrunkDivergence.What}):");
        sb.AppendLine("  reference: " + ShrunkDivergence.Reference.Replace("\n", "\n             ", StringComparison.Ordinal));
        sb.AppendLine("  subject:   " + ShrunkDivergence.Subject.Replace("\n", "\n             ", StringComparison.Ordinal));
        return sb.ToString();
    }
}

/// <summary>
/// The randomized differential test: a seeded sequence of operations (<see cref="OperationGenerator"/>) applied to
/// a reference and a subject target step by step, comparing each step's outcome and a snapshot of the tree after it
/// (file contents every <see cref="DataEvery"/> steps and at the end). At the first divergence the sequence is
/// shrunk (delta debugging: drop chunks while it still diverges) and reported with its seed. Each run of a
/// sequence happens in a fresh directory of each target, removed afterwards.
/// </summary>
public sealed class DifferentialTester(IPosixTarget reference, IPosixTarget subject)
{
    private static int _counter;
    private bool? _compareTimes;

    /// <summary>File contents are compared every this many steps (metadata after every step).</summary>
    public int DataEvery { get; init; } = 10;

    /// <summary>Upper bound on sequence executions spent shrinking one failure.</summary>
    public int ShrinkBudget { get; init; } = 400;

    /// <summary>Weight of remounts among the generated operations (0: none; the other weights sum to about 130).</summary>
    public int RemountWeight { get; init; }

    /// <summary>Generates the sequence of <paramref name="seed"/> and runs it; null when the targets agree.</summary>
    public DifferentialFailure? Run(int seed, int steps)
    {
        List<DiffOp> ops = OperationGenerator.Generate(seed, steps, RemountWeight);
        Divergence? divergence = Execute(ops);
        if (divergence is null)
        {
            return null;
        }
        (List<DiffOp> shrunk, Divergence shrunkDivergence) = Shrink(ops[..(divergence.Step + 1)], divergence);
        return new DifferentialFailure(seed, divergence, shrunk, shrunkDivergence);
    }

    /// <summary>Runs a given sequence on fresh directories of both targets; the first divergence or null.</summary>
    public Divergence? Execute(IReadOnlyList<DiffOp> ops)
    {
        Divergence? result = null;
        PosixThread.Run(() => result = ExecuteHere(ops));
        return result;
    }

    private Divergence? ExecuteHere(IReadOnlyList<DiffOp> ops)
    {
        string dir = $"differential.{Interlocked.Increment(ref _counter)}";
        Prepare(reference, dir);
        Prepare(subject, dir);
        _compareTimes ??= StampsEveryChange(reference, dir);
        var left = new OperationRunner(reference, dir, _compareTimes.Value);
        var right = new OperationRunner(subject, dir, _compareTimes.Value);
        try
        {
            for (int step = 0; step < ops.Count; step++)
            {
                string a = left.Apply(ops[step]);
                string b = right.Apply(ops[step]);
                if (a != b)
                {
                    return new Divergence(step, $"result of {ops[step]}", a, b);
                }
                bool data = step % DataEvery == DataEvery - 1 || step == ops.Count - 1;
                a = left.Snapshot(data);
                b = right.Snapshot(data);
                if (a != b)
                {
                    return new Divergence(step, $"tree after {ops[step]}", a, b);
                }
            }
            return null;
        }
        finally
        {
            left.CloseAll();
            right.CloseAll();
            reference.User = PosixUser.Root;
            subject.User = PosixUser.Root;
            TreeRemover.Remove(reference, dir);
            TreeRemover.Remove(subject, dir);
        }
    }

    /// <summary>
    /// Whether the reference gives a new mtime to a change made right after the file's times were looked at
    /// (Linux 6.13+ multigrain timestamps on tmpfs). Without that, equal behaviour can show equal or different
    /// times depending on clock ticks, so snapshots then leave time facts out.
    /// </summary>
    private static bool StampsEveryChange(IPosixTarget target, string dir)
    {
        string probe = dir + "/.clock-probe";
        if (target.Open(probe, Core.FileSystem.OpenFlags.O_CREAT | Core.FileSystem.OpenFlags.O_RDWR, 0x1A4, out int fd) != 0)
        {
            return false;
        }
        bool fine = true;
        for (int i = 0; i < 50 && fine; i++)
        {
            target.FStat(fd, out PosixStat before);
            target.PWrite(fd, [(byte)i], 0, out _);
            target.FStat(fd, out PosixStat after);
            fine = after.Mtime > before.Mtime;
        }
        target.Close(fd);
        target.Unlink(probe);
        return fine;
    }

    private static void Prepare(IPosixTarget target, string dir)
    {
        target.User = PosixUser.Root;
        target.Umask = 0;
        int error = target.Mkdir(dir, 0x1FF);
        if (error == 0)
        {
            error = target.Chmod(dir, 0x1FF);
        }
        if (error != 0)
        {
            throw new InvalidOperationException($"cannot make {dir} on {target.Name}: {Core.FileSystem.Errno.Name(error)}");
        }
    }

    /// <summary>
    /// ddmin over operations: removes ever smaller chunks while the sequence still diverges (in any way), then
    /// returns the smallest sequence found and its divergence.
    /// </summary>
    public (List<DiffOp> Ops, Divergence Divergence) Shrink(List<DiffOp> ops, Divergence divergence)
    {
        int budget = ShrinkBudget;
        int chunk = Math.Max(1, ops.Count / 2);
        while (chunk >= 1 && budget > 0)
        {
            bool removed = false;
            for (int start = 0; start < ops.Count && budget > 0;)
            {
                List<DiffOp> candidate = [.. ops[..start], .. ops[Math.Min(ops.Count, start + chunk)..]];
                budget--;
                Divergence? d = candidate.Count == 0 ? null : Execute(candidate);
                if (d is not null)
                {
                    ops = candidate[..(d.Step + 1)];
                    divergence = d;
                    removed = true;
                }
                else
                {
                    start += chunk;
                }
            }
            if (!removed)
            {
                chunk /= 2;
            }
        }
        return (ops, divergence);
    }
}
