using ProxyFs.Core.FileSystem.Inodes;

namespace ProxyFs.Core.FileSystem.Posix;

/// <summary>
/// The kernel's permission rules (fs/namei.c, fs/attr.c), applied to an <see cref="Inode"/> and a
/// <see cref="Caller"/>. Root stands for a process holding every capability.
/// </summary>
internal static class Permissions
{
    public const int Read = 4;
    public const int Write = 2;
    public const int Exec = 1;

    /// <summary>
    /// generic_permission: the owner class if the caller owns the inode, else the group class if the caller is in
    /// its group, else other. Root may read and write anything, and execute anything that has an x bit (any
    /// directory may be searched).
    /// </summary>
    public static bool May(in Caller caller, Inode inode, int mask)
    {
        uint mode = inode.Mode;
        if (caller.IsRoot)
        {
            return (mask & Exec) == 0 || ModeBits.IsDirectory(mode) || (mode & 0x49) != 0;
        }
        uint granted;
        if (caller.Uid == inode.Uid)
        {
            granted = (mode >> 6) & 7;
        }
        else if (caller.IsInGroup(inode.Gid))
        {
            granted = (mode >> 3) & 7;
        }
        else
        {
            granted = mode & 7;
        }
        return (granted & (uint)mask) == (uint)mask;
    }

    /// <summary>inode_owner_or_capable: the owner, or root (CAP_FOWNER).</summary>
    public static bool IsOwnerOrRoot(in Caller caller, Inode inode) => caller.IsRoot || caller.Uid == inode.Uid;

    /// <summary>in_group_or_capable: in the group <paramref name="gid"/>, or root (CAP_FSETID).</summary>
    public static bool InGroupOrRoot(in Caller caller, uint gid) => caller.IsRoot || caller.IsInGroup(gid);

    /// <summary>
    /// check_sticky: in a sticky directory only the owner of the entry, the owner of the directory and root may
    /// remove or rename it.
    /// </summary>
    public static bool StickyAllows(in Caller caller, Inode directory, Inode victim) =>
        (directory.Mode & ModeBits.S_ISVTX) == 0 || caller.IsRoot || caller.Uid == victim.Uid || caller.Uid == directory.Uid;

    /// <summary>
    /// safe_hardlink_source (fs.protected_hardlinks): a regular file, neither setuid nor setgid and group-executable,
    /// that the caller may both read and write.
    /// </summary>
    public static bool SafeHardlinkSource(in Caller caller, Inode inode)
    {
        uint mode = inode.Mode;
        if (!inode.IsRegular || (mode & ModeBits.S_ISUID) != 0 || (mode & (ModeBits.S_ISGID | 0x8)) == (ModeBits.S_ISGID | 0x8))
        {
            return false;
        }
        return May(caller, inode, Read | Write);
    }

    /// <summary>
    /// setattr_should_drop_sgid: sgid goes when group-execute is set (a real setgid program), or when the caller
    /// is neither in the file's group nor root.
    /// </summary>
    public static bool ShouldDropSgid(in Caller caller, Inode inode)
    {
        uint mode = inode.Mode;
        if ((mode & ModeBits.S_ISGID) == 0)
        {
            return false;
        }
        return (mode & 0x8) != 0 || !InGroupOrRoot(caller, inode.Gid);
    }

    /// <summary>
    /// setattr_should_drop_suidgid for a write or truncate by a caller without CAP_FSETID: the mode bits to clear
    /// from a regular file (suid always; sgid as <see cref="ShouldDropSgid"/>).
    /// </summary>
    public static uint KillOnModify(in Caller caller, Inode inode, bool force)
    {
        if (!inode.IsRegular || (caller.IsRoot && !force))
        {
            return 0;
        }
        uint kill = inode.Mode & ModeBits.S_ISUID;
        if (ShouldDropSgid(caller, inode))
        {
            kill |= ModeBits.S_ISGID;
        }
        return kill;
    }
}
