using System.Text;
using ProxyFs.Core.FileSystem;

namespace ProxyFs.Testing.Posix;

/// <summary>Attributes and names: stat, chmod, chown, utimensat, access, mkdir, rename, link…</summary>
public sealed partial class FileSystemTarget
{
    public int Stat(string path, out PosixStat stat) => StatPath(path, true, out stat);

    public int LStat(string path, out PosixStat stat) => StatPath(path, false, out stat);

    private int StatPath(string path, bool follow, out PosixStat stat)
    {
        stat = default;
        int error = ResolveExisting(path, follow, out EntryOut entry);
        if (error == 0)
        {
            stat = ToStat(entry.Attr);
        }
        return Done(error);
    }

    public int FStat(int fd, out PosixStat stat)
    {
        stat = default;
        if (GetFile(fd, out OpenFile file) != 0)
        {
            return Errno.EBADF;
        }
        int error = _fs.GetAttr(Caller, file.Ino, out InodeAttr attr);
        if (error == 0)
        {
            stat = ToStat(attr);
        }
        return error;
    }

    private static PosixStat ToStat(in InodeAttr a) => new(
        a.Ino, a.Mode, a.Nlink, a.Uid, a.Gid,
        RdevMajor: (a.Rdev >> 8) & 0xFFF,
        RdevMinor: (a.Rdev & 0xFF) | ((a.Rdev >> 12) & 0xFFF00),
        (long)a.Size, (long)a.Blocks, a.BlockSize, a.Atime, a.Mtime, a.Ctime);

    public int Chmod(string path, uint mode)
    {
        int error = ResolveExisting(path, true, out EntryOut entry);
        if (error != 0)
        {
            return Done(error);
        }
        var change = new SetAttrIn { Fields = SetAttrFields.Mode, Mode = mode & ModeBits.PermissionMask };
        return Done(_fs.SetAttr(Caller, entry.Ino, change, out _));
    }

    public int Chown(string path, int uid, int gid, bool followSymlinks = true)
    {
        int error = ResolveExisting(path, followSymlinks, out EntryOut entry);
        if (error != 0)
        {
            return Done(error);
        }
        var change = new SetAttrIn();
        // chown_common asks to kill suid (and sgid as setattr_should_drop_sgid says) on every non-directory, even
        // for chown(-1, -1); notify_change turns that into a mode change, which needs ownership.
        uint mode = entry.Attr.Mode;
        if (!ModeBits.IsDirectory(mode))
        {
            uint kill = mode & ModeBits.S_ISUID;
            if ((mode & ModeBits.S_ISGID) != 0 && ((mode & 0x8) != 0 || !(User.IsRoot || User.IsInGroup(entry.Attr.Gid))))
            {
                kill |= ModeBits.S_ISGID;
            }
            if (kill != 0)
            {
                change.Fields |= SetAttrFields.Mode;
                change.Mode = mode & ModeBits.PermissionMask & ~kill;
            }
        }
        if (uid != -1)
        {
            change.Fields |= SetAttrFields.Uid;
            change.Uid = (uint)uid;
        }
        if (gid != -1)
        {
            change.Fields |= SetAttrFields.Gid;
            change.Gid = (uint)gid;
        }
        return Done(_fs.SetAttr(Caller, entry.Ino, change, out _));
    }

