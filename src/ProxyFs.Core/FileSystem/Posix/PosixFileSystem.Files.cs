using ProxyFs.Core.FileSystem.Inodes;

namespace ProxyFs.Core.FileSystem.Posix;

/// <summary>Opening, reading, writing and closing regular files.</summary>
public partial class PosixFileSystem
{
    /// <summary>
    /// may_open: type checks, then read/write permission from the access mode (O_TRUNC needs write), then
    /// O_NOATIME only for the owner. O_TRUNC empties a regular file and updates mtime and ctime even if it was
    /// empty; O_CREAT and O_EXCL are the kernel's business (it sends Create).
    /// </summary>
    public int Open(in Caller caller, ulong ino, int flags, out OpenResult result)
    {
        result = default;
        bool truncate = (flags & OpenFlags.O_TRUNC) != 0;
        using InodeOperation? op = truncate ? _store.BeginOperation(OperationKind.Open) : null;
        if (_store.Acquire(ino, out Inode inode) != 0)
        {
            return Errno.ENOENT;
        }
        try
        {
            int error = CheckOpen(caller, inode, flags);
            if (error != 0)
            {
                return error;
            }
            lock (inode.Sync)
            {
                if (inode.Freed)
                {
                    return Errno.ENOENT;
                }
                if (truncate && inode.Data is { } data)
                {
                    data.Truncate(op!, 0);
                    inode.Size = 0;
                    inode.Mode &= ~Permissions.KillOnModify(caller, inode, force: false);
                    Timespec now = _store.Now();
                    inode.Mtime = now;
                    inode.Ctime = now;
                    _store.Update(op!, inode);
                }
                inode.Opens++;
                op?.Commit();
            }
            result.Handle = AddHandle(new OpenHandle(inode, flags, inode.IsDirectory));
            result.Flags = FileOpenFlags;
            return 0;
        }
        finally
        {
            _store.Unpin(inode);
        }
    }

    /// <summary>What every open of a file tells the kernel: no flush on close when the store's Flush does nothing.</summary>
    private OpenReplyFlags FileOpenFlags => _store.FlushesOnClose ? OpenReplyFlags.None : OpenReplyFlags.NoFlush;

    private static int CheckOpen(in Caller caller, Inode inode, int flags)
    {
        if (inode.IsSymlink)
        {
            return Errno.ELOOP;
        }
        int access = flags & OpenFlags.O_ACCMODE;
        bool truncate = (flags & OpenFlags.O_TRUNC) != 0;
        if (inode.IsDirectory && (access != OpenFlags.O_RDONLY || truncate))
        {
            return Errno.EISDIR;
        }
        int mask = access switch
        {
            OpenFlags.O_WRONLY => Permissions.Write,
            OpenFlags.O_RDWR => Permissions.Read | Permissions.Write,
            _ => Permissions.Read,
        };
        if (truncate)
        {
            mask |= Permissions.Write;
        }
        if (!Permissions.May(caller, inode, mask))
        {
            return Errno.EACCES;
        }
        return (flags & OpenFlags.O_NOATIME) != 0 && !Permissions.IsOwnerOrRoot(caller, inode) ? Errno.EPERM : 0;
    }

    public int Create(in Caller caller, ulong parent, ReadOnlySpan<byte> name, uint mode, uint umask, int flags, out EntryOut entry, out OpenResult result)
    {
        entry = default;
        result = default;
        uint type = mode & ModeBits.S_IFMT;
        if (type != 0 && type != ModeBits.S_IFREG)
        {
            return Errno.EINVAL;
        }
        Inode? dir = null;
        Inode? inode = null;
        try
        {
            using (InodeOperation op = _store.BeginOperation(OperationKind.Create))
            {
                _namespace.EnterWriteLock();
                try
                {
                    int error = CheckCreate(caller, parent, name, out dir);
                    if (error != 0)
                    {
                        return error;
                    }
                    uint perms = PrepareMode(caller, dir!, mode, umask, ModeBits.PermissionMask, ModeBits.S_IFREG);
                    using var locks = new InodeLocks(dir!);
                    error = NewInode(op, caller, dir!, ModeBits.S_IFREG | perms, 0, default, out inode);
                    if (error != 0)
                    {
                        return error;
                    }
                    lock (inode!.Sync)
                    {
                        inode.Opens = 1;
                        AddNew(op, dir!, name, inode, out entry);
                        op.Commit();
                    }
                }
                finally
                {
                    _namespace.ExitWriteLock();
                }
            }
            // A file made by this open is opened whatever its mode says, and is not truncated.
            result.Handle = AddHandle(new OpenHandle(inode, flags & ~OpenFlags.O_TRUNC, false));
            result.Flags = FileOpenFlags;
            return 0;
        }
        finally
        {
            Unpin(inode);
            Unpin(dir);
        }
    }

