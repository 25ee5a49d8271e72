using ProxyFs.Core.FileSystem.Inodes;

namespace ProxyFs.Core.FileSystem.Posix;

/// <summary>Creating, linking and removing names (renames are in PosixFileSystem.Rename.cs).</summary>
public partial class PosixFileSystem
{
    public int MkNod(in Caller caller, ulong parent, ReadOnlySpan<byte> name, uint mode, uint rdev, uint umask, out EntryOut entry)
    {
        entry = default;
        uint type = mode & ModeBits.S_IFMT;
        switch (type)
        {
            case 0:
                type = ModeBits.S_IFREG;
                break;
            case ModeBits.S_IFREG or ModeBits.S_IFCHR or ModeBits.S_IFBLK or ModeBits.S_IFIFO or ModeBits.S_IFSOCK:
                break;
            case ModeBits.S_IFDIR:
                return Errno.EPERM; // may_mknod: directories are made with mkdir
            default:
                return Errno.EINVAL;
        }
        using InodeOperation op = _store.BeginOperation(OperationKind.MkNod);
        Inode? dir = null;
        Inode? inode = null;
        _namespace.EnterWriteLock();
        try
        {
            int error = CheckCreate(caller, parent, name, out dir);
            if (error != 0)
            {
                return error;
            }
            if (type is ModeBits.S_IFCHR or ModeBits.S_IFBLK && !caller.IsRoot)
            {
                return Errno.EPERM; // CAP_MKNOD
            }
            uint perms = PrepareMode(caller, dir!, mode, umask, ModeBits.PermissionMask, type);
            using var locks = new InodeLocks(dir!);
            error = NewInode(op, caller, dir!, type | perms, type is ModeBits.S_IFCHR or ModeBits.S_IFBLK ? rdev : 0, default, out inode);
            if (error != 0)
            {
                return error;
            }
            lock (inode!.Sync)
            {
                AddNew(op, dir!, name, inode, out entry);
                op.Commit();
            }
            return 0;
        }
        finally
        {
            _namespace.ExitWriteLock();
            Unpin(inode);
            Unpin(dir);
        }
    }

    public int MkDir(in Caller caller, ulong parent, ReadOnlySpan<byte> name, uint mode, uint umask, out EntryOut entry)
    {
        entry = default;
        using InodeOperation op = _store.BeginOperation(OperationKind.MkDir);
        Inode? dir = null;
        Inode? inode = null;
        _namespace.EnterWriteLock();
        try
        {
            int error = CheckCreate(caller, parent, name, out dir);
            if (error != 0)
            {
                return error;
            }
            if (_limits.MaxLinks != 0 && dir!.Nlink >= _limits.MaxLinks)
            {
                return Errno.EMLINK;
            }
            uint perms = PrepareMode(caller, dir!, mode, umask, 0x3FF /* rwxrwxrwx and sticky */, ModeBits.S_IFDIR);
            using var locks = new InodeLocks(dir!);
            error = NewInode(op, caller, dir!, ModeBits.S_IFDIR | perms, 0, default, out inode);
            if (error != 0)
            {
                return error;
            }
            lock (inode!.Sync)
            {
                inode.Size = 2 * InodeRecord.DirentSize;
                inode.Nlink = 1; // AddNew adds the parent's entry; "." is the second link
                AddNew(op, dir!, name, inode, out entry);
                op.Commit();
            }
            return 0;
        }
        finally
        {
            _namespace.ExitWriteLock();
            Unpin(inode);
            Unpin(dir);
        }
    }

    public int Symlink(in Caller caller, ulong parent, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, out EntryOut entry)
    {
        entry = default;
        if (target.IsEmpty)
        {
            return Errno.ENOENT;
        }
        if (target.Length > SymlinkMax)
        {
            return Errno.ENAMETOOLONG;
        }
        using InodeOperation op = _store.BeginOperation(OperationKind.Symlink);
        Inode? dir = null;
        Inode? inode = null;
        _namespace.EnterWriteLock();
        try
        {
            int error = CheckCreate(caller, parent, name, out dir);
            if (error != 0)
            {
                return error;
            }
            using var locks = new InodeLocks(dir!);
            error = NewInode(op, caller, dir!, ModeBits.S_IFLNK | 0x1FF, 0, target, out inode);
            if (error != 0)
            {
                return error;
            }
            lock (inode!.Sync)
            {
                inode.Size = target.Length;
                AddNew(op, dir!, name, inode, out entry);
                op.Commit();
            }
            return 0;
        }
        finally
        {
            _namespace.ExitWriteLock();
            Unpin(inode);
            Unpin(dir);
        }
    }

