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
}
