using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace ProxyFs.Core.Tests.ReplayLog;

/// <summary>
/// This test assembly run as a program (<see cref="Program"/>) in a child process. Its standard output is read line by
/// line on a task of its own; <see cref="Kill9"/> and <see cref="Dispose"/> kill it with SIGKILL by its PID, and
/// every wait has a timeout.
/// </summary>
internal sealed partial class ChildProcess : IDisposable
{
    private const int SigKill = 9;
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(15);

    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly StringBuilder _errors = new();
    private readonly Task _readOutput;
    private readonly Task _readErrors;

    private ChildProcess(Process process)
    {
        _process = process;
        Pid = process.Id;
        _readOutput = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                lock (_lines)
                {
                    _lines.Add(line);
                    Monitor.PulseAll(_lines);
                }
            }
        });
        _readErrors = Task.Run(async () =>
        {
            string rest = await process.StandardError.ReadToEndAsync();
            lock (_errors)
            {
                _errors.Append(rest);
            }
        });
    }

    public int Pid { get; }

    /// <summary>The lines printed so far (all of them once <see cref="Kill9"/> has returned).</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>Starts <c>dotnet ProxyFs.Core.Tests.dll ARGS...</c>.</summary>
    public static ChildProcess Start(params string[] args)
    {
        // The test host sets DOTNET_HOST_PATH to the dotnet that runs it.
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h ? h : "dotnet";
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(typeof(Program).Assembly.Location);
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }
        return new ChildProcess(Process.Start(start) ?? throw new InvalidOperationException($"could not start {host}"));
    }

    /// <summary>Waits until a printed line matches (checking from line <paramref name="from"/> on) and returns its index.</summary>
    /// <exception cref="TimeoutException">No such line within <paramref name="timeout"/>, or the child exited first.</exception>
    public int WaitForLine(Func<string, bool> match, TimeSpan timeout, int from = 0)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        lock (_lines)
        {
            while (true)
            {
                for (int i = from; i < _lines.Count; i++)
                {
                    if (match(_lines[i]))
                    {
                        return i;
                    }
                }
                from = _lines.Count;
                TimeSpan left = deadline - DateTime.UtcNow;
                if (_readOutput.IsCompleted || left <= TimeSpan.Zero)
                {
                    throw new TimeoutException(
                        $"child {Pid} {(_readOutput.IsCompleted ? "ended its output" : $"printed nothing expected within {timeout}")} " +
                        $"after {_lines.Count} lines; stderr:\n{Errors}");
                }
                Monitor.Wait(_lines, left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
            }
        }
    }

    public string Errors
    {
        get
        {
            lock (_errors)
            {
                return _errors.ToString();
            }
        }
    }

    /// <summary>kill -9 by PID, then waits for the process to exit and for every line it printed to be read.</summary>
    public void Kill9()
    {
        if (Kill(Pid, SigKill) != 0 && !_process.HasExited)
        {
            throw new InvalidOperationException($"kill({Pid}, SIGKILL) failed: errno {Marshal.GetLastPInvokeError()}");
        }
        if (!_process.WaitForExit(ExitTimeout) || !Task.WaitAll([_readOutput, _readErrors], ExitTimeout))
        {
            throw new TimeoutException($"child {Pid} did not exit within {ExitTimeout} of SIGKILL");
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                Kill(Pid, SigKill);
                _process.WaitForExit(ExitTimeout);
            }
        }
        finally
        {
            _process.Dispose();
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
