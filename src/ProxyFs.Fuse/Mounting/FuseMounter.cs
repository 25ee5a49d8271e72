using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using ProxyFs.Fuse.Native;

namespace ProxyFs.Fuse.Mounting;

/// <summary>How a mount was made, and so how it is unmade.</summary>
internal enum MountMethod
{
    /// <summary>mount(2) as root; umount2(2) to unmount.</summary>
    Syscall,
    /// <summary>fusermount3 with the fd passed back over a socketpair; fusermount3 -u to unmount.</summary>
    Fusermount,
}

/// <summary>
/// Mounting and unmounting FUSE filesystems without libfuse: mount(2) as root, fusermount3 otherwise (or when forced),
/// with one-line errors that say what to do.
/// </summary>
public static class FuseMounter
{
    private static readonly TimeSpan FusermountTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Mount flags that options words set or clear (the rest go to the kernel or fusermount3 as they are).</summary>
    private static readonly Dictionary<string, (ulong Set, ulong Clear)> FlagOptions = new(StringComparer.Ordinal)
    {
        ["ro"] = (Libc.MS_RDONLY, 0),
        ["rw"] = (0, Libc.MS_RDONLY),
        ["nosuid"] = (Libc.MS_NOSUID, 0),
        ["suid"] = (0, Libc.MS_NOSUID),
        ["nodev"] = (Libc.MS_NODEV, 0),
        ["dev"] = (0, Libc.MS_NODEV),
        ["noexec"] = (Libc.MS_NOEXEC, 0),
        ["exec"] = (0, Libc.MS_NOEXEC),
        ["sync"] = (Libc.MS_SYNCHRONOUS, 0),
        ["async"] = (0, Libc.MS_SYNCHRONOUS),
        ["dirsync"] = (Libc.MS_DIRSYNC, 0),
        ["noatime"] = (Libc.MS_NOATIME, 0),
        ["atime"] = (0, Libc.MS_NOATIME),
        ["nodiratime"] = (Libc.MS_NODIRATIME, 0),
        ["diratime"] = (0, Libc.MS_NODIRATIME),
        ["relatime"] = (Libc.MS_RELATIME, 0),
        ["norelatime"] = (0, Libc.MS_RELATIME),
        ["strictatime"] = (Libc.MS_STRICTATIME, 0),
    };

    /// <summary>
    /// Checks that a FUSE filesystem can be mounted at <paramref name="mountPoint"/> and returns its canonical path.
    /// Throws <see cref="FuseMountException"/>: missing, not a directory, stale FUSE mount, already a mount point,
    /// no access.
    /// </summary>
    public static string CheckMountPoint(string mountPoint)
    {
        ArgumentException.ThrowIfNullOrEmpty(mountPoint);
        string full = Path.GetFullPath(mountPoint);
        int rc = Libc.StatMode(full, out uint mode);
        if (rc == -Libc.ENOENT)
        {
            throw new FuseMountException(FuseMountError.MountPointMissing, $"mount point {full} does not exist: create the directory first");
        }
        if (rc == -Libc.ENOTCONN)
        {
            throw new FuseMountException(FuseMountError.Stale, $"mount point {full} is a stale FUSE mount (transport endpoint is not connected): run `fusermount3 -uz {full}` first");
        }
        if (rc == -Libc.ENOTDIR)
        {
            throw new FuseMountException(FuseMountError.NotADirectory, $"mount point {full} is not a directory (a path component is a file)");
        }
        if (rc == -Libc.EACCES || rc == -Libc.EPERM)
        {
            throw new FuseMountException(FuseMountError.PermissionDenied, $"cannot access mount point {full}: {Libc.StrError(-rc)}");
        }
        if (rc < 0)
        {
            throw new FuseMountException(FuseMountError.Failed, $"cannot stat mount point {full}: {Libc.StrError(-rc)}");
        }
        if ((mode & Libc.S_IFMT) != Libc.S_IFDIR)
        {
            throw new FuseMountException(FuseMountError.NotADirectory, $"mount point {full} is not a directory");
        }
        string canonical = Libc.RealPath(full, out int errno)
            ?? throw new FuseMountException(FuseMountError.Failed, $"cannot resolve mount point {full}: {Libc.StrError(errno)}");
        if (MountInfo.Find(canonical) is { } existing)
        {
            throw new FuseMountException(FuseMountError.Busy, $"mount point {canonical} is already a mount point ({existing.FileSystemType} from {existing.Source}): unmount it first");
        }
        return canonical;
    }

    /// <summary>True when something is mounted at <paramref name="path"/> (a canonical path) in this mount namespace.</summary>
    public static bool IsMountPoint(string path) => MountInfo.Find(path) is not null;

