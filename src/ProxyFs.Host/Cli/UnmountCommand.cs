using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ProxyFs.Host.Daemon;
using ProxyFs.Host.Native;

namespace ProxyFs.Host.Cli;

/// <summary>
/// `proxyfs unmount &lt;mountpoint&gt;`: asks the daemon to flush and unmount, and waits for it to exit. A mount whose
/// daemon is gone (killed, crashed: the mount point answers ENOTCONN) is detached lazily with a warning.
/// </summary>
public static class UnmountCommand
{
    public static Command Create()
    {
        var mountPoint = new Argument<string>("mountpoint") { Description = "Where the volume is mounted" };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the flush and the daemon's exit", DefaultValueFactory = _ => 120 };
        var command = new Command("unmount", "Flush a mounted volume, unmount it and stop its daemon") { mountPoint, timeout };
        command.Aliases.Add("umount");
        command.SetAction(parse => Run(parse.GetValue(mountPoint)!, TimeSpan.FromSeconds(Math.Max(1, parse.GetValue(timeout)))));
        return command;
    }

    public static int Run(string mountPointArg, TimeSpan timeout)
    {
        string mountPoint = RunPaths.NormalizeMountPoint(mountPointArg);
        string socket = RunPaths.ControlSocket(mountPoint);
        if (ControlClient.TryRequest(socket, "unmount", timeout, out string reply))
        {
            if (!reply.StartsWith("ok", StringComparison.Ordinal))
            {
                string reason = reply.StartsWith("error ", StringComparison.Ordinal) ? reply[6..] : reply;
                Console.Error.WriteLine($"proxyfs: cannot unmount {mountPoint}: {reason}");
                return ExitCodes.Failure;
            }
            if (int.TryParse(reply.AsSpan(2).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && !WaitForExit(pid, timeout))
            {
                Console.Error.WriteLine($"proxyfs: {mountPoint} is unmounted but its daemon (pid {pid}) has not exited after {timeout.TotalSeconds:0} s");
                return ExitCodes.Failure;
            }
            Console.WriteLine($"proxyfs: unmounted {mountPoint}");
            return ExitCodes.Ok;
        }

        MountEntry? entry = MountTable.Find(mountPoint);
        if (entry is null)
        {
            Console.Error.WriteLine($"proxyfs: {mountPoint} is not mounted");
            return ExitCodes.Failure;
        }
        if (!MountTable.IsFuse(entry))
        {
            Console.Error.WriteLine($"proxyfs: {mountPoint} is not a proxyfs mount (it is {entry.FsType} from {entry.Source})");
            return ExitCodes.Failure;
        }
        // No daemon answers: it was killed or crashed. Nothing can be flushed; detach the dead mount.
        Console.Error.WriteLine($"proxyfs: warning: no proxyfs daemon answers for {mountPoint}; detaching the mount without a flush");
        if (!DetachLazily(mountPoint, out string error))
        {
            Console.Error.WriteLine($"proxyfs: cannot detach {mountPoint}: {error}");
            return ExitCodes.Failure;
        }
        Console.WriteLine($"proxyfs: detached {mountPoint}");
        return ExitCodes.Ok;
    }

    private static bool DetachLazily(string mountPoint, out string error)
    {
        error = "";
        if (RunPaths.IsRoot)
        {
            if (Libc.umount2(mountPoint, Libc.MNT_DETACH) == 0)
            {
                return true;
            }
            error = Libc.StrError(System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
            return false;
        }
        var psi = new ProcessStartInfo("fusermount3") { UseShellExecute = false, RedirectStandardError = true };
        psi.ArgumentList.Add("-uz");
        psi.ArgumentList.Add(mountPoint);
        using Process p = Process.Start(psi)!;
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        error = stderr.Trim();
        return p.ExitCode == 0;
    }

    private static bool WaitForExit(int pid, TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (IsRunning(pid))
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            Thread.Sleep(20);
        }
        return true;
    }

    /// <summary>
    /// True while the process exists and is not a zombie: a detached daemon's parent is gone, so once it exits it
    /// waits as a zombie until init reaps it, and that can take a while.
    /// </summary>
    private static bool IsRunning(int pid)
    {
        try
        {
            string stat = File.ReadAllText("/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/stat");
            // pid (comm) state …: the state follows the last ')' (comm may contain spaces and parentheses).
            int close = stat.LastIndexOf(')');
            return close < 0 || close + 2 >= stat.Length || (stat[close + 2] != 'Z' && stat[close + 2] != 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }
}
