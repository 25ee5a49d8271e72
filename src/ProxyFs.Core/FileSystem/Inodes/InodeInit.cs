namespace ProxyFs.Core.FileSystem.Inodes;

/// <summary>
/// What a new inode starts with (<see cref="IInodeStore.CreateInode"/>): type and permissions, owner, device number,
/// a directory's parent, a symlink's target, and the time of all three timestamps. Link count and size start at 0:
/// the POSIX layer sets them in the same operation.
/// </summary>
public readonly ref struct InodeInit
{
    public uint Mode { get; init; }
    public uint Uid { get; init; }
    public uint Gid { get; init; }
    public uint Rdev { get; init; }
    public Timespec Time { get; init; }

    /// <summary>The parent of a new directory (0 for other types).</summary>
    public ulong Parent { get; init; }

    /// <summary>The target of a new symlink (empty for other types).</summary>
    public ReadOnlySpan<byte> SymlinkTarget { get; init; }

    /// <summary>The record the new inode starts with.</summary>
    public InodeRecord ToRecord() => new()
    {
        Mode = Mode,
        Uid = Uid,
        Gid = Gid,
        Rdev = Rdev,
        Atime = Time,
        Mtime = Time,
        Ctime = Time,
        Parent = Parent,
    };
}
