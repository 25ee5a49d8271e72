using System.Security.Cryptography;
using System.Text;
using ProxyFs.Host.Native;

namespace ProxyFs.Host.Daemon;

/// <summary>
/// Where a daemon keeps its control socket and, when detached, its log: /run/proxyfs and /var/log/proxyfs as root,
/// $XDG_RUNTIME_DIR/proxyfs (or /tmp/proxyfs-&lt;uid&gt;) and ~/.local/state/proxyfs otherwise. One control socket
/// per mount point, named by a hash of its absolute path (Unix socket paths are limited to 107 bytes).
/// </summary>
public static class RunPaths
{
    public static bool IsRoot => Libc.geteuid() == 0;

    public static string RunDirectory
    {
        get
        {
            string? overridden = Environment.GetEnvironmentVariable("PROXYFS_RUN_DIR");
            if (!string.IsNullOrEmpty(overridden))
            {
                return overridden;
            }
            if (IsRoot)
            {
                return "/run/proxyfs";
            }
            string? xdg = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
            return !string.IsNullOrEmpty(xdg) ? Path.Combine(xdg, "proxyfs") : "/tmp/proxyfs-" + Libc.geteuid();
        }
    }

    public static string LogDirectory =>
        IsRoot ? "/var/log/proxyfs" : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state", "proxyfs");

    /// <summary>
    /// Where volumes keep their replay logs when replay_log.directory is not set: /var/lib/proxyfs as root, and
    /// ~/.local/state/proxyfs/replay-log otherwise (a user's mount cannot write /var/lib). Both survive a reboot.
    /// </summary>
    public static string DefaultReplayLogParent =>
        IsRoot ? "/var/lib/proxyfs" : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state", "proxyfs", "replay-log");

    /// <summary>The absolute, normalized form of a mount point as given (symlinks in it resolved when it exists).</summary>
    public static string NormalizeMountPoint(string mountPoint)
    {
        string full = Path.GetFullPath(mountPoint);
        if (full.Length > 1)
        {
            full = full.TrimEnd('/');
        }
        try
        {
            FileSystemInfo? target = new DirectoryInfo(full).ResolveLinkTarget(returnFinalTarget: true);
            if (target is not null)
            {
                full = target.FullName;
            }
        }
        catch (IOException)
        {
            // A stale FUSE mount point cannot be examined; its path as given is the one to use.
        }
        return full;
    }

    private static string Key(string mountPoint) =>
        "m-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(mountPoint)))[..20];

    public static string ControlSocket(string mountPoint) => Path.Combine(RunDirectory, Key(mountPoint) + ".sock");

    public static string DefaultLogFile(string mountPoint)
    {
        string safe = mountPoint.Trim('/').Replace('/', '-');
        if (safe.Length == 0)
        {
            safe = "root";
        }
        if (safe.Length > 80)
        {
            safe = safe[^80..];
        }
        return Path.Combine(LogDirectory, safe + ".log");
    }
}
