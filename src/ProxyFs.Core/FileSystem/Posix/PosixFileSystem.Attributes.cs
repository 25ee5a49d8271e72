using ProxyFs.Core.FileSystem.Inodes;

namespace ProxyFs.Core.FileSystem.Posix;

/// <summary>chmod, chown, truncate and utimensat.</summary>
public partial class PosixFileSystem
{
    /// <summary>
    /// Applies a setattr with the kernel's rules (notify_change, setattr_prepare, setattr_copy, shmem_setattr):
    /// <list type="bullet">
    /// <item>size: write permission (or a writable handle: EINVAL otherwise), EISDIR for a directory, EINVAL for
    /// other non-regular files, EFBIG past the largest size; mtime and ctime are updated even when the size stays,
    /// pages wholly past the new size are freed, suid/sgid are cleared for a caller other than root.</item>
    /// <item>uid: root only, unless it stays the owner's own uid; gid: root, or the owner giving one of its groups;
    /// EPERM otherwise. Changing either clears suid, and sgid when group-executable or the caller is outside the
    /// group.</item>
    /// <item>mode: owner or root (EPERM); sgid is dropped silently when the caller is neither root nor in the
    /// file's (new) group.</item>
    /// <item>times: setting both to "now" needs ownership, root, or write permission (EACCES); anything else needs
    /// ownership or root (EPERM).</item>
    /// <item>ctime becomes now on every successful change.</item>
    /// </list>
    /// </summary>
    public int SetAttr(in Caller caller, ulong ino, in SetAttrIn change, out InodeAttr attr)
    {
        attr = default;
        using InodeOperation op = _store.BeginOperation(OperationKind.SetAttr);
        if (_store.Acquire(ino, out Inode inode) != 0)
        {
            return Errno.ENOENT;
        }
        try
        {
            lock (inode.Sync)
            {
                if (inode.Freed)
                {
                    return Errno.ENOENT;
                }
                int error = CheckSetAttr(caller, inode, change);
                if (error != 0)
                {
                    return error;
                }
                Apply(op, caller, inode, change);
                _store.Update(op, inode);
                op.Commit();
                Fill(inode, out attr);
            }
            return 0;
        }
        finally
        {
            _store.Unpin(inode);
        }
    }

    /// <summary>Makes a checked change; holds the inode's lock.</summary>
    private void Apply(InodeOperation op, in Caller caller, Inode inode, in SetAttrIn change)
    {
        SetAttrFields fields = change.Fields;
        Timespec now = _store.Now();
        uint mode = inode.Mode;
        if ((fields & SetAttrFields.Mode) != 0)
        {
            mode = (mode & ModeBits.S_IFMT) | (change.Mode & ModeBits.PermissionMask);
            uint groupAfter = (fields & SetAttrFields.Gid) != 0 ? change.Gid : inode.Gid;
            if (!Permissions.InGroupOrRoot(caller, groupAfter))
            {
                mode &= ~ModeBits.S_ISGID;
            }
        }
        if ((fields & (SetAttrFields.Uid | SetAttrFields.Gid)) != 0 && !inode.IsDirectory)
        {
            mode &= ~ModeBits.S_ISUID;
            if (Permissions.ShouldDropSgid(caller, inode))
            {
                mode &= ~ModeBits.S_ISGID;
            }
        }
        if ((fields & SetAttrFields.Size) != 0)
        {
            long size = (long)change.Size;
            if (size <= inode.Size)
            {
                inode.Data!.Truncate(op, size);
            }
            inode.Size = size;
            mode &= ~Permissions.KillOnModify(caller, inode, (fields & SetAttrFields.KillSuidGid) != 0);
            inode.Mtime = now;
        }
        else if ((fields & SetAttrFields.KillSuidGid) != 0)
        {
            mode &= ~Permissions.KillOnModify(caller, inode, force: true);
        }
        inode.Mode = mode;
        if ((fields & SetAttrFields.Uid) != 0)
        {
            inode.Uid = change.Uid;
        }
        if ((fields & SetAttrFields.Gid) != 0)
        {
            inode.Gid = change.Gid;
        }
        if ((fields & SetAttrFields.AtimeNow) != 0)
        {
            inode.Atime = now;
        }
        else if ((fields & SetAttrFields.Atime) != 0)
        {
            inode.Atime = change.Atime;
        }
        if ((fields & SetAttrFields.MtimeNow) != 0)
        {
            inode.Mtime = now;
        }
        else if ((fields & SetAttrFields.Mtime) != 0)
        {
            inode.Mtime = change.Mtime;
        }
        inode.Ctime = (fields & SetAttrFields.Ctime) != 0 ? change.Ctime : now;
    }

    private int CheckSetAttr(in Caller caller, Inode inode, in SetAttrIn change)
    {
        SetAttrFields fields = change.Fields;
        bool touch = (fields & (SetAttrFields.AtimeNow | SetAttrFields.MtimeNow)) == (SetAttrFields.AtimeNow | SetAttrFields.MtimeNow);
        if ((fields & SetAttrFields.Size) != 0)
        {
            if (inode.IsDirectory)
            {
                return Errno.EISDIR;
            }
            if (!inode.IsRegular)
            {
                return Errno.EINVAL;
            }
            if ((fields & SetAttrFields.Handle) != 0)
            {
                if (!_handles.TryGetValue(change.Handle, out OpenHandle? open) || open.Inode.Ino != inode.Ino)
                {
                    return Errno.EBADF;
                }
                if (!open.CanWrite)
                {
                    return Errno.EINVAL;
                }
            }
            else if (!Permissions.May(caller, inode, Permissions.Write))
            {
                return Errno.EACCES;
            }
            if (change.Size > (ulong)_limits.MaxFileSize)
            {
                return Errno.EFBIG;
            }
        }
        if (touch && !Permissions.IsOwnerOrRoot(caller, inode) && !Permissions.May(caller, inode, Permissions.Write))
        {
            return Errno.EACCES;
        }
        if ((fields & SetAttrFields.Uid) != 0 && !caller.IsRoot && (caller.Uid != inode.Uid || change.Uid != inode.Uid))
        {
            return Errno.EPERM;
        }
        if ((fields & SetAttrFields.Gid) != 0 && !caller.IsRoot
            && (caller.Uid != inode.Uid || (change.Gid != inode.Gid && !caller.IsInGroup(change.Gid))))
        {
            return Errno.EPERM;
        }
        if ((fields & SetAttrFields.Mode) != 0 && !Permissions.IsOwnerOrRoot(caller, inode))
        {
            return Errno.EPERM;
        }
        bool explicitTimes = !touch && (fields & (SetAttrFields.Atime | SetAttrFields.Mtime | SetAttrFields.AtimeNow | SetAttrFields.MtimeNow)) != 0;
        if (explicitTimes && !Permissions.IsOwnerOrRoot(caller, inode))
        {
            return Errno.EPERM;
        }
        return 0;
    }
}