    /// <summary>
    /// Unmounts the FUSE filesystem at <paramref name="mountPoint"/>: umount2 as root, fusermount3 -u otherwise; with
    /// <paramref name="lazy"/> the mount is detached now and cleaned when no longer busy (MNT_DETACH, -z).
    /// </summary>
    public static void Unmount(string mountPoint, bool lazy = false)
    {
        string full = Path.GetFullPath(mountPoint);
        var method = Libc.IsRoot ? MountMethod.Syscall : MountMethod.Fusermount;
        string? error = TryUnmount(full, method, lazy ? Libc.MNT_DETACH : 0);
        if (error is not null)
        {
            throw new FuseMountException(error.Contains("busy", StringComparison.OrdinalIgnoreCase) ? FuseMountError.Busy : FuseMountError.Failed, error);
        }
    }

    /// <summary>Unmounts; null on success, else a one-line error. <paramref name="flags"/>: MNT_DETACH, MNT_FORCE.</summary>
    internal static string? TryUnmount(string path, MountMethod method, int flags)
    {
        if (method == MountMethod.Syscall)
        {
            int rc;
            do
            {
                rc = Libc.Umount2(path, flags);
            }
            while (rc == -Libc.EINTR);
            return rc == 0 ? null : $"cannot unmount {path}: {Libc.StrError(-rc)}";
        }
        var arguments = new List<string> { "-u" };
        if ((flags & Libc.MNT_DETACH) != 0)
        {
            arguments.Add("-z");
        }
        arguments.Add("--");
        arguments.Add(path);
        var (exit, stderr) = RunFusermount(arguments, commFd: null);
        return exit == 0 ? null : $"cannot unmount {path}: {FirstLine(stderr, $"fusermount3 exited with {exit}")}";
    }

    /// <summary>mount(2) as root: opens the device and mounts; returns the session fd.</summary>
    internal static int MountWithSyscall(string path, FuseMountOptions options)
    {
        int fd = OpenDevice(options.DevicePath);
        var (flags, kernelOptions) = SplitOptions(options);
        string data = string.Join(',', new[]
        {
            "fd=" + fd.ToString(CultureInfo.InvariantCulture),
            "rootmode=40000",
            "user_id=" + Libc.GetEuid().ToString(CultureInfo.InvariantCulture),
            "group_id=" + Libc.GetEgid().ToString(CultureInfo.InvariantCulture),
        }.Concat(kernelOptions));
        string type = string.IsNullOrEmpty(options.Subtype) ? "fuse" : "fuse." + options.Subtype;
        int rc = Libc.Mount(options.FsName, path, type, flags, data);
        if (rc == 0)
        {
            return fd;
        }
        Libc.Close(fd);
        string reason = Libc.StrError(-rc);
        throw -rc switch
        {
            Libc.EPERM or Libc.EACCES => new FuseMountException(FuseMountError.PermissionDenied, $"mount of {path} not permitted ({reason}): mount(2) needs root (CAP_SYS_ADMIN); without it proxyfs mounts through fusermount3"),
            Libc.ENODEV => new FuseMountException(FuseMountError.DeviceUnavailable, $"the kernel has no fuse filesystem ({reason}): run `modprobe fuse`"),
            Libc.EBUSY => new FuseMountException(FuseMountError.Busy, $"mount point {path} is busy ({reason})"),
            Libc.ENOTCONN => new FuseMountException(FuseMountError.Stale, $"mount point {path} is a stale FUSE mount: run `fusermount3 -uz {path}` first"),
            Libc.ENOENT => new FuseMountException(FuseMountError.MountPointMissing, $"mount point {path} does not exist"),
            Libc.ENOTDIR => new FuseMountException(FuseMountError.NotADirectory, $"mount point {path} is not a directory"),
            _ => new FuseMountException(FuseMountError.Failed, $"mount(2) of {path} failed: {reason} (options {data})", errno: -rc),
        };
    }

