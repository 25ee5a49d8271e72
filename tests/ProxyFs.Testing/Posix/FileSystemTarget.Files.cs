using ProxyFs.Core.FileSystem;

namespace ProxyFs.Testing.Posix;

/// <summary>Open files: open/creat, read/write, seek, truncate, fallocate, copy_file_range.</summary>
public sealed partial class FileSystemTarget
{
    public int Open(string path, int flags, uint mode, out int fd)
    {
        fd = -1;
        return Done(OpenCore(path, flags, mode, out fd));
    }

    private int OpenCore(string path, int flags, uint mode, out int fd)
    {
        fd = -1;
        int access = flags & OpenFlags.O_ACCMODE;
        if ((flags & OpenFlags.O_TMPFILE) == OpenFlags.O_TMPFILE)
        {
            if (access is not (OpenFlags.O_WRONLY or OpenFlags.O_RDWR) || (flags & OpenFlags.O_CREAT) != 0)
            {
                return Errno.EINVAL;
            }
            int walk = ResolveExisting(path, true, out EntryOut dir);
            if (walk != 0)
            {
                return walk;
            }
            if (!ModeBits.IsDirectory(dir.Attr.Mode))
            {
                return Errno.ENOTDIR;
            }
            // O_EXCL stays: it says whether the file may be linked later.
            int made = _fs.TmpFile(Caller, dir.Ino, mode, Umask, flags & ~(OpenFlags.O_CREAT | OpenFlags.O_NOCTTY), out EntryOut tmp, out OpenResult tmpOpen);
            if (made != 0)
            {
                return made;
            }
            Counted(tmp.Ino);
            fd = AddFd(tmp.Ino, tmpOpen.Handle, flags, isDirectory: false);
            return 0;
        }
        if ((flags & (OpenFlags.O_CREAT | OpenFlags.O_DIRECTORY)) == (OpenFlags.O_CREAT | OpenFlags.O_DIRECTORY))
        {
            return Errno.EINVAL;
        }
        bool create = (flags & OpenFlags.O_CREAT) != 0;
        bool exclusive = create && (flags & OpenFlags.O_EXCL) != 0;
        bool follow = (flags & OpenFlags.O_NOFOLLOW) == 0 && !exclusive;
        int error = Resolve(path, follow, out Resolved resolved);
        if (error != 0)
        {
            return error;
        }
        if (!resolved.Exists)
        {
            if (!create || resolved.LookupError != Errno.ENOENT)
            {
                return resolved.LookupError;
            }
            if (path.EndsWith('/'))
            {
                return Errno.EISDIR;
            }
            error = _fs.Create(Caller, resolved.Parent, System.Text.Encoding.UTF8.GetBytes(resolved.Name), mode, Umask,
                flags & ~OpenFlagsNotSent, out EntryOut made, out OpenResult opened);
            if (error != 0)
            {
                return error;
            }
            Counted(made.Ino);
            fd = AddFd(made.Ino, opened.Handle, flags, isDirectory: false);
            return 0;
        }
        EntryOut entry = resolved.Entry;
        uint type = entry.Attr.Mode & ModeBits.S_IFMT;
        if (exclusive)
        {
            return Errno.EEXIST;
        }
        // do_open's order: O_CREAT on a directory, then O_DIRECTORY, then may_open (a symlink is ELOOP).
        if (create && type == ModeBits.S_IFDIR)
        {
            return Errno.EISDIR;
        }
        if (create && !MayCreateInSticky(resolved.Parent, entry.Attr))
        {
            return Errno.EACCES;
        }
        if ((flags & OpenFlags.O_DIRECTORY) != 0 && type != ModeBits.S_IFDIR)
        {
            return Errno.ENOTDIR;
        }
        if (type == ModeBits.S_IFLNK)
        {
            return Errno.ELOOP; // O_NOFOLLOW on a symlink
        }
        if (type == ModeBits.S_IFDIR)
        {
            if (access != OpenFlags.O_RDONLY || (flags & OpenFlags.O_TRUNC) != 0)
            {
                return Errno.EISDIR;
            }
            error = _fs.OpenDir(Caller, entry.Ino, flags & ~OpenFlagsNotSent, out OpenResult dirOpen);
            if (error != 0)
            {
                return error;
            }
            fd = AddFd(entry.Ino, dirOpen.Handle, flags, isDirectory: true);
            return 0;
        }
        if (type == ModeBits.S_IFSOCK)
        {
            // The kernel serves special files itself: may_open's permission checks, then a socket cannot be opened.
            int mask = access switch
            {
                OpenFlags.O_WRONLY => AccessMode.W_OK,
                OpenFlags.O_RDWR => AccessMode.R_OK | AccessMode.W_OK,
                _ => AccessMode.R_OK,
            };
            if ((flags & OpenFlags.O_TRUNC) != 0)
            {
                mask |= AccessMode.W_OK; // build_open_flags asks for write access with O_TRUNC, whatever the type
            }
            error = _fs.Access(Caller, entry.Ino, mask);
            if (error != 0)
            {
                return error;
            }
            if ((flags & OpenFlags.O_NOATIME) != 0 && !User.IsRoot && User.Uid != entry.Attr.Uid)
            {
                return Errno.EPERM;
            }
            return Errno.ENXIO;
        }
        if (type != ModeBits.S_IFREG)
        {
            throw new NotSupportedException("FileSystemTarget does not open fifos or devices");
        }
        error = _fs.Open(Caller, entry.Ino, flags & ~OpenFlagsNotSent, out OpenResult fileOpen);
        if (error != 0)
        {
            return error;
        }
        fd = AddFd(entry.Ino, fileOpen.Handle, flags, isDirectory: false);
        return 0;
    }

