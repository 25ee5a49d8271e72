using ProxyFs.Core.Cache;
using ProxyFs.Core.FileSystem;

namespace ProxyFs.Core.Volume.Inodes;

/// <summary>How a volume's inodes are served (may change from mount to mount).</summary>
public sealed record VolumeInodeStoreOptions
{
    /// <summary>
    /// Inode objects kept in memory that nothing references (the kernel forgot them, no file is open); beyond this
    /// the oldest are dropped and loaded again from their records when next needed.
    /// </summary>
    public int UnreferencedInodes { get; init; } = 16384;

    /// <summary>Largest file size (EFBIG past it).</summary>
    public long MaxFileSize { get; init; } = long.MaxValue;

    /// <summary>Most hard links of an inode; 0: no limit (as tmpfs).</summary>
    public uint MaxLinks { get; init; }

    /// <summary>The st_blksize reported: the I/O size tools use for their buffers.</summary>
    public int BlockSize { get; init; } = VolumeInodeStore.PageSize;

    /// <summary>Sequential read detection and the read-ahead window.</summary>
    public ReadAheadOptions? ReadAhead { get; init; }

    /// <summary>A clock for timestamps (tests); null: the wall clock, made strictly increasing.</summary>
    public Func<Timespec>? Clock { get; init; }
}