    /// <summary>Mounts through fusermount3, which passes the /dev/fuse fd back over a socketpair (_FUSE_COMMFD).</summary>
    internal static int MountWithFusermount(string path, FuseMountOptions options)
    {
        if (options.DevicePath != "/dev/fuse")
        {
            // fusermount3 always opens /dev/fuse; check the configured device the same way mount(2) would.
            Libc.Close(OpenDevice(options.DevicePath));
        }
        var (_, kernelOptions) = SplitOptions(options);
        var words = new List<string>
        {
            options.ReadOnly ? "ro" : "rw",
            options.NoSuid ? "nosuid" : "suid",
            options.NoDev ? "nodev" : "dev",
            "fsname=" + options.FsName,
        };
        if (options.NoExec)
        {
            words.Add("noexec");
        }
        if (options.NoAtime)
        {
            words.Add("noatime");
        }
        if (!string.IsNullOrEmpty(options.Subtype))
        {
            words.Add("subtype=" + options.Subtype);
        }
        words.AddRange(options.ExtraOptions.Where(FlagOptions.ContainsKey));
        words.AddRange(kernelOptions);
        int rc = Libc.SocketPairInheritable(out int ours, out int theirs);
        if (rc < 0)
        {
            throw new FuseMountException(FuseMountError.FusermountFailed, $"socketpair for fusermount3 failed: {Libc.StrError(-rc)}");
        }
        try
        {
            var (exit, stderr) = RunFusermount(["-o", string.Join(',', words), "--", path], theirs);
            Libc.Close(theirs);
            theirs = -1;
            if (exit != 0)
            {
                string line = FirstLine(stderr, $"fusermount3 exited with {exit}");
                var reason = line.Contains("ermission denied", StringComparison.Ordinal) || line.Contains("not permitted", StringComparison.Ordinal)
                    ? FuseMountError.PermissionDenied
                    : line.Contains("busy", StringComparison.OrdinalIgnoreCase) ? FuseMountError.Busy
                    : line.Contains("fuse device not found", StringComparison.Ordinal) ? FuseMountError.DeviceUnavailable
                    : FuseMountError.FusermountFailed;
                throw new FuseMountException(reason, $"fusermount3 could not mount {path}: {line}");
            }
            int fd = Libc.ReceiveFileDescriptor(ours);
            if (fd < 0)
            {
                throw new FuseMountException(FuseMountError.FusermountFailed, $"fusermount3 mounted {path} but passed no /dev/fuse descriptor ({Libc.StrError(-fd)}): run `fusermount3 -uz {path}`");
            }
            return fd;
        }
        finally
        {
            Libc.Close(ours);
            if (theirs >= 0)
            {
                Libc.Close(theirs);
            }
        }
    }

    private static int OpenDevice(string devicePath)
    {
        int fd = Libc.Open(devicePath, Libc.O_RDWR | Libc.O_CLOEXEC);
        if (fd >= 0)
        {
            return fd;
        }
        string reason = Libc.StrError(-fd);
        throw -fd switch
        {
            Libc.EACCES or Libc.EPERM => new FuseMountException(FuseMountError.PermissionDenied, $"cannot open {devicePath}: {reason}"),
            _ => new FuseMountException(FuseMountError.DeviceUnavailable, $"cannot open {devicePath}: {reason}: install fuse3 and run `modprobe fuse`"),
        };
    }

    /// <summary>mount(2) flags (nosuid,nodev by default, like libfuse) and the options the kernel's fuse parses.</summary>
    internal static (ulong Flags, List<string> KernelOptions) SplitOptions(FuseMountOptions options)
    {
        ulong flags = (options.NoSuid ? Libc.MS_NOSUID : 0) | (options.NoDev ? Libc.MS_NODEV : 0)
            | (options.NoExec ? Libc.MS_NOEXEC : 0) | (options.NoAtime ? Libc.MS_NOATIME : 0)
            | (options.ReadOnly ? Libc.MS_RDONLY : 0);
        var kernel = new List<string>();
        if (options.DefaultPermissions)
        {
            kernel.Add("default_permissions");
        }
        if (options.AllowOther)
        {
            kernel.Add("allow_other");
        }
        foreach (string option in options.ExtraOptions)
        {
            if (FlagOptions.TryGetValue(option, out var flag))
            {
                flags = (flags | flag.Set) & ~flag.Clear;
            }
            else if (!kernel.Contains(option))
            {
                kernel.Add(option);
            }
        }
        return (flags, kernel);
    }

    /// <summary>Runs fusermount3 with a timeout; with <paramref name="commFd"/> it inherits that socket as _FUSE_COMMFD.</summary>
    private static (int Exit, string Stderr) RunFusermount(IReadOnlyList<string> arguments, int? commFd)
    {
        var start = new ProcessStartInfo(FindFusermount())
        {
            UseShellExecute = false,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        if (commFd is { } fd)
        {
            // The child inherits the socket: it was created without CLOEXEC, and .NET does not close other fds on exec.
            start.Environment["_FUSE_COMMFD"] = fd.ToString(CultureInfo.InvariantCulture);
        }
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new FuseMountException(FuseMountError.FusermountFailed, "fusermount3 did not start");
        }
        catch (Win32Exception ex)
        {
            throw new FuseMountException(FuseMountError.FusermountFailed, $"cannot run fusermount3 ({ex.Message}): install fuse3", ex);
        }
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(FusermountTimeout))
            {
                process.Kill();
                process.WaitForExit(TimeSpan.FromSeconds(5));
                throw new FuseMountException(FuseMountError.FusermountFailed, $"fusermount3 {string.Join(' ', arguments)} did not finish in {FusermountTimeout.TotalSeconds} s");
            }
            stdout.Wait(TimeSpan.FromSeconds(5));
            string text = stderr.Wait(TimeSpan.FromSeconds(5)) ? stderr.Result : "";
            return (process.ExitCode, text);
        }
    }

    private static string FindFusermount()
    {
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/bin", "/bin", "/usr/local/bin"]))
        {
            string candidate = Path.Combine(directory, "fusermount3");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return "fusermount3";
    }

    private static string FirstLine(string text, string fallback)
    {
        string line = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "";
        return line.Length > 0 ? line : fallback;
    }
}
