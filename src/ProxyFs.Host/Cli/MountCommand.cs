using System.CommandLine;
using System.Diagnostics;
using System.Reflection;
using Microsoft.Extensions.Logging;
using ProxyFs.Core.FileSystem;
using ProxyFs.Host.Config;
using ProxyFs.Host.Daemon;
using ProxyFs.Host.Lifecycle;
using ProxyFs.Host.Native;

namespace ProxyFs.Host.Cli;

/// <summary>
/// `proxyfs mount &lt;uri&gt; &lt;mountpoint&gt; [-o options] [--foreground]`: returns once the mount answers, with the
/// daemon detached in the background (or serves in the foreground with --foreground, as a systemd unit does);
/// fails with a one-line reason otherwise.
/// </summary>
public static class MountCommand
{
    /// <summary>Set by `proxyfs mount` for the daemon it starts: detach at once, log to this file.</summary>
    internal const string DetachedLogVariable = "PROXYFS_DETACHED_LOG";

    public static Command Create()
    {
        var source = new Argument<string?>("source")
        {
            Description = "The volume: a URI (memory://, file:///path, s3://bucket/prefix) or the name of a configured volume",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var mountPoint = new Argument<string?>("mountpoint")
        {
            Description = "An existing directory to mount on (default: the volume's mount_point)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var options = new Option<string[]>("--options", "-o")
        {
            Description = "Comma-separated mount options (proxyfs.yaml(5), docs/CONFIGURATION.md), e.g. -o allow_other,ro",
            AllowMultipleArgumentsPerToken = false,
        };
        var config = new Option<string?>("--config", "-c")
        {
            Description = "The configuration file [default: $PROXYFS_CONFIG, else " + ProxyFsConfig.DefaultPath + " when it exists]",
        };
        var volume = new Option<string?>("--volume") { Description = "Mount the volume of this name from the configuration file" };
        var foreground = new Option<bool>("--foreground", "-f") { Description = "Serve in the foreground until unmounted (for systemd and debugging)" };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the mount to answer", DefaultValueFactory = _ => 60 };
        var command = new Command("mount", "Mount a volume and serve it (returns once the mount answers; the daemon runs detached)")
        {
            source, mountPoint, options, config, volume, foreground, timeout,
        };
        command.SetAction(parse =>
        {
            var invocation = new MountInvocation(parse.GetValue(source), parse.GetValue(mountPoint), parse.GetValue(volume),
                parse.GetValue(config), parse.GetValue(options) ?? []);
            ResolvedMount resolved;
            try
            {
                resolved = MountResolver.Resolve(invocation, ConfigLoader.EnvironmentVariables());
            }
            catch (Exception e) when (e is MountOptionException or MountUsageException)
            {
                Console.Error.WriteLine("proxyfs: " + e.Message);
                return ExitCodes.Usage;
            }
            catch (ConfigException e)
            {
                Console.Error.WriteLine("proxyfs: " + e.Message);
                return ExitCodes.Config;
            }
            if (parse.GetValue(foreground) || Detached)
            {
                return Serve(resolved.Request);
            }
            return StartDetached(resolved, TimeSpan.FromSeconds(Math.Max(1, parse.GetValue(timeout))));
        });
        return command;
    }

    /// <summary>True in a daemon that <see cref="DetachIfAsked"/> detached.</summary>
    private static bool Detached { get; set; }

    private static int Serve(MountRequest request)
    {
        using var loggerFactory = Logging.Create(request.Settings.LogLevel);
        using var notify = SdNotify.FromEnvironment();
        ILogger log = loggerFactory.CreateLogger("proxyfs");
        if (request.Settings.ConfigFile is not null)
        {
            log.LogInformation("configuration {File}{Volume}", request.Settings.ConfigFile,
                request.Settings.VolumeName is null ? "" : ", volume " + request.Settings.VolumeName);
        }
        if (request.Settings.CredentialsFile is not null)
        {
            try
            {
                IReadOnlyList<string> names = CredentialsFile.Apply(request.Settings.CredentialsFile);
                // Only the names of the variables: their values are never logged.
                log.LogInformation("credentials from {File} ({Variables})", request.Settings.CredentialsFile, string.Join(", ", names));
            }
            catch (ConfigException e)
            {
                log.LogError("cannot mount {Uri} at {MountPoint}: {Reason}", request.Uri, request.MountPoint, e.Message);
                notify.Failed(e.Message, Errno.EACCES);
                return ExitCodes.Config;
            }
        }
        var daemon = new MountDaemon(request, log, notify);
        return daemon.Run();
    }

    /// <summary>
    /// In the daemon that `proxyfs mount` starts: a new session (no controlling terminal), stdin from /dev/null,
    /// stdout and stderr appended to the log file. Called first thing in Main, before anything touches
    /// <see cref="Console"/>: .NET duplicates fd 1 and 2 when the console streams are first used, and a duplicate
    /// of the caller's stdout would keep the caller's pipe open.
    /// </summary>
    internal static void DetachIfAsked()
    {
        string? log = Environment.GetEnvironmentVariable(DetachedLogVariable);
        if (string.IsNullOrEmpty(log))
        {
            return;
        }
        Environment.SetEnvironmentVariable(DetachedLogVariable, null);
        Detached = true;
        Libc.setsid();
        // The runtime keeps private duplicates of fds 0-2 (without close-on-exec); they must follow the
        // redirection too, or the caller's pipes stay open for as long as the daemon runs.
        string?[] original = [FdTarget(0), FdTarget(1), FdTarget(2)];
        int devNull = Libc.open("/dev/null", Libc.O_RDWR, 0);
        if (devNull >= 0)
        {
            Libc.dup2(devNull, 0);
        }
        int logFd = -1;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(log)!);
            logFd = Libc.open(log, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_APPEND, 0x1a0 /* 0640 */);
        }
        catch (IOException)
        {
            // No log directory: the daemon still runs; its parent reports failures through the notify socket.
        }
        catch (UnauthorizedAccessException)
        {
            // As above.
        }
        int target = logFd >= 0 ? logFd : devNull;
        if (target >= 0)
        {
            Libc.dup2(target, 1);
            Libc.dup2(target, 2);
        }
        foreach (string entry in Directory.GetFileSystemEntries("/proc/self/fd"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out int fd) || fd <= 2 || fd == logFd || fd == devNull)
            {
                continue;
            }
            string? link = FdTarget(fd);
            int replacement = link is null ? -1
                : link == original[0] ? devNull
                : link == original[1] || link == original[2] ? target
                : -1;
            if (replacement >= 0)
            {
                Libc.dup2(replacement, fd);
            }
        }
        if (logFd >= 0)
        {
            Libc.close(logFd);
        }
        if (devNull >= 0)
        {
            Libc.close(devNull);
        }
    }

    private static string? FdTarget(int fd)
    {
        try
        {
            return new FileInfo("/proc/self/fd/" + fd).LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static int StartDetached(ResolvedMount resolved, TimeSpan timeout)
    {
        MountRequest request = resolved.Request;
        string mountPoint = RunPaths.NormalizeMountPoint(request.MountPoint);
        string log = request.Options.LogFile ?? RunPaths.DefaultLogFile(mountPoint);
        using var listener = new NotifyListener();
        var psi = new ProcessStartInfo { UseShellExecute = false };
        string self = Environment.ProcessPath ?? "proxyfs";
        psi.FileName = self;
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            // Run as `dotnet proxyfs.dll`: the child needs the assembly too.
            psi.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        }
        // The daemon resolves the same command line against the same configuration file and environment.
        psi.ArgumentList.Add("mount");
        if (resolved.Volume is not null)
        {
            psi.ArgumentList.Add("--volume");
            psi.ArgumentList.Add(resolved.Volume.Name);
        }
        else
        {
            psi.ArgumentList.Add(request.Uri);
        }
        psi.ArgumentList.Add(mountPoint);
        if (resolved.Config.SourceFile is not null)
        {
            psi.ArgumentList.Add("--config");
            psi.ArgumentList.Add(resolved.Config.SourceFile);
        }
        // config= is left out: --config above names the same file by its full path (a relative one would disagree).
        string commandLineOptions = string.Join(',', MountOptions.Parse(resolved.Invocation.OptionLists).Raw
            .Where(o => !o.StartsWith("config=", StringComparison.Ordinal)));
        if (commandLineOptions.Length > 0)
        {
            psi.ArgumentList.Add("-o");
            psi.ArgumentList.Add(commandLineOptions);
        }
        psi.Environment[DetachedLogVariable] = log;
        psi.Environment[SdNotify.SocketVariable] = listener.SocketName;

        using Process child = Process.Start(psi) ?? throw new InvalidOperationException("could not start the proxyfs daemon");
        DateTime deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            IReadOnlyDictionary<string, string>? message = listener.Receive(TimeSpan.FromMilliseconds(200));
            if (message is not null)
            {
                if (message.ContainsKey("ERRNO"))
                {
                    Console.Error.WriteLine("proxyfs: " + message.GetValueOrDefault("STATUS", "mount failed"));
                    child.WaitForExit(5000);
                    return ExitCodes.MountFailed;
                }
                if (message.GetValueOrDefault("READY") == "1")
                {
                    if (!Answers(mountPoint, TimeSpan.FromSeconds(10), out string why))
                    {
                        Console.Error.WriteLine($"proxyfs: the daemon (pid {child.Id}) reported ready but {mountPoint} does not answer: {why}; see {log}");
                        return ExitCodes.MountFailed;
                    }
                    string what = resolved.Volume is null ? request.Uri : $"volume '{resolved.Volume.Name}' ({request.Uri})";
                    Console.WriteLine($"proxyfs: mounted {what} at {mountPoint} (daemon pid {child.Id}, log {log}); unmount with: proxyfs unmount {mountPoint}");
                    return ExitCodes.Ok;
                }
            }
            if (child.HasExited)
            {
                Console.Error.WriteLine($"proxyfs: the daemon exited with code {child.ExitCode} before the mount was ready; see {log}");
                return ExitCodes.MountFailed;
            }
        }
        Console.Error.WriteLine($"proxyfs: the mount did not answer within {timeout.TotalSeconds:0} s; stopping the daemon (pid {child.Id}); see {log}");
        child.Kill();
        return ExitCodes.MountFailed;
    }

    /// <summary>True when a stat of the mount point returns within <paramref name="timeout"/>.</summary>
    internal static bool Answers(string mountPoint, TimeSpan timeout, out string why)
    {
        var probe = Task.Run(() => new DirectoryInfo(mountPoint).Attributes);
        try
        {
            if (!probe.Wait(timeout))
            {
                why = $"no answer within {timeout.TotalSeconds:0} s";
                return false;
            }
            why = "";
            return true;
        }
        catch (AggregateException e)
        {
            why = e.GetBaseException().Message;
            return false;
        }
    }
}