    /// <summary>
    /// may_create_in_sticky: O_CREAT finding an existing entry in a sticky, world-writable directory is refused when
    /// the entry belongs neither to the caller nor to the directory's owner, for every type but regular files and
    /// fifos (those only under fs.protected_regular / fs.protected_fifos).
    /// </summary>
    private bool MayCreateInSticky(ulong parent, in InodeAttr inode)
    {
        if (_fs.GetAttr(Caller, parent, out InodeAttr dir) != 0 || (dir.Mode & ModeBits.S_ISVTX) == 0)
        {
            return true;
        }
        uint type = inode.Mode & ModeBits.S_IFMT;
        int level = type == ModeBits.S_IFREG ? _protectedRegular : type == ModeBits.S_IFIFO ? _protectedFifos : -1;
        if (level == 0 || inode.Uid == dir.Uid || inode.Uid == User.Uid)
        {
            return true;
        }
        if ((dir.Mode & 0x2) != 0)
        {
            return false;
        }
        return !((dir.Mode & 0x10) != 0 && level >= 2);
    }

    /// <summary>Registers an open file; it keeps one of this operation's lookup references until it is closed.</summary>
    private int AddFd(ulong ino, ulong handle, int flags, bool isDirectory)
    {
        var file = new OpenFile(ino, handle, flags, isDirectory);
        if (_lookups.TryGetValue(ino, out ulong count))
        {
            if (count == 1)
            {
                _lookups.Remove(ino);
            }
            else
            {
                _lookups[ino] = count - 1;
            }
            file.HoldsLookup = true;
        }
        int fd = 3;
        while (_fds.ContainsKey(fd))
        {
            fd++;
        }
        _fds[fd] = file;
        return fd;
    }

    public int Close(int fd)
    {
        if (!_fds.Remove(fd, out OpenFile? file))
        {
            return Errno.EBADF;
        }
        int error = file.IsDirectory ? 0 : _fs.Flush(Caller, file.Ino, file.Handle);
        ReleaseFile(file);
        return error;
    }

    private void ReleaseFile(OpenFile file)
    {
        if (file.IsDirectory)
        {
            _fs.ReleaseDir(file.Ino, file.Handle);
        }
        else
        {
            _fs.Release(file.Ino, file.Handle);
        }
        if (file.HoldsLookup)
        {
            _fs.Forget(file.Ino, 1);
        }
    }

    private int GetFile(int fd, out OpenFile file)
    {
        bool found = _fds.TryGetValue(fd, out OpenFile? value);
        file = value!;
        return found ? 0 : Errno.EBADF;
    }

    public int Read(int fd, Span<byte> buffer, out int count)
    {
        count = 0;
        if (GetFile(fd, out OpenFile file) != 0)
        {
            return Errno.EBADF;
        }
        int error = ReadAt(file, buffer, file.Position, out count);
        if (error == 0)
        {
            file.Position += count;
        }
        return error;
    }

    public int PRead(int fd, Span<byte> buffer, long offset, out int count)
    {
        count = 0;
        if (GetFile(fd, out OpenFile file) != 0)
        {
            return Errno.EBADF;
        }
        return offset < 0 ? Errno.EINVAL : ReadAt(file, buffer, offset, out count);
    }

    private int ReadAt(OpenFile file, Span<byte> buffer, long offset, out int count)
    {
        count = 0;
        if (offset > long.MaxValue - buffer.Length)
        {
            return Errno.EINVAL; // rw_verify_area: the range must not wrap
        }
        if (!file.CanRead)
        {
            return Errno.EBADF;
        }
        if (file.IsDirectory)
        {
            return Errno.EISDIR;
        }
        if (buffer.IsEmpty)
        {
            return 0;
        }
        return _fs.Read(Caller, file.Ino, file.Handle, offset, buffer, out count);
    }

    public int Write(int fd, ReadOnlySpan<byte> data, out int count)
    {
        count = 0;
        if (GetFile(fd, out OpenFile file) != 0)
        {
            return Errno.EBADF;
        }
        int error = WriteAt(file, data, file.Position, out count, out long end);
        if (error == 0)
        {
            file.Position = end;
        }
        return error;
    }