    /// <summary>
    /// O_TMPFILE: an unnamed regular file with no links, open for writing. Unless O_EXCL was given, Link may give
    /// it a name later.
    /// </summary>
    public int TmpFile(in Caller caller, ulong parent, uint mode, uint umask, int flags, out EntryOut entry, out OpenResult result)
    {
        entry = default;
        result = default;
        if ((flags & OpenFlags.O_ACCMODE) is not (OpenFlags.O_WRONLY or OpenFlags.O_RDWR))
        {
            return Errno.EINVAL;
        }
        Inode? dir = null;
        Inode? inode = null;
        try
        {
            using (InodeOperation op = _store.BeginOperation(OperationKind.TmpFile))
            {
                _namespace.EnterWriteLock();
                try
                {
                    int error = CheckTmpFile(caller, parent, out dir);
                    if (error != 0)
                    {
                        return error;
                    }
                    uint perms = PrepareMode(caller, dir!, mode, umask, ModeBits.PermissionMask, ModeBits.S_IFREG);
                    error = NewInode(op, caller, dir!, ModeBits.S_IFREG | perms, 0, default, out inode);
                    if (error != 0)
                    {
                        return error;
                    }
                    lock (inode!.Sync)
                    {
                        inode.Linkable = (flags & OpenFlags.O_EXCL) == 0;
                        inode.Lookups = 1;
                        inode.Opens = 1;
                        FillEntry(inode, out entry);
                        op.Commit();
                    }
                }
                finally
                {
                    _namespace.ExitWriteLock();
                }
            }
            result.Handle = AddHandle(new OpenHandle(inode, flags & ~(OpenFlags.O_TRUNC | OpenFlags.O_TMPFILE), false));
            result.Flags = FileOpenFlags;
            return 0;
        }
        finally
        {
            Unpin(inode);
            Unpin(dir);
        }
    }

    /// <summary>The checks of O_TMPFILE in <paramref name="parent"/>; the directory comes back pinned once found.</summary>
    private int CheckTmpFile(in Caller caller, ulong parent, out Inode? dir)
    {
        dir = null;
        if (_store.Acquire(parent, out Inode found) != 0)
        {
            return Errno.ENOENT;
        }
        dir = found;
        if (found.Directory is null)
        {
            return Errno.ENOTDIR;
        }
        if (!Permissions.May(caller, found, Permissions.Write | Permissions.Exec))
        {
            return Errno.EACCES;
        }
        if (found.Nlink == 0)
        {
            return Errno.ENOENT;
        }
        return _store.HasRoomForInode ? 0 : Errno.ENOSPC;
    }

    public int Read(in Caller caller, ulong ino, ulong handle, long offset, Span<byte> destination, out int bytesRead)
    {
        bytesRead = 0;
        int error = GetHandle(ino, handle, out OpenHandle? open);
        if (error != 0)
        {
            return error;
        }
        if (open!.IsDirectory)
        {
            return Errno.EISDIR;
        }
        if (!open.CanRead)
        {
            return Errno.EBADF;
        }
        if (offset < 0)
        {
            return Errno.EINVAL;
        }
        Inode inode = open.Inode;
        FileReadPlan? plan = null;
        lock (inode.Sync)
        {
            if (inode.Data is not { } data)
            {
                return Errno.EINVAL;
            }
            // Where the bytes are is resolved here; a store behind them is waited for after the lock (the open handle
            // keeps the inode), so a cold read holds back neither stat nor writes nor other reads of the file.
            bytesRead = ReadableBytes(inode, offset, destination.Length);
            plan = bytesRead > 0 ? data.PlanRead(offset, bytesRead) : null;
            if (plan is null && bytesRead > 0)
            {
                data.Read(offset, destination[..bytesRead]);
            }
            if (!destination.IsEmpty && !open.NoAtime)
            {
                TouchAtime(inode);
            }
        }
        if (plan is not null && !plan.TryRead(destination[..bytesRead]))
        {
            // A segment the plan pointed at was collected meanwhile (the range was rewritten): what the file holds now.
            lock (inode.Sync)
            {
                bytesRead = ReadableBytes(inode, offset, destination.Length);
                inode.Data!.Read(offset, destination[..bytesRead]);
            }
        }
        return 0;
    }