    /// <summary>
    /// utimensat: both UTIME_OMIT does nothing (not even the path walk); both UTIME_NOW is a "touch" (sent as
    /// AtimeNow|MtimeNow); anything else sets what was given.
    /// </summary>
    public int Utimens(string path, PosixTime atime, PosixTime mtime, bool followSymlinks = true)
    {
        if (!Valid(atime) || !Valid(mtime))
        {
            return Errno.EINVAL;
        }
        if (atime.IsOmit && mtime.IsOmit)
        {
            return 0;
        }
        int error = ResolveExisting(path, followSymlinks, out EntryOut entry);
        if (error != 0)
        {
            return Done(error);
        }
        var change = new SetAttrIn();
        if (atime.IsNow)
        {
            change.Fields |= SetAttrFields.Atime | SetAttrFields.AtimeNow;
        }
        else if (!atime.IsOmit)
        {
            change.Fields |= SetAttrFields.Atime;
            change.Atime = new Timespec(atime.Seconds, (uint)atime.Nanoseconds);
        }
        if (mtime.IsNow)
        {
            change.Fields |= SetAttrFields.Mtime | SetAttrFields.MtimeNow;
        }
        else if (!mtime.IsOmit)
        {
            change.Fields |= SetAttrFields.Mtime;
            change.Mtime = new Timespec(mtime.Seconds, (uint)mtime.Nanoseconds);
        }
        return Done(_fs.SetAttr(Caller, entry.Ino, change, out _));

        static bool Valid(PosixTime t) => t.IsNow || t.IsOmit || t.Nanoseconds is >= 0 and <= 999_999_999;
    }

    public int Access(string path, int mask)
    {
        if ((mask & ~7) != 0)
        {
            return Errno.EINVAL;
        }
        int error = ResolveExisting(path, true, out EntryOut entry);
        return Done(error != 0 ? error : _fs.Access(Caller, entry.Ino, mask));
    }

    public int StatFs(string path, out PosixStatFs stat)
    {
        stat = default;
        int error = ResolveExisting(path, true, out EntryOut entry);
        if (error == 0)
        {
            error = _fs.StatFs(Caller, entry.Ino, out FsStats s);
            stat = new PosixStatFs(s.BlockSize, (long)s.Blocks, (long)s.BlocksFree, (long)s.BlocksAvailable, (long)s.Files, (long)s.FilesFree, s.NameMax);
        }
        return Done(error);
    }

    public int Mkdir(string path, uint mode)
    {
        int error = ResolveParent(path, out ulong parent, out byte[] name);
        if (error == 0)
        {
            error = _fs.MkDir(Caller, parent, name, mode, Umask, out EntryOut made);
            if (error == 0)
            {
                Counted(made.Ino);
            }
        }
        return Done(error);
    }

    public int Rmdir(string path)
    {
        int error = ResolveParent(path, out ulong parent, out byte[] name);
        return Done(error != 0 ? error : _fs.RmDir(Caller, parent, name));
    }

    public int Unlink(string path)
    {
        int error = ResolveParent(path, out ulong parent, out byte[] name);
        return Done(error != 0 ? error : _fs.Unlink(Caller, parent, name));
    }

    public int Rename(string from, string to, RenameFlags flags = RenameFlags.None)
    {
        if ((flags & ~(RenameFlags.NoReplace | RenameFlags.Exchange | RenameFlags.Whiteout)) != 0
            || ((flags & RenameFlags.Exchange) != 0 && (flags & (RenameFlags.NoReplace | RenameFlags.Whiteout)) != 0))
        {
            return Errno.EINVAL;
        }
        int error = ResolveParent(from, out ulong oldParent, out byte[] oldName);
        if (error == 0)
        {
            error = ResolveParent(to, out ulong newParent, out byte[] newName);
            if (error == 0)
            {
                error = _fs.Rename(Caller, oldParent, oldName, newParent, newName, flags);
            }
        }
        return Done(error);
    }

    /// <summary>
    /// link(2): the existing path is not followed; the new name must be free (EEXIST) before fs.protected_hardlinks
    /// is applied (EPERM unless the caller owns the file or could read and write a plain regular file).
    /// </summary>
    public int Link(string existing, string newPath)
    {
        int error = ResolveExisting(existing, false, out EntryOut source);
        if (error != 0)
        {
            return Done(error);
        }
        error = ResolveParent(newPath, out ulong parent, out byte[] name);
        if (error != 0)
        {
            return Done(error);
        }
        int lookup = _fs.Lookup(Caller, parent, name, out EntryOut existingTarget);
        if (lookup == 0)
        {
            Counted(existingTarget.Ino);
            return Done(Errno.EEXIST);
        }
        if (lookup != Errno.ENOENT)
        {
            return Done(lookup);
        }
        if (_protectedHardlinks && !MayLink(source))
        {
            return Done(Errno.EPERM);
        }
        error = _fs.Link(Caller, source.Ino, parent, name, out EntryOut linked);
        if (error == 0)
        {
            Counted(linked.Ino);
        }
        return Done(error);
    }

