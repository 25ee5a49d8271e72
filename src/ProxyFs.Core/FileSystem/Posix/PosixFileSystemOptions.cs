namespace ProxyFs.Core.FileSystem.Posix;

/// <summary>How reads update the access time (the kernel's mount options of the same names).</summary>
public enum AtimePolicy
{
    /// <summary>
    /// The kernel's default: atime is updated on a read only when it is not after mtime or ctime, or is more than a
    /// day old.
    /// </summary>
    Relatime,

    /// <summary>Every read updates atime.</summary>
    StrictAtime,

    /// <summary>Reads never update atime.</summary>
    NoAtime,
}

/// <summary>Mount-time choices of a <see cref="PosixFileSystem"/> (what the store fixes is in its limits).</summary>
public sealed class PosixFileSystemOptions
{
    public AtimePolicy Atime { get; init; } = AtimePolicy.Relatime;

    /// <summary>
    /// The kernel's fs.protected_hardlinks: a caller who neither owns a file nor is root may give it another name only
    /// when it is a regular file, not setuid, not setgid and group-executable, and readable and writable by the
    /// caller (EPERM otherwise). On by default, as on every mainstream distribution. With default_permissions the
    /// kernel applies the rule itself; without it (and for callers below FUSE) only the filesystem can.
    /// </summary>
    public bool ProtectedHardlinks { get; init; } = true;
}