    public int PWrite(int fd, ReadOnlySpan<byte> data, long offset, out int count)
    {
        count = 0;
        if (GetFile(fd, out OpenFile file) != 0)
        {
            return Errno.EBADF;
        }
        return offset < 0 ? Errno.EINVAL : WriteAt(file, data, offset, out count, out _);
    }

    /// <summary>
    /// A write as the kernel sends it: nothing for zero bytes; with O_APPEND the offset is the size the kernel
    /// knows (the filesystem appends anyway). <paramref name="end"/> is where the file position goes.
    /// </summary>
    private int WriteAt(OpenFile file, ReadOnlySpan<byte> data, long offset, out int count, out long end)
    {
        count = 0;
        end = offset;
        if (offset > long.MaxValue - data.Length)
        {
            return Errno.EINVAL; // rw_verify_area: the range must not wrap
        }
        if (!file.CanWrite)
        {
            return Errno.EBADF;
        }
        if (file.IsDirectory)
        {
            return Errno.EISDIR;
        }
        if (data.IsEmpty)
        {
            return 0; // generic_write_checks: nothing to do, the position stays even with O_APPEND
        }
        bool append = (file.Flags & OpenFlags.O_APPEND) != 0;
        if (append && _fs.GetAttr(Caller, file.Ino, out InodeAttr before) == 0)
        {
            offset = (long)before.Size;
            end = offset;
        }
        int error = _fs.Write(Caller, file.Ino, file.Handle, offset, data, WriteFlags.None, out count);
        if (error == 0)
        {
            end = offset + count;
        }
        return error;
    }

    public int Seek(int fd, long offset, int whence, out long result)
    {
        result = 0;
        if (GetFile(fd, out OpenFile file) != 0)
        {
            return Errno.EBADF;
        }
        long target;
        switch (whence)
        {
            case SeekWhence.Set:
                target = offset;
                break;
            case SeekWhence.Current:
                target = file.Position + offset;
                break;
            case SeekWhence.End:
                if (_fs.GetAttr(Caller, file.Ino, out InodeAttr attr) != 0)
                {
                    return Errno.EBADF;
                }
                target = (long)attr.Size + offset;
                break;
            case SeekWhence.Data:
            case SeekWhence.Hole:
                if (file.IsDirectory)
                {
                    return Errno.EINVAL;
                }
                int error = _fs.Lseek(Caller, file.Ino, file.Handle, offset, whence, out target);
                if (error != 0)
                {
                    return error;
                }
                break;
            default:
                return Errno.EINVAL;
        }
        if (target < 0)
        {
            return Errno.EINVAL;
        }
        file.Position = target;
        result = target;
        return 0;
    }

    public int Truncate(string path, long length)
    {
        if (length < 0)
        {
            return Errno.EINVAL;
        }
        int error = ResolveExisting(path, true, out EntryOut entry);
        if (error != 0)
        {
            return Done(error);
        }
        var change = new SetAttrIn { Fields = SetAttrFields.Size, Size = (ulong)length };
        return Done(_fs.SetAttr(Caller, entry.Ino, change, out _));
    }

    public int FTruncate(int fd, long length)
    {
        if (GetFile(fd, out OpenFile file) != 0)
        {
            return Errno.EBADF;
        }
        if (length < 0 || file.IsDirectory || !file.CanWrite)
        {
            return Errno.EINVAL;
        }
        var change = new SetAttrIn { Fields = SetAttrFields.Size | SetAttrFields.Handle, Size = (ulong)length, Handle = file.Handle };
        return _fs.SetAttr(Caller, file.Ino, change, out _);
    }

    public int Fsync(int fd, bool dataOnly)
    {
        if (GetFile(fd, out OpenFile file) != 0)
        {
            return Errno.EBADF;
        }
        return file.IsDirectory ? _fs.FsyncDir(Caller, file.Ino, file.Handle, dataOnly) : _fs.Fsync(Caller, file.Ino, file.Handle, dataOnly);
    }

    public int Fallocate(int fd, int mode, long offset, long length)
    {
        if (GetFile(fd, out OpenFile file) != 0)
        {
            return Errno.EBADF;
        }
        return _fs.Fallocate(Caller, file.Ino, file.Handle, mode, offset, length);
    }

    public int CopyFileRange(int fdIn, long? offsetIn, int fdOut, long? offsetOut, long length, out long copied)
    {
        copied = 0;
        if (GetFile(fdIn, out OpenFile input) != 0 || GetFile(fdOut, out OpenFile output) != 0)
        {
            return Errno.EBADF;
        }
        long inPos = offsetIn ?? input.Position;
        long outPos = offsetOut ?? output.Position;
        int error = _fs.CopyFileRange(Caller, input.Ino, input.Handle, inPos, output.Ino, output.Handle, outPos, length, out copied);
        if (error == 0)
        {
            if (offsetIn is null)
            {
                input.Position += copied;
            }
            if (offsetOut is null)
            {
                output.Position += copied;
            }
        }
        return error;
    }
}