    public int LinkFd(int fd, string newPath)
    {
        if (GetFile(fd, out OpenFile file) != 0)
        {
            return Errno.EBADF;
        }
        int error = ResolveParent(newPath, out ulong parent, out byte[] name);
        if (error != 0)
        {
            return Done(error);
        }
        int lookup = _fs.Lookup(Caller, parent, name, out EntryOut existingTarget);
        if (lookup == 0)
        {
            Counted(existingTarget.Ino);
            return Done(Errno.EEXIST);
        }
        if (lookup != Errno.ENOENT)
        {
            return Done(lookup);
        }
        if (_fs.GetAttr(Caller, file.Ino, out InodeAttr attr) != 0)
        {
            return Done(Errno.ENOENT);
        }
        if (_protectedHardlinks && !MayLink(new EntryOut { Ino = file.Ino, Attr = attr }))
        {
            return Done(Errno.EPERM);
        }
        error = _fs.Link(Caller, file.Ino, parent, name, out EntryOut linked);
        if (error == 0)
        {
            Counted(linked.Ino);
        }
        return Done(error);
    }

    private bool MayLink(in EntryOut source)
    {
        uint mode = source.Attr.Mode;
        if (User.IsRoot || User.Uid == source.Attr.Uid)
        {
            return true;
        }
        const uint sgidAndGroupExec = ModeBits.S_ISGID | 0x8;
        return ModeBits.IsRegular(mode) && (mode & ModeBits.S_ISUID) == 0 && (mode & sgidAndGroupExec) != sgidAndGroupExec
            && _fs.Access(Caller, source.Ino, AccessMode.R_OK | AccessMode.W_OK) == 0;
    }

    public int Symlink(string target, string linkPath)
    {
        if (target.Length == 0)
        {
            return Errno.ENOENT;
        }
        if (Encoding.UTF8.GetByteCount(target) >= PathMax)
        {
            return Errno.ENAMETOOLONG;
        }
        int error = ResolveParent(linkPath, out ulong parent, out byte[] name);
        if (error == 0)
        {
            error = _fs.Symlink(Caller, parent, name, Encoding.UTF8.GetBytes(target), out EntryOut made);
            if (error == 0)
            {
                Counted(made.Ino);
            }
        }
        return Done(error);
    }

    public int ReadLink(string path, out string target)
    {
        target = string.Empty;
        int error = ResolveExisting(path, false, out EntryOut entry);
        if (error != 0)
        {
            return Done(error);
        }
        if (!ModeBits.IsSymlink(entry.Attr.Mode))
        {
            return Done(Errno.EINVAL);
        }
        byte[] buffer = new byte[PathMax];
        error = _fs.ReadLink(Caller, entry.Ino, buffer, out int length);
        if (error == 0)
        {
            target = Encoding.UTF8.GetString(buffer, 0, length);
        }
        return Done(error);
    }

    public int Mknod(string path, uint mode, uint major, uint minor)
    {
        uint type = mode & ModeBits.S_IFMT;
        if (type == ModeBits.S_IFDIR)
        {
            return Errno.EPERM;
        }
        if (type is not (0 or ModeBits.S_IFREG or ModeBits.S_IFCHR or ModeBits.S_IFBLK or ModeBits.S_IFIFO or ModeBits.S_IFSOCK))
        {
            return Errno.EINVAL;
        }
        int error = ResolveParent(path, out ulong parent, out byte[] name);
        if (error == 0)
        {
            uint rdev = (minor & 0xFF) | ((major & 0xFFF) << 8) | ((minor & ~0xFFu) << 12);
            error = _fs.MkNod(Caller, parent, name, mode, rdev, Umask, out EntryOut made);
            if (error == 0)
            {
                Counted(made.Ino);
            }
        }
        return Done(error);
    }
}
