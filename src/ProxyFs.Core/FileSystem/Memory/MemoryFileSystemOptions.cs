using ProxyFs.Core.FileSystem.Posix;

namespace ProxyFs.Core.FileSystem.Memory;

/// <summary>Settings of a <see cref="MemoryFileSystem"/>.</summary>
public sealed class MemoryFileSystemOptions
{
    /// <summary>Bytes the filesystem can hold (statfs and ENOSPC). Default 1 TiB.</summary>
    public long CapacityBytes { get; init; } = 1L << 40;

    /// <summary>Inodes the filesystem can hold, root included (statfs f_files and ENOSPC). Default 2^32.</summary>
    public long MaxInodes { get; init; } = 1L << 32;

    /// <summary>Largest file size; writes and truncates past it fail with EFBIG. Default 2^63-1 like tmpfs.</summary>
    public long MaxFileSize { get; init; } = long.MaxValue;

    /// <summary>The most hard links an inode (and subdirectories a directory) may have; 0: no limit, as tmpfs.</summary>
    public uint MaxLinks { get; init; }

    /// <summary>How reads update atime (a mount option of the POSIX layer).</summary>
    public AtimePolicy Atime { get; init; } = AtimePolicy.Relatime;

    /// <summary>The hard-link restriction of <see cref="PosixFileSystemOptions.ProtectedHardlinks"/>. Default on.</summary>
    public bool ProtectedHardlinks { get; init; } = true;

    /// <summary>Owner, group and mode of the root directory. Default root:root 0755 (1777 would be /tmp-like).</summary>
    public uint RootUid { get; init; }

    public uint RootGid { get; init; }

    public uint RootMode { get; init; } = 0x1ED; // 0755

    /// <summary>The clock timestamps come from. Default: the wall clock, made strictly increasing.</summary>
    public Func<Timespec>? Clock { get; init; }
}
