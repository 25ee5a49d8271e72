using System.Text;
using ProxyFs.Testing.Posix;

namespace ProxyFs.Testing.Scenarios;

/// <summary>
/// Runs scenarios of <see cref="PosixScenarios"/> against targets. Each run happens in a fresh directory (mode
/// 0777, made by root) under the target's root, removed afterwards, on a <see cref="PosixThread"/> so that
/// <see cref="LibcTarget"/> can act as other users.
/// </summary>
public static class ScenarioRunner
{
    private static int _counter;

    /// <summary>Runs one scenario and returns its transcript.</summary>
    public static IReadOnlyList<string> Run(IPosixTarget target, Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(scenario);
        IReadOnlyList<string> lines = [];
        PosixThread.Run(() => lines = RunHere(target, scenario));
        return lines;
    }

    public static IReadOnlyList<string> Run(IPosixTarget target, string scenarioName) => Run(target, PosixScenarios.Get(scenarioName));

    /// <summary>
    /// Runs a scenario on both targets and throws <see cref="ScenarioMismatchException"/> unless the transcripts
    /// are identical.
    /// </summary>
    public static void Compare(IPosixTarget reference, IPosixTarget subject, string scenarioName)
    {
        Scenario scenario = PosixScenarios.Get(scenarioName);
        IReadOnlyList<string> expected = Run(reference, scenario);
        IReadOnlyList<string> actual = Run(subject, scenario);
        string? difference = Diff(reference.Name, expected, subject.Name, actual);
        if (difference is not null)
        {
            throw new ScenarioMismatchException($"scenario {scenarioName}: {difference}");
        }
    }

    /// <summary>Null when equal; otherwise the first differing line and both transcripts.</summary>
    public static string? Diff(string referenceName, IReadOnlyList<string> expected, string subjectName, IReadOnlyList<string> actual)
    {
        int n = Math.Max(expected.Count, actual.Count);
        for (int i = 0; i < n; i++)
        {
            string? e = i < expected.Count ? expected[i] : null;
            string? a = i < actual.Count ? actual[i] : null;
            if (e != a)
            {
                var sb = new StringBuilder();
                sb.AppendLine($"transcripts differ at line {i + 1}");
                sb.AppendLine($"  {referenceName,-8}: {e ?? "<end>"}");
                sb.AppendLine($"  {subjectName,-8}: {a ?? "<end>"}");
                sb.AppendLine($"--- {referenceName}");
                foreach (string line in expected)
                {
                    sb.AppendLine("  " + line);
                }
                sb.AppendLine($"--- {subjectName}");
                foreach (string line in actual)
                {
                    sb.AppendLine("  " + line);
                }
                return sb.ToString();
            }
        }
        return null;
    }

    private static IReadOnlyList<string> RunHere(IPosixTarget target, Scenario scenario)
    {
        target.User = PosixUser.Root;
        target.Umask = 0;
        string dir = $"{scenario.Name}.{Interlocked.Increment(ref _counter)}";
        Check(target.Mkdir(dir, 0x1FF), "mkdir", dir);
        Check(target.Chmod(dir, 0x1FF), "chmod", dir);
        var context = new ScenarioContext(target, dir);
        try
        {
            scenario.Body(context);
        }
        finally
        {
            context.CloseLeftovers();
            target.User = PosixUser.Root;
            target.Umask = 0;
            TreeRemover.Remove(target, dir);
        }
        return context.Lines;
    }

    private static void Check(int errno, string call, string path)
    {
        if (errno != 0)
        {
            throw new InvalidOperationException($"{call} {path} failed: {ProxyFs.Core.FileSystem.Errno.Name(errno)}");
        }
    }
}

/// <summary>Two targets answered a scenario differently.</summary>
public sealed class ScenarioMismatchException(string message) : Exception(message);

/// <summary>rm -rf through an <see cref="IPosixTarget"/>, as root.</summary>
public static class TreeRemover
{
    public static void Remove(IPosixTarget target, string path)
    {
        if (target.LStat(path, out PosixStat st) != 0)
        {
            return;
        }
        if (!st.IsDirectory)
        {
            target.Unlink(path);
            return;
        }
        var names = new List<string>();
        if (target.OpenDir(path, out int dir) == 0)
        {
            while (target.ReadDir(dir, out PosixDirEntry? entry) == 0 && entry is { } e)
            {
                if (e.Name is not ("." or ".."))
                {
                    names.Add(e.Name);
                }
            }
            target.CloseDir(dir);
        }
        foreach (string name in names)
        {
            Remove(target, path + "/" + name);
        }
        int error = target.Rmdir(path);
        if (error != 0)
        {
            throw new InvalidOperationException($"cleaning up {path} on {target.Name}: rmdir gave {ProxyFs.Core.FileSystem.Errno.Name(error)}");
        }
    }
}