    public int Link(in Caller caller, ulong ino, ulong newParent, ReadOnlySpan<byte> newName, out EntryOut entry)
    {
        entry = default;
        using InodeOperation op = _store.BeginOperation(OperationKind.Link);
        Inode? inode = null;
        Inode? dir = null;
        _namespace.EnterWriteLock();
        try
        {
            if (_store.Acquire(ino, out Inode found) != 0)
            {
                return Errno.ENOENT;
            }
            inode = found;
            int error = CheckNewName(caller, newParent, newName, out dir);
            if (error != 0)
            {
                return error;
            }
            if (_options.ProtectedHardlinks && !Permissions.IsOwnerOrRoot(caller, inode) && !Permissions.SafeHardlinkSource(caller, inode))
            {
                return Errno.EPERM; // may_linkat, before the write permission of the directory
            }
            error = CheckRoomInDirectory(caller, dir!);
            if (error != 0)
            {
                return error;
            }
            if (inode.IsDirectory)
            {
                return Errno.EPERM;
            }
            using var locks = new InodeLocks(inode, dir);
            if (inode.Nlink == 0 && !inode.Linkable)
            {
                return Errno.ENOENT; // only an O_TMPFILE file may come back from no links
            }
            if (_limits.MaxLinks != 0 && inode.Nlink >= _limits.MaxLinks)
            {
                return Errno.EMLINK;
            }
            inode.Nlink++;
            inode.Linkable = false;
            inode.Ctime = _store.Now();
            inode.Lookups++;
            _store.Update(op, inode);
            dir!.Directory!.Add(op, newName, inode.Ino, inode.Type);
            DirectoryChanged(op, dir, _store.Now(), 1, 0);
            FillEntry(inode, out entry);
            op.Commit();
            return 0;
        }
        finally
        {
            _namespace.ExitWriteLock();
            Unpin(dir);
            Unpin(inode);
        }
    }

    public int Unlink(in Caller caller, ulong parent, ReadOnlySpan<byte> name) => Remove(caller, parent, name, directory: false);

    public int RmDir(in Caller caller, ulong parent, ReadOnlySpan<byte> name) => Remove(caller, parent, name, directory: true);

    /// <summary>Unlink and rmdir: the same walk and permission checks, then the type rules of each.</summary>
    private int Remove(in Caller caller, ulong parent, ReadOnlySpan<byte> name, bool directory)
    {
        using InodeOperation op = _store.BeginOperation(directory ? OperationKind.RmDir : OperationKind.Unlink);
        Inode? dir = null;
        Inode? victim = null;
        _namespace.EnterWriteLock();
        try
        {
            int error = SearchDirectory(caller, parent, name, out dir);
            if (error != 0)
            {
                return error;
            }
            if (IsDot(name) || IsDotDot(name))
            {
                return !directory ? Errno.EISDIR : IsDot(name) ? Errno.EINVAL : Errno.ENOTEMPTY;
            }
            if (!dir!.Directory!.TryFind(name, out DirectoryEntry found))
            {
                return Errno.ENOENT;
            }
            error = _store.Acquire(found.Ino, out Inode inode);
            if (error != 0)
            {
                return error;
            }
            victim = inode;
            error = MayDelete(caller, dir, victim);
            if (error != 0)
            {
                return error;
            }
            if (victim.IsDirectory != directory)
            {
                return directory ? Errno.ENOTDIR : Errno.EISDIR;
            }
            if (directory && !victim.Directory!.IsEmpty)
            {
                return Errno.ENOTEMPTY;
            }
            using var locks = new InodeLocks(dir, victim);
            dir.Directory.Remove(op, name);
            Timespec now = _store.Now();
            DirectoryChanged(op, dir, now, -1, directory ? -1 : 0);
            victim.Nlink = directory ? 0 : victim.Nlink - 1;
            victim.Ctime = now;
            _store.Update(op, victim);
            FreeIfUnused(op, victim);
            op.Commit();
            return 0;
        }
        finally
        {
            _namespace.ExitWriteLock();
            Unpin(victim);
            Unpin(dir);
        }
    }

