using ProxyFs.Core.FileSystem.Inodes;

namespace ProxyFs.Core.FileSystem.Posix;

/// <summary>rename and renameat2: NOREPLACE and EXCHANGE, the kernel's checks in the kernel's order.</summary>
public partial class PosixFileSystem
{
    public int Rename(in Caller caller, ulong parent, ReadOnlySpan<byte> name, ulong newParent, ReadOnlySpan<byte> newName, RenameFlags flags)
    {
        if ((flags & ~(RenameFlags.NoReplace | RenameFlags.Exchange | RenameFlags.Whiteout)) != 0
            || (flags & (RenameFlags.NoReplace | RenameFlags.Exchange)) == (RenameFlags.NoReplace | RenameFlags.Exchange)
            || (flags & RenameFlags.Whiteout) != 0)
        {
            return Errno.EINVAL; // whiteouts (overlayfs) are not supported
        }
        using InodeOperation op = _store.BeginOperation(OperationKind.Rename);
        var pins = new RenamePins();
        _namespace.EnterWriteLock();
        try
        {
            int error = SearchDirectory(caller, parent, name, out pins.OldDir);
            if (error == 0)
            {
                error = SearchDirectory(caller, newParent, newName, out pins.NewDir);
                if (error == 0)
                {
                    error = RenameLocked(op, caller, ref pins, name, newName, flags);
                }
            }
            return error;
        }
        finally
        {
            _namespace.ExitWriteLock();
            Unpin(pins.Replaced);
            Unpin(pins.Moved);
            Unpin(pins.NewDir);
            Unpin(pins.OldDir);
        }
    }

    private int RenameLocked(InodeOperation op, in Caller caller, ref RenamePins pins, ReadOnlySpan<byte> name, ReadOnlySpan<byte> newName, RenameFlags flags)
    {
        Inode oldDir = pins.OldDir!;
        Inode newDir = pins.NewDir!;
        bool exchange = (flags & RenameFlags.Exchange) != 0;
        if (IsDot(name) || IsDotDot(name))
        {
            return Errno.EBUSY;
        }
        if (IsDot(newName) || IsDotDot(newName))
        {
            return (flags & RenameFlags.NoReplace) != 0 ? Errno.EEXIST : Errno.EBUSY;
        }
        if (!oldDir.Directory!.TryFind(name, out DirectoryEntry source))
        {
            return Errno.ENOENT;
        }
        bool hasTarget = newDir.Directory!.TryFind(newName, out DirectoryEntry target);
        if (hasTarget && (flags & RenameFlags.NoReplace) != 0)
        {
            return Errno.EEXIST;
        }
        if (!hasTarget && exchange)
        {
            return Errno.ENOENT;
        }
        int error = _store.Acquire(source.Ino, out Inode moved);
        if (error != 0)
        {
            return error;
        }
        pins.Moved = moved;
        Inode? replaced = null;
        if (hasTarget)
        {
            error = _store.Acquire(target.Ino, out Inode found);
            if (error != 0)
            {
                return error;
            }
            pins.Replaced = replaced = found;
        }
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
        if (moved.Ino == replaced?.Ino)
        {
            return 0; // two names of one inode: POSIX says do nothing
        }
        error = CheckRename(caller, oldDir, newDir, moved, replaced, exchange);
        if (error != 0)
        {
            return error;
        }

        using var locks = new InodeLocks(oldDir, newDir, moved, replaced);
        Timespec now = _store.Now();
        if (exchange)
        {
            oldDir.Directory.Replace(op, name, replaced!.Ino, replaced.Type);
            newDir.Directory.Replace(op, newName, moved.Ino, moved.Type);
            int shift = oldDir.Ino == newDir.Ino || movedIsDir == replacedIsDir ? 0 : movedIsDir ? 1 : -1;
            DirectoryChanged(op, oldDir, now, 0, -shift);
            if (oldDir.Ino != newDir.Ino)
            {
                DirectoryChanged(op, newDir, now, 0, shift);
            }
        }
        else
        {
            if (replaced is not null)
            {
                newDir.Directory.Remove(op, newName);
                DirectoryChanged(op, newDir, now, -1, replacedIsDir ? -1 : 0);
            }
            oldDir.Directory.Remove(op, name);
            newDir.Directory.Add(op, newName, moved.Ino, moved.Type);
            DirectoryChanged(op, oldDir, now, -1, movedIsDir ? -1 : 0);
            DirectoryChanged(op, newDir, now, 1, movedIsDir ? 1 : 0);
        }
        moved.Ctime = now;
        if (movedIsDir)
        {
            moved.Parent = newDir.Ino;
        }
        _store.Update(op, moved);
        if (replaced is not null)
        {
            replaced.Ctime = now;
            if (exchange && replacedIsDir)
            {
                replaced.Parent = oldDir.Ino;
            }
            if (!exchange)
            {
                replaced.Nlink = replacedIsDir ? 0 : replaced.Nlink - 1;
            }
            _store.Update(op, replaced);
            if (!exchange)
            {
                FreeIfUnused(op, replaced);
            }
        }
        op.Commit();
        return 0;
    }

    /// <summary>
    /// vfs_rename's permission checks: may_delete the source, may_create or may_delete the target, then moving a
    /// directory to another parent needs write access to it (its ".." changes), and the link limit.
    /// </summary>
    private int CheckRename(in Caller caller, Inode oldDir, Inode newDir, Inode moved, Inode? replaced, bool exchange)
    {
        bool movedIsDir = moved.IsDirectory;
        bool replacedIsDir = replaced?.IsDirectory ?? false;
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
        if (oldDir.Ino != newDir.Ino)
        {
            if (movedIsDir && !Permissions.May(caller, moved, Permissions.Write))
            {
                return Errno.EACCES;
            }
            if (exchange && replacedIsDir && !Permissions.May(caller, replaced!, Permissions.Write))
            {
                return Errno.EACCES;
            }
            if (_limits.MaxLinks != 0
                && ((movedIsDir && !replacedIsDir && newDir.Nlink >= _limits.MaxLinks)
                    || (exchange && replacedIsDir && !movedIsDir && oldDir.Nlink >= _limits.MaxLinks)))
            {
                return Errno.EMLINK;
            }
        }
        if (!exchange && replacedIsDir && !replaced!.Directory!.IsEmpty)
        {
            return Errno.ENOTEMPTY;
        }
        return 0;
    }

    /// <summary>True when <paramref name="dir"/> is <paramref name="candidate"/> or lies below it (namespace lock held).</summary>
    private bool IsSelfOrAncestor(Inode candidate, Inode dir)
    {
        for (ulong current = dir.Ino; ; current = ParentOf(current))
        {
            if (current == candidate.Ino)
            {
                return true;
            }
            if (current == IFileSystem.RootIno)
            {
                return false;
            }
        }
    }

    /// <summary>The parent of a directory in the namespace (which the held namespace lock keeps consistent).</summary>
    private ulong ParentOf(ulong ino)
    {
        if (_store.Acquire(ino, out Inode dir) != 0)
        {
            throw new InvalidOperationException($"directory {ino} is on a path but does not exist");
        }
        ulong parent = dir.Parent;
        _store.Unpin(dir);
        return parent;
    }

    /// <summary>The inodes a rename pins: both directories, the moved inode and the one it replaces.</summary>
    private struct RenamePins
    {
        public Inode? OldDir;
        public Inode? NewDir;
        public Inode? Moved;
        public Inode? Replaced;
    }
}
