namespace ProxyFs.Core.FileSystem.Inodes;

/// <summary>
/// The persistent attributes of an inode: what a store writes for it (the volume: one B+tree record) and what it
/// reads back when it loads the inode again. The symlink target, fixed at creation, is kept beside it on
/// <see cref="Inode.SymlinkTarget"/>; directory entries, file data and xattrs are the inode's parts.
/// </summary>
public record struct InodeRecord
{
    /// <summary>File type and permission bits (st_mode).</summary>
    public uint Mode;
    public uint Uid;
    public uint Gid;
    public uint Nlink;
    public uint Rdev;
    public long Size;
    public Timespec Atime;
    public Timespec Mtime;
    public Timespec Ctime;

    /// <summary>A directory's parent (what ".." names); the root's parent is the root. 0 for other inodes.</summary>
    public ulong Parent;

    /// <summary>st_size of a directory grows by this per entry, "." and ".." included, as tmpfs's BOGO_DIRENT_SIZE.</summary>
    public const long DirentSize = 20;

    /// <summary>The record of a new volume's root directory: two links ("." and its entry in itself), no entries.</summary>
    public static InodeRecord Root(uint permissions, uint uid, uint gid, Timespec now) => new()
    {
        Mode = ModeBits.S_IFDIR | (permissions & ModeBits.PermissionMask),
        Uid = uid,
        Gid = gid,
        Nlink = 2,
        Size = 2 * DirentSize,
        Atime = now,
        Mtime = now,
        Ctime = now,
        Parent = IFileSystem.RootIno,
    };
}