    /// <summary>may_delete: write and search permission on the directory, and the sticky-bit rule.</summary>
    private static int MayDelete(in Caller caller, Inode dir, Inode victim)
    {
        if (!Permissions.May(caller, dir, Permissions.Write | Permissions.Exec))
        {
            return Errno.EACCES;
        }
        return Permissions.StickyAllows(caller, dir, victim) ? 0 : Errno.EPERM;
    }

    /// <summary>
    /// The checks before a name is made in <paramref name="parent"/>: the walk to it, the name, that it is free,
    /// write permission, and room for one more inode. The namespace lock is write-held. The directory comes back
    /// pinned once the walk reached it, even when a later check fails.
    /// </summary>
    private int CheckCreate(in Caller caller, ulong parent, ReadOnlySpan<byte> name, out Inode? dir)
    {
        int error = CheckNewName(caller, parent, name, out dir);
        return error != 0 ? error : CheckRoomInDirectory(caller, dir!);
    }

    /// <summary>The first half of <see cref="CheckCreate"/>: the walk to the directory and that the name is free.</summary>
    private int CheckNewName(in Caller caller, ulong parent, ReadOnlySpan<byte> name, out Inode? dir)
    {
        int error = SearchDirectory(caller, parent, name, out dir);
        if (error != 0)
        {
            return error;
        }
        return IsDot(name) || IsDotDot(name) || dir!.Directory!.TryFind(name, out _) ? Errno.EEXIST : 0;
    }

    /// <summary>The second half of <see cref="CheckCreate"/>: write permission on the directory, room for an inode.</summary>
    private int CheckRoomInDirectory(in Caller caller, Inode dir)
    {
        if (!Permissions.May(caller, dir, Permissions.Write | Permissions.Exec))
        {
            return Errno.EACCES;
        }
        return _store.HasRoomForInode ? 0 : Errno.ENOSPC;
    }

    /// <summary>
    /// vfs_prepare_mode: drops sgid from a group-executable file made in a setgid directory by someone outside its
    /// group, applies the umask, keeps only <paramref name="allowed"/>.
    /// </summary>
    private static uint PrepareMode(in Caller caller, Inode dir, uint mode, uint umask, uint allowed, uint type)
    {
        mode &= ModeBits.PermissionMask;
        const uint sgidAndGroupExec = ModeBits.S_ISGID | 0x8;
        if ((mode & sgidAndGroupExec) == sgidAndGroupExec && type != ModeBits.S_IFDIR
            && (dir.Mode & ModeBits.S_ISGID) != 0 && !Permissions.InGroupOrRoot(caller, dir.Gid))
        {
            mode &= ~ModeBits.S_ISGID;
        }
        return mode & ~umask & allowed;
    }

    /// <summary>
    /// inode_init_owner: the caller owns the new inode; in a setgid directory it takes the directory's group, and a
    /// new directory also the setgid bit. The inode comes back pinned, with no links.
    /// </summary>
    private int NewInode(InodeOperation op, in Caller caller, Inode dir, uint mode, uint rdev, ReadOnlySpan<byte> symlinkTarget, out Inode? inode)
    {
        uint gid = caller.Gid;
        if ((dir.Mode & ModeBits.S_ISGID) != 0)
        {
            gid = dir.Gid;
            if (ModeBits.IsDirectory(mode))
            {
                mode |= ModeBits.S_ISGID;
            }
        }
        var init = new InodeInit
        {
            Mode = mode,
            Uid = caller.Uid,
            Gid = gid,
            Rdev = rdev,
            Time = _store.Now(),
            Parent = ModeBits.IsDirectory(mode) ? dir.Ino : 0,
            SymlinkTarget = symlinkTarget,
        };
        int error = _store.CreateInode(op, init, out Inode created);
        inode = error == 0 ? created : null;
        return error;
    }

    /// <summary>Enters a new inode in a directory with one link and one lookup; both inodes are locked.</summary>
    private void AddNew(InodeOperation op, Inode dir, ReadOnlySpan<byte> name, Inode inode, out EntryOut entry)
    {
        dir.Directory!.Add(op, name, inode.Ino, inode.Type);
        inode.Nlink++;
        inode.Lookups = 1;
        _store.Update(op, inode);
        DirectoryChanged(op, dir, inode.Ctime, 1, inode.IsDirectory ? 1 : 0);
        FillEntry(inode, out entry);
    }
}
