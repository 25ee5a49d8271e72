using System.CommandLine;
using System.Diagnostics;
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
        var all = new Option<bool>("--all") { Description = "Mount every volume of the configuration file at its mount_point, all served by one daemon sharing one read cache" };
        var command = new Command("mount", "Mount a volume and serve it (returns once the mount answers; the daemon runs detached)")
        {
            source, mountPoint, options, config, volume, foreground, timeout, all,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(all))
            {
                if (parse.GetValue(source) is not null || parse.GetValue(volume) is not null)
                {
                    Console.Error.WriteLine("proxyfs: mount --all takes no source, mount point or --volume: it mounts every configured volume at its mount_point");
                    return ExitCodes.Usage;
                }
                return MountAll(parse.GetValue(config), parse.GetValue(options) ?? [], parse.GetValue(foreground) || Detached,
                    TimeSpan.FromSeconds(Math.Max(1, parse.GetValue(timeout))));
            }
            var invocation = new MountInvocation(parse.GetValue(source), parse.GetValue(mountPoint), parse.GetValue(volume),
                parse.GetValue(config), parse.GetValue(options) ?? []);
            if (Resolve(() => MountResolver.Resolve(invocation, ConfigLoader.EnvironmentVariables()), out ResolvedMount resolved) is int mistake)
            {
                return mistake;
            }
            if (parse.GetValue(foreground) || Detached)
            {
                return Serve(resolved.Request);
            }
            return StartDetached(resolved, TimeSpan.FromSeconds(Math.Max(1, parse.GetValue(timeout))));
        });
        return command;
    }

    private static int MountAll(string? configFile, IReadOnlyList<string> optionLists, bool serve, TimeSpan timeout)
    {
        if (Resolve(() => MountResolver.ResolveAll(configFile, optionLists, ConfigLoader.EnvironmentVariables()), out var all) is int mistake)
        {
            return mistake;
        }
        var (mounts, cache) = all;
        MountRequest first = mounts[0].Request;
        if (serve)
        {
            return Serve(first.Settings, "--all", string.Join(", ", mounts.Select(m => m.Request.MountPoint)),
                (logs, notify) => new MountDaemon([.. mounts.Select(m => m.Request)], cache, logs, notify));
        }
        var args = new List<string> { "mount", "--all" };
        if (mounts[0].Config.SourceFile is { } file)
        {
            args.Add("--config");
            args.Add(file);
        }
        AddOptions(args, optionLists);
        string log = first.Options.LogFile ?? Path.Combine(RunPaths.LogDirectory, "all.log");
        string[] mountPoints = [.. mounts.Select(m => RunPaths.NormalizeMountPoint(m.Request.MountPoint))];
        return StartDaemon(args, log, mountPoints, timeout,
            pid => $"proxyfs: mounted {string.Join(", ", mounts.Select(m => $"'{m.Volume!.Name}' at {RunPaths.NormalizeMountPoint(m.Request.MountPoint)}"))} (daemon pid {pid}, log {log}); unmount each with: proxyfs unmount MOUNTPOINT");
    }

    /// <summary>Resolves a command line: null when it worked, else the exit code of the mistake, said in one line.</summary>
    private static int? Resolve<T>(Func<T> resolve, out T result)
    {
        result = default!;
        try
        {
            result = resolve();
            return null;
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
    }

    /// <summary>True in a daemon that <see cref="DetachIfAsked"/> detached.</summary>
    private static bool Detached { get; set; }

    private static int Serve(MountRequest request) =>
        Serve(request.Settings, request.Uri, request.MountPoint, (logs, notify) => new MountDaemon(request, logs, notify));

    private static int Serve(MountSettings settings, string uri, string mountPoint, Func<ILoggerFactory, SdNotify, MountDaemon> daemon)
    {
        using var loggerFactory = Logging.Create(settings.LogLevel);
        using var notify = SdNotify.FromEnvironment();
        ILogger log = loggerFactory.CreateLogger(MountDaemon.LogCategory);
        if (settings.ConfigFile is not null)
        {
            log.LogInformation("configuration {File}{Volume}", settings.ConfigFile,
                settings.VolumeName is null ? "" : ", volume " + settings.VolumeName);
        }
        if (settings.CredentialsFile is not null)
        {
            try
            {
                IReadOnlyList<string> names = CredentialsFile.Apply(settings.CredentialsFile);
                // Only the names of the variables: their values are never logged.
                log.LogInformation("credentials from {File} ({Variables})", settings.CredentialsFile, string.Join(", ", names));
            }
            catch (ConfigException e)
            {
                log.LogError("cannot mount {Uri} at {MountPoint}: {Reason}", uri, mountPoint, e.Message);
                notify.Failed(e.Message, Errno.EACCES);
                return ExitCodes.Config;
            }
        }
        return daemon(loggerFactory, notify).Run();
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
        // The daemon resolves the same command line against the same configuration file and environment.
        var args = new List<string> { "mount" };
        if (resolved.Volume is not null)
        {
            args.Add("--volume");
            args.Add(resolved.Volume.Name);
        }
        else
        {
            args.Add(request.Uri);
        }
        args.Add(mountPoint);
        if (resolved.Config.SourceFile is not null)
        {
            args.Add("--config");
            args.Add(resolved.Config.SourceFile);
        }
        AddOptions(args, resolved.Invocation.OptionLists);
        string what = resolved.Volume is null ? request.Uri : $"volume '{resolved.Volume.Name}' ({request.Uri})";
        return StartDaemon(args, log, [mountPoint], timeout,
            pid => $"proxyfs: mounted {what} at {mountPoint} (daemon pid {pid}, log {log}); unmount with: proxyfs unmount {mountPoint}");
    }

    /// <summary>The command line's -o options for the daemon; config= is left out: --config names the same file by its full path (a relative one would disagree).</summary>
    private static void AddOptions(List<string> args, IReadOnlyList<string> optionLists)
    {
        string commandLineOptions = string.Join(',', MountOptions.Parse(optionLists).Raw
            .Where(o => !o.StartsWith("config=", StringComparison.Ordinal)));
        if (commandLineOptions.Length > 0)
        {
            args.Add("-o");
            args.Add(commandLineOptions);
        }
    }

    /// <summary>Starts the daemon detached with <paramref name="args"/> and waits for its READY=1 and every mount point to answer.</summary>
    private static int StartDaemon(List<string> args, string log, IReadOnlyList<string> mountPoints, TimeSpan timeout, Func<int, string> mounted)
    {
        using var listener = new NotifyListener();
        var psi = new ProcessStartInfo { UseShellExecute = false };
        string self = Environment.ProcessPath ?? "proxyfs";
        psi.FileName = self;
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            // Run as `dotnet proxyfs.dll`: the child needs the assembly too.
            psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "proxyfs.dll"));
        }
        foreach (string arg in args)
        {
            psi.ArgumentList.Add(arg);
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
                    foreach (string mountPoint in mountPoints)
                    {
                        if (MountTable.Find(mountPoint) is null && mountPoints.Count > 1)
                        {
                            continue; // --all: a volume that could not be mounted is named in the daemon's status line
                        }
                        if (!Answers(mountPoint, TimeSpan.FromSeconds(10), out string why))
                        {
                            Console.Error.WriteLine($"proxyfs: the daemon (pid {child.Id}) reported ready but {mountPoint} does not answer: {why}; see {log}");
                            return ExitCodes.MountFailed;
                        }
                    }
                    Console.WriteLine(mounted(child.Id));
                    if (message.GetValueOrDefault("STATUS") is { } status && status.Contains("not mounted:", StringComparison.Ordinal))
                    {
                        Console.Error.WriteLine("proxyfs: " + status[(status.IndexOf("not mounted:", StringComparison.Ordinal))..]);
                        return ExitCodes.MountFailed;
                    }
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
