namespace ProxyFs.Core.FileSystem.Memory;

/// <summary>Creating, linking, removing and renaming names.</summary>
public sealed partial class MemoryFileSystem
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
        _namespace.EnterWriteLock();
        try
        {
            int error = CheckCreate(caller, parent, name, out MemoryInode? dir);
            if (error != 0)
            {
                return error;
            }
            if (type is ModeBits.S_IFCHR or ModeBits.S_IFBLK && !caller.IsRoot)
            {
                return Errno.EPERM; // CAP_MKNOD
            }
            MemoryInode inode = NewInode(caller, dir!, type | PrepareMode(caller, dir!, mode, umask, ModeBits.PermissionMask, type));
            if (type == ModeBits.S_IFREG)
            {
                inode.Data = new SparseData();
            }
            else if (type is ModeBits.S_IFCHR or ModeBits.S_IFBLK)
            {
                inode.Rdev = rdev;
            }
            AddNew(dir!, name, inode, out entry);
            return 0;
        }
        finally
        {
            _namespace.ExitWriteLock();
        }
    }

    public int MkDir(in Caller caller, ulong parent, ReadOnlySpan<byte> name, uint mode, uint umask, out EntryOut entry)
    {
        entry = default;
        _namespace.EnterWriteLock();
        try
        {
            int error = CheckCreate(caller, parent, name, out MemoryInode? dir);
            if (error != 0)
            {
                return error;
            }
            if (_options.MaxLinks != 0 && dir!.Nlink >= _options.MaxLinks)
            {
                return Errno.EMLINK;
            }
            uint perms = PrepareMode(caller, dir!, mode, umask, 0x3FF /* rwxrwxrwx and sticky */, ModeBits.S_IFDIR);
            MemoryInode inode = NewInode(caller, dir!, ModeBits.S_IFDIR | perms);
            inode.Directory = new MemoryDirectory(dir!);
            inode.Size = 2 * MemoryInode.DirentSize;
            inode.Nlink = 1; // AddNew adds the parent's entry; "." is the second link
            AddNew(dir!, name, inode, out entry);
            return 0;
        }
        finally
        {
            _namespace.ExitWriteLock();
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
        _namespace.EnterWriteLock();
        try
        {
            int error = CheckCreate(caller, parent, name, out MemoryInode? dir);
            if (error != 0)
            {
                return error;
            }
            MemoryInode inode = NewInode(caller, dir!, ModeBits.S_IFLNK | 0x1FF);
            inode.SymlinkTarget = target.ToArray();
            inode.Size = target.Length;
            AddNew(dir!, name, inode, out entry);
            return 0;
        }
        finally
        {
            _namespace.ExitWriteLock();
        }
    }

    public int Link(in Caller caller, ulong ino, ulong newParent, ReadOnlySpan<byte> newName, out EntryOut entry)
    {
        entry = default;
        _namespace.EnterWriteLock();
        try
        {
            if (!TryGetInode(ino, out MemoryInode inode))
            {
                return Errno.ENOENT;
            }
            int error = CheckCreate(caller, newParent, newName, out MemoryInode? dir);
            if (error != 0)
            {
                return error;
            }
            if (inode.IsDirectory)
            {
                return Errno.EPERM;
            }
            lock (inode.Sync)
            {
                if (inode.Nlink == 0 && !inode.Linkable)
                {
                    return Errno.ENOENT; // only an O_TMPFILE file may come back from no links
                }
                if (_options.MaxLinks != 0 && inode.Nlink >= _options.MaxLinks)
                {
                    return Errno.EMLINK;
                }
                inode.Nlink++;
                inode.Linkable = false;
                inode.Ctime = Now();
                inode.Lookups++;
            }
            dir!.Directory!.Add(newName, inode);
            DirectoryChanged(dir, Now(), 1, 0);
            inode.FillEntry(out entry);
            return 0;
        }
        finally
        {
            _namespace.ExitWriteLock();
        }
    }

    public int Unlink(in Caller caller, ulong parent, ReadOnlySpan<byte> name)
    {
        _namespace.EnterWriteLock();
        try
        {
            int error = SearchDirectory(caller, parent, name, out MemoryInode? dir);
            if (error != 0)
            {
                return error;
            }
            if (IsDot(name) || IsDotDot(name))
            {
                return Errno.EISDIR;
            }
            DirEntry? found = dir!.Directory!.Find(name);
            if (found is null)
            {
                return Errno.ENOENT;
            }
            MemoryInode victim = found.Inode;
            error = MayDelete(caller, dir, victim);
            if (error != 0)
            {
                return error;
            }
            if (victim.IsDirectory)
            {
                return Errno.EISDIR;
            }
            dir.Directory.Remove(found);
            Timespec now = Now();
            DirectoryChanged(dir, now, -1, 0);
            lock (victim.Sync)
            {
                victim.Nlink--;
                victim.Ctime = now;
                FreeIfUnused(victim);
            }
            return 0;
        }
        finally
        {
            _namespace.ExitWriteLock();
        }
    }

    public int RmDir(in Caller caller, ulong parent, ReadOnlySpan<byte> name)
    {
        _namespace.EnterWriteLock();
        try
        {
            int error = SearchDirectory(caller, parent, name, out MemoryInode? dir);
            if (error != 0)
            {
                return error;
            }
            if (IsDot(name))
            {
                return Errno.EINVAL;
            }
            if (IsDotDot(name))
            {
                return Errno.ENOTEMPTY;
            }
            DirEntry? found = dir!.Directory!.Find(name);
            if (found is null)
            {
                return Errno.ENOENT;
            }
            MemoryInode victim = found.Inode;
            error = MayDelete(caller, dir, victim);
            if (error != 0)
            {
                return error;
            }
            if (!victim.IsDirectory)
            {
                return Errno.ENOTDIR;
            }
            if (victim.Directory!.Count != 0)
            {
                return Errno.ENOTEMPTY;
            }
            dir.Directory.Remove(found);
            Timespec now = Now();
            DirectoryChanged(dir, now, -1, -1);
            lock (victim.Sync)
            {
                victim.Nlink = 0;
                victim.Ctime = now;
                FreeIfUnused(victim);
            }
            return 0;
        }
        finally
        {
            _namespace.ExitWriteLock();
        }
    }

    public int Rename(in Caller caller, ulong parent, ReadOnlySpan<byte> name, ulong newParent, ReadOnlySpan<byte> newName, RenameFlags flags)
    {
        if ((flags & ~(RenameFlags.NoReplace | RenameFlags.Exchange | RenameFlags.Whiteout)) != 0
            || (flags & (RenameFlags.NoReplace | RenameFlags.Exchange)) == (RenameFlags.NoReplace | RenameFlags.Exchange)
            || (flags & RenameFlags.Whiteout) != 0)
        {
            return Errno.EINVAL; // whiteouts (overlayfs) are not supported
        }
        bool exchange = (flags & RenameFlags.Exchange) != 0;
        _namespace.EnterWriteLock();
        try
        {
            int error = SearchDirectory(caller, parent, name, out MemoryInode? oldDir);
            if (error == 0)
            {
                error = SearchDirectory(caller, newParent, newName, out MemoryInode? dir);
                if (error == 0)
                {
                    return RenameLocked(caller, oldDir!, name, dir!, newName, flags, exchange);
                }
            }
            return error;
        }
        finally
        {
            _namespace.ExitWriteLock();
        }
    }

    private int RenameLocked(in Caller caller, MemoryInode oldDir, ReadOnlySpan<byte> name, MemoryInode newDir, ReadOnlySpan<byte> newName, RenameFlags flags, bool exchange)
    {
        if (IsDot(name) || IsDotDot(name))
        {
            return Errno.EBUSY;
        }
        if (IsDot(newName) || IsDotDot(newName))
        {
            return (flags & RenameFlags.NoReplace) != 0 ? Errno.EEXIST : Errno.EBUSY;
        }
        DirEntry? source = oldDir.Directory!.Find(name);
        if (source is null)
        {
            return Errno.ENOENT;
        }
        DirEntry? target = newDir.Directory!.Find(newName);
        if (target is not null && (flags & RenameFlags.NoReplace) != 0)
        {
            return Errno.EEXIST;
        }
        if (target is null && exchange)
        {
            return Errno.ENOENT;
        }
        MemoryInode moved = source.Inode;
        MemoryInode? replaced = target?.Inode;
        bool movedIsDir = moved.IsDirectory;
        bool replacedIsDir = replaced?.IsDirectory ?? false;

        // The kernel's "trap" checks: a directory cannot move into itself, nor replace one of its ancestors.
        if (movedIsDir && IsSelfOrAncestor(moved, newDir))
        {
            return Errno.EINVAL;
        }
        if (replacedIsDir && IsSelfOrAncestor(replaced!, oldDir))
        {
            return exchange ? Errno.EINVAL : Errno.ENOTEMPTY;
        }
        if (ReferenceEquals(moved, replaced))
        {
            return 0; // two names of one inode: POSIX says do nothing
        }

        // vfs_rename: may_delete the source, may_create or may_delete the target, then '..' needs write access.
        int error = MayDelete(caller, oldDir, moved);
        if (error != 0)
        {
            return error;
        }
        if (replaced is null)
        {
            if (!Permissions.May(caller, newDir, Permissions.Write | Permissions.Exec))
            {
                return Errno.EACCES;
            }
        }
        else
        {
            error = MayDelete(caller, newDir, replaced);
            if (error != 0)
            {
                return error;
            }
            if (!exchange && movedIsDir != replacedIsDir)
            {
                return movedIsDir ? Errno.ENOTDIR : Errno.EISDIR;
            }
        }
        if (!ReferenceEquals(oldDir, newDir))
        {
            if (movedIsDir && !Permissions.May(caller, moved, Permissions.Write))
            {
                return Errno.EACCES;
            }
            if (exchange && replacedIsDir && !Permissions.May(caller, replaced!, Permissions.Write))
            {
                return Errno.EACCES;
            }
            if (_options.MaxLinks != 0
                && ((movedIsDir && !replacedIsDir && newDir.Nlink >= _options.MaxLinks)
                    || (exchange && replacedIsDir && !movedIsDir && oldDir.Nlink >= _options.MaxLinks)))
            {
                return Errno.EMLINK;
            }
        }
        if (!exchange && replacedIsDir && replaced!.Directory!.Count != 0)
        {
            return Errno.ENOTEMPTY;
        }

        Timespec now = Now();
        if (exchange)
        {
            source.Inode = replaced!;
            target!.Inode = moved;
            if (movedIsDir)
            {
                moved.Directory!.Parent = newDir;
            }
            if (replacedIsDir)
            {
                replaced!.Directory!.Parent = oldDir;
            }
            int shift = ReferenceEquals(oldDir, newDir) || movedIsDir == replacedIsDir ? 0 : movedIsDir ? 1 : -1;
            DirectoryChanged(oldDir, now, 0, -shift);
            if (!ReferenceEquals(oldDir, newDir))
            {
                DirectoryChanged(newDir, now, 0, shift);
            }
        }
        else
        {
            if (target is not null)
            {
                newDir.Directory.Remove(target);
                DirectoryChanged(newDir, now, -1, replacedIsDir ? -1 : 0);
            }
            oldDir.Directory.Remove(source);
            newDir.Directory.Add(newName, moved);
            if (movedIsDir)
            {
                moved.Directory!.Parent = newDir;
            }
            DirectoryChanged(oldDir, now, -1, movedIsDir ? -1 : 0);
            DirectoryChanged(newDir, now, 1, movedIsDir ? 1 : 0);
        }
        lock (moved.Sync)
        {
            moved.Ctime = now;
        }
        if (replaced is not null)
        {
            lock (replaced.Sync)
            {
                replaced.Ctime = now;
                if (!exchange)
                {
                    replaced.Nlink = replacedIsDir ? 0 : replaced.Nlink - 1;
                    FreeIfUnused(replaced);
                }
            }
        }
        return 0;
    }

    /// <summary>True when <paramref name="dir"/> is <paramref name="candidate"/> or lies below it.</summary>
    private static bool IsSelfOrAncestor(MemoryInode candidate, MemoryInode dir)
    {
        for (MemoryInode current = dir; ; current = current.Directory!.Parent)
        {
            if (ReferenceEquals(current, candidate))
            {
                return true;
            }
            if (current.Ino == IFileSystem.RootIno)
            {
                return false;
            }
        }
    }

    /// <summary>may_delete: write and search permission on the directory, and the sticky-bit rule.</summary>
    private static int MayDelete(in Caller caller, MemoryInode dir, MemoryInode victim)
    {
        if (!Permissions.May(caller, dir, Permissions.Write | Permissions.Exec))
        {
            return Errno.EACCES;
        }
        return Permissions.StickyAllows(caller, dir, victim) ? 0 : Errno.EPERM;
    }

    /// <summary>
    /// The checks before a name is made in <paramref name="parent"/>: the walk to it, the name, that it is free,
    /// write permission, and room for one more inode. The namespace lock is write-held.
    /// </summary>
    private int CheckCreate(in Caller caller, ulong parent, ReadOnlySpan<byte> name, out MemoryInode? dir)
    {
        int error = SearchDirectory(caller, parent, name, out dir);
        if (error != 0)
        {
            return error;
        }
        if (IsDot(name) || IsDotDot(name) || dir!.Directory!.Find(name) is not null)
        {
            return Errno.EEXIST;
        }
        if (!Permissions.May(caller, dir, Permissions.Write | Permissions.Exec))
        {
            return Errno.EACCES;
        }
        return Interlocked.Read(ref _inodeCount) >= _options.MaxInodes ? Errno.ENOSPC : 0;
    }

    /// <summary>
    /// vfs_prepare_mode: drops sgid from a group-executable file made in a setgid directory by someone outside its
    /// group, applies the umask, keeps only <paramref name="allowed"/>.
    /// </summary>
    private static uint PrepareMode(in Caller caller, MemoryInode dir, uint mode, uint umask, uint allowed, uint type)
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
    /// new directory also the setgid bit.
    /// </summary>
    private MemoryInode NewInode(in Caller caller, MemoryInode dir, uint mode)
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
        var inode = new MemoryInode((ulong)Interlocked.Increment(ref _nextIno), mode, caller.Uid, gid, Now());
        _inodes[inode.Ino] = inode;
        Interlocked.Increment(ref _inodeCount);
        return inode;
    }

    /// <summary>Enters a new inode in a directory with one link and one lookup.</summary>
    private void AddNew(MemoryInode dir, ReadOnlySpan<byte> name, MemoryInode inode, out EntryOut entry)
    {
        dir.Directory!.Add(name, inode);
        lock (inode.Sync)
        {
            inode.Nlink++;
            inode.Lookups = 1;
        }
        DirectoryChanged(dir, inode.Ctime, 1, inode.IsDirectory ? 1 : 0);
        inode.FillEntry(out entry);
    }
}
