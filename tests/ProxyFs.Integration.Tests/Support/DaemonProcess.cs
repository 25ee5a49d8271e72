using System.Diagnostics;
using System.Text;
using ProxyFs.Host.Lifecycle;

namespace ProxyFs.Integration.Tests.Support;

/// <summary>
/// A proxyfs daemon serving in the foreground as a child of the test: started with NOTIFY_SOCKET pointing at the
/// test, so readiness is known without polling. Dispose stops it (SIGTERM, then SIGKILL by its PID after a
/// timeout) and detaches the mount lazily whatever happened.
/// </summary>
public sealed class DaemonProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TestMountPoint _mountPoint;

    private DaemonProcess(Process process, TestMountPoint mountPoint)
    {
        _process = process;
        _mountPoint = mountPoint;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Pid => _process.Id;

    public string MountPoint => _mountPoint.Path;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    /// <summary>
    /// Starts `proxyfs mount uri mountpoint --foreground` and waits for READY=1. <paramref name="environment"/> adds
    /// variables (an S3 server's credentials).
    /// </summary>
    public static DaemonProcess Start(string uri, TestMountPoint mountPoint, string? options = null, TimeSpan? timeout = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var args = new List<string> { "mount", uri, mountPoint.Path, "--foreground" };
        if (options is not null)
        {
            args.Add("-o");
            args.Add(options);
        }
        return StartWith([.. args], mountPoint, timeout, environment);
    }

    /// <summary>
    /// Starts proxyfs with <paramref name="args"/> (a foreground mount) and <paramref name="environment"/> added to its
    /// variables, and waits for READY=1; Dispose detaches <paramref name="mountPoint"/>.
    /// </summary>
    public static DaemonProcess StartWith(string[] args, TestMountPoint mountPoint, TimeSpan? timeout = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var listener = new NotifyListener();
        ProcessStartInfo psi = ProxyFsBinary.StartInfo(args);
        psi.Environment[SdNotify.SocketVariable] = listener.SocketName;
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[name] = value;
        }
        var daemon = new DaemonProcess(Process.Start(psi)!, mountPoint);
        DateTime deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (DateTime.UtcNow < deadline)
        {
            IReadOnlyDictionary<string, string>? m = listener.Receive(TimeSpan.FromMilliseconds(200));
            if (m?.GetValueOrDefault("READY") == "1")
            {
                return daemon;
            }
            if (m is not null && m.ContainsKey("ERRNO"))
            {
                daemon.Dispose();
                throw new InvalidOperationException($"proxyfs failed to mount: {m.GetValueOrDefault("STATUS")}\n{daemon.Output}");
            }
            if (daemon.HasExited)
            {
                daemon.Dispose();
                throw new InvalidOperationException($"proxyfs exited with {daemon.ExitCode} before it was ready\n{daemon.Output}");
            }
        }
        daemon.Dispose();
        throw new TimeoutException($"proxyfs did not become ready at {mountPoint.Path}\n{daemon.Output}");
    }

    /// <summary>Sends a signal to the daemon by its PID.</summary>
    public void Signal(int signal) => Posix.kill(_process.Id, signal);

    /// <summary>kill -9: the daemon dies with the mount still in place (it then answers ENOTCONN).</summary>
    public void Kill9()
    {
        Signal(Posix.SIGKILL);
        _process.WaitForExit(10_000);
    }

    /// <summary>Waits for the daemon to exit and then for the rest of its output (a timed wait alone does not).</summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            return false;
        }
        _process.WaitForExit(); // the process has exited: this only drains the redirected output
        return true;
    }

    /// <summary>
    /// Waits until the daemon's output contains <paramref name="text"/>: what it logged before READY=1 can still be
    /// in the pipe when <see cref="Start"/> returns.
    /// </summary>
    public bool WaitForOutput(string text, TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            Thread.Sleep(20);
        }
        return true;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                Signal(Posix.SIGTERM);
                if (!_process.WaitForExit(20_000))
                {
                    Signal(Posix.SIGKILL);
                    _process.WaitForExit(10_000);
                }
            }
        }
        finally
        {
            if (_mountPoint.IsMounted)
            {
                Native.LazyUnmount(_mountPoint.Path);
            }
            _process.Dispose();
        }
    }
}

internal static partial class Posix
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;
    public const int SIGINT = 2;

    [System.Runtime.InteropServices.LibraryImport("libc")]
    public static partial int kill(int pid, int sig);

    /// <summary>sync(2): every filesystem's dirty data, and a syncfs of each.</summary>
    [System.Runtime.InteropServices.LibraryImport("libc")]
    public static partial void sync();
}
