using System.Diagnostics;

namespace ProxyFs.Integration.Tests.Support;

/// <summary>Finds the proxyfs executable the tests run: the published bin/proxyfs, or the build output beside the tests.</summary>
public static class ProxyFsBinary
{
    private static readonly Lazy<(string File, string[] Prefix)> Located = new(Locate);

    /// <summary>The checkout the tests come from (where proxyfs.sln is), found from the current directory.</summary>
    public static string RepositoryRoot => FindRoot();

    private static string FindRoot()
    {
        string? dir = Directory.GetCurrentDirectory();
        while (dir is not null && !File.Exists(Path.Combine(dir, "proxyfs.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }
        return dir ?? throw new InvalidOperationException("cannot find the repository root (proxyfs.sln) above " + Directory.GetCurrentDirectory());
    }

    private static (string, string[]) Locate()
    {
        if (Environment.GetEnvironmentVariable("PROXYFS_BINARY") is { Length: > 0 } explicitPath)
        {
            return (explicitPath, []);
        }
        string beside = Path.Combine(AppContext.BaseDirectory, "proxyfs.dll");
        if (File.Exists(beside))
        {
            // The build output of the referenced host project: always current with the code under test.
            return ("dotnet", [beside]);
        }
        return (Path.Combine(RepositoryRoot, "bin", "proxyfs"), []);
    }

    public static ProcessStartInfo StartInfo(params string[] args)
    {
        (string file, string[] prefix) = Located.Value;
        var psi = new ProcessStartInfo(file)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string a in prefix)
        {
            psi.ArgumentList.Add(a);
        }
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        return psi;
    }

    /// <summary>Runs proxyfs to completion (killed after <paramref name="timeout"/>) and returns exit code and output.</summary>
    public static CommandResult Run(TimeSpan timeout, params string[] args) => Run(timeout, null, args);

    /// <summary>As <see cref="Run(TimeSpan, string[])"/>, with more environment variables (an S3 server's credentials).</summary>
    public static CommandResult Run(TimeSpan timeout, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        ProcessStartInfo psi = StartInfo(args);
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[name] = value;
        }
        return Execute(psi, timeout);
    }

    /// <summary>
    /// The proxyfs executable itself, to start by another name (a mount helper link): PROXYFS_BINARY, else the
    /// apphost beside the build output's proxyfs.dll, else bin/proxyfs.
    /// </summary>
    public static string Executable
    {
        get
        {
            (string file, string[] prefix) = Located.Value;
            return prefix.Length == 0 ? file : Path.Combine(Path.GetDirectoryName(prefix[0])!, "proxyfs");
        }
    }

    /// <summary>Runs <paramref name="file"/> (proxyfs under another name) to completion, killed after <paramref name="timeout"/>.</summary>
    public static CommandResult RunFile(string file, TimeSpan timeout, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        return Execute(psi, timeout);
    }

    private static CommandResult Execute(ProcessStartInfo psi, TimeSpan timeout)
    {
        // A detached daemon would inherit the redirected pipes and keep them open; it redirects its own stdio,
        // but reading to the end must still not wait for it: read until the command itself exits.
        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{psi.FileName} {string.Join(' ', psi.ArgumentList)} did not finish within {timeout}");
        }
        Task.WaitAll([stdout, stderr], TimeSpan.FromSeconds(10));
        return new CommandResult(p.ExitCode, stdout.IsCompleted ? stdout.Result : "", stderr.IsCompleted ? stderr.Result : "");
    }

    /// <summary>`proxyfs status MOUNTPOINT --json`, which must succeed within a minute.</summary>
    public static ProxyFs.Host.Metrics.StatusSnapshot Status(string mountPoint)
    {
        CommandResult r = Run(TimeSpan.FromSeconds(60), "status", mountPoint, "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        return ProxyFs.Host.Metrics.StatusSnapshot.FromJson(r.Stdout);
    }
}

public sealed record CommandResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}; stdout: {Stdout.Trim()}; stderr: {Stderr.Trim()}";
}