    /// <summary>How many of <paramref name="wanted"/> bytes at <paramref name="offset"/> the file has (its lock held).</summary>
    private static int ReadableBytes(Inode inode, long offset, int wanted) => offset < inode.Size ? (int)Math.Min(wanted, inode.Size - offset) : 0;

    /// <summary>
    /// Writes at <paramref name="offset"/>, or at the end of the file for a handle opened with O_APPEND (unless
    /// the write comes from the kernel's writeback cache, which computed the offset itself). A write by anyone but
    /// root, or with <see cref="WriteFlags.KillSuidGid"/>, clears suid (and sgid when group-executable or the
    /// writer is outside the group).
    /// </summary>
    public int Write(in Caller caller, ulong ino, ulong handle, long offset, ReadOnlySpan<byte> data, WriteFlags flags, out int bytesWritten)
    {
        bytesWritten = 0;
        int error = GetHandle(ino, handle, out OpenHandle? open);
        if (error != 0)
        {
            return error;
        }
        if (open!.IsDirectory)
        {
            return Errno.EISDIR;
        }
        if (!open.CanWrite && (flags & WriteFlags.FromCache) == 0)
        {
            return Errno.EBADF;
        }
        if (offset < 0)
        {
            return Errno.EINVAL;
        }
        if (data.IsEmpty)
        {
            return 0;
        }
        Inode inode = open.Inode;
        using InodeOperation op = _store.BeginOperation(OperationKind.Write);
        lock (inode.Sync)
        {
            if (inode.Data is not { } store)
            {
                return Errno.EINVAL;
            }
            if (open.Append && (flags & WriteFlags.FromCache) == 0)
            {
                offset = inode.Size;
            }
            if (offset >= _limits.MaxFileSize)
            {
                return Errno.EFBIG;
            }
            int count = (int)Math.Min(data.Length, _limits.MaxFileSize - offset);
            error = store.Write(op, offset, data[..count]);
            if (error != 0)
            {
                return error;
            }
            inode.Size = Math.Max(inode.Size, offset + count);
            inode.Mode &= ~Permissions.KillOnModify(caller, inode, (flags & WriteFlags.KillSuidGid) != 0);
            Timespec now = _store.Now();
            inode.Mtime = now;
            inode.Ctime = now;
            _store.Update(op, inode);
            op.Commit();
            bytesWritten = count;
        }
        return 0;
    }

    public int Flush(in Caller caller, ulong ino, ulong handle)
    {
        int error = GetHandle(ino, handle, out OpenHandle? open);
        if (error != 0)
        {
            return error;
        }
        Inode inode = open!.Inode;
        _store.Pin(inode);
        try
        {
            return _store.Flush(inode);
        }
        finally
        {
            _store.Unpin(inode);
        }
    }

    public int Release(ulong ino, ulong handle)
    {
        if (!_handles.TryRemove(handle, out OpenHandle? open))
        {
            return Errno.EBADF;
        }
        Inode inode = open.Inode;
        _store.Pin(inode);
        try
        {
            using (InodeOperation op = _store.BeginOperation(OperationKind.Release))
            {
                lock (inode.Sync)
                {
                    inode.Opens--;
                    FreeIfUnused(op, inode);
                    op.Commit();
                }
            }
            _store.HandleReleased(inode);
            return 0;
        }
        finally
        {
            _store.Unpin(inode);
        }
    }

    public int Fsync(in Caller caller, ulong ino, ulong handle, bool dataOnly)
    {
        int error = GetHandle(ino, handle, out OpenHandle? open);
        if (error != 0)
        {
            return error;
        }
        Inode inode = open!.Inode;
        _store.Pin(inode);
        try
        {
            return open.IsDirectory ? _store.FsyncDirectory(inode, dataOnly) : _store.Fsync(inode, dataOnly);
        }
        finally
        {
            _store.Unpin(inode);
        }
    }

    private ulong AddHandle(OpenHandle open)
    {
        ulong handle = (ulong)Interlocked.Increment(ref _nextHandle);
        _handles[handle] = open;
        return handle;
    }

    private int GetHandle(ulong ino, ulong handle, out OpenHandle? open)
    {
        if (!_handles.TryGetValue(handle, out open) || open.Inode.Ino != ino)
        {
            open = null;
            return Errno.EBADF;
        }
        return 0;
    }
}
