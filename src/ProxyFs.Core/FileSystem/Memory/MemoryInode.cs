namespace ProxyFs.Core.FileSystem.Memory;

/// <summary>
/// One inode of a <see cref="MemoryFileSystem"/>. Its attributes, data, xattrs and counters are guarded by
/// <see cref="Sync"/>; its place in the namespace (directory entries, <see cref="MemoryDirectory.Parent"/>) by the
/// filesystem's namespace lock. Link count changes hold both.
/// </summary>
internal sealed class MemoryInode
{
    /// <summary>st_size of a directory grows by this per entry, as tmpfs's BOGO_DIRENT_SIZE.</summary>
    public const long DirentSize = 20;

    /// <summary>Symlink targets this long or longer take a page in tmpfs (SHORT_SYMLINK_LEN), hence 8 blocks.</summary>
    public const int ShortSymlinkLength = 128;

    public MemoryInode(ulong ino, uint mode, uint uid, uint gid, Timespec now)
    {
        Ino = ino;
        Mode = mode;
        Uid = uid;
        Gid = gid;
        Atime = now;
        Mtime = now;
        Ctime = now;
    }

    public ulong Ino { get; }

    public Lock Sync { get; } = new();

    public uint Mode;
    public uint Uid;
    public uint Gid;
    public uint Nlink;
    public uint Rdev;
    public long Size;
    public Timespec Atime;
    public Timespec Mtime;
    public Timespec Ctime;

    /// <summary>References the kernel holds (Lookup and friends add, Forget takes away).</summary>
    public ulong Lookups;

    /// <summary>Open handles.</summary>
    public int Opens;

    /// <summary>Made by TmpFile and not yet linked: the one case where an inode with no links may be linked.</summary>
    public bool Linkable;

    /// <summary>Freed: dropped from the inode table, any further use is ENOENT.</summary>
    public bool Freed;

    public SparseData? Data;
    public MemoryDirectory? Directory;
    public byte[]? SymlinkTarget;
    public XattrSet? Xattrs;

    public bool IsDirectory => ModeBits.IsDirectory(Mode);
    public bool IsRegular => ModeBits.IsRegular(Mode);
    public bool IsSymlink => ModeBits.IsSymlink(Mode);

    /// <summary>Fills <paramref name="attr"/>; the caller holds <see cref="Sync"/>.</summary>
    public void Fill(out InodeAttr attr)
    {
        attr.Ino = Ino;
        attr.Size = (ulong)Size;
        attr.Blocks = Data is not null ? (ulong)Data.AllocatedPages * (SparseData.PageSize / 512)
            : SymlinkTarget is not null && SymlinkTarget.Length >= ShortSymlinkLength ? SparseData.PageSize / 512UL : 0UL;
        attr.Atime = Atime;
        attr.Mtime = Mtime;
        attr.Ctime = Ctime;
        attr.Mode = Mode;
        attr.Nlink = Nlink;
        attr.Uid = Uid;
        attr.Gid = Gid;
        attr.Rdev = Rdev;
        attr.BlockSize = SparseData.PageSize;
    }

    public void FillEntry(out EntryOut entry)
    {
        entry.Ino = Ino;
        entry.Generation = 1;
        lock (Sync)
        {
            Fill(out entry.Attr);
        }
    }
}
