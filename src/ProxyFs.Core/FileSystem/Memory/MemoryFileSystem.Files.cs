using System.Buffers;

namespace ProxyFs.Core.FileSystem.Memory;

/// <summary>Opening, reading and writing regular files.</summary>
public sealed partial class MemoryFileSystem
{
    private const int CopyBufferSize = 256 * 1024;

    /// <summary>
    /// may_open: type checks, then read/write permission from the access mode (O_TRUNC needs write), then
    /// O_NOATIME only for the owner. O_TRUNC empties a regular file and updates mtime and ctime even if it was
    /// empty; O_CREAT and O_EXCL are the kernel's business (it sends Create).
    /// </summary>
    public int Open(in Caller caller, ulong ino, int flags, out OpenResult result)
    {
        result = default;
        if (!TryGetInode(ino, out MemoryInode inode))
        {
            return Errno.ENOENT;
        }
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
        if ((flags & OpenFlags.O_NOATIME) != 0 && !Permissions.IsOwnerOrRoot(caller, inode))
        {
            return Errno.EPERM;
        }
        lock (inode.Sync)
        {
            if (inode.Freed)
            {
                return Errno.ENOENT;
            }
            if (truncate && inode.Data is { } data)
            {
                long before = data.AllocatedPages;
                data.Truncate(0);
                ReleasePages(before - data.AllocatedPages);
                inode.Size = 0;
                inode.Mode &= ~Permissions.KillOnModify(caller, inode, force: false);
                Timespec now = Now();
                inode.Mtime = now;
                inode.Ctime = now;
            }
            inode.Opens++;
        }
        result.Handle = AddHandle(new OpenHandle(inode, flags, inode.IsDirectory));
        return 0;
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
        MemoryInode inode;
        _namespace.EnterWriteLock();
        try
        {
            int error = CheckCreate(caller, parent, name, out MemoryInode? dir);
            if (error != 0)
            {
                return error;
            }
            inode = NewInode(caller, dir!, ModeBits.S_IFREG | PrepareMode(caller, dir!, mode, umask, ModeBits.PermissionMask, ModeBits.S_IFREG));
            inode.Data = new SparseData();
            inode.Opens = 1;
            AddNew(dir!, name, inode, out entry);
        }
        finally
        {
            _namespace.ExitWriteLock();
        }
        // A file made by this open is opened whatever its mode says, and is not truncated.
        result.Handle = AddHandle(new OpenHandle(inode, flags & ~OpenFlags.O_TRUNC, false));
        return 0;
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
        MemoryInode inode;
        _namespace.EnterWriteLock();
        try
        {
            if (!TryGetInode(parent, out MemoryInode dir))
            {
                return Errno.ENOENT;
            }
            if (dir.Directory is null)
            {
                return Errno.ENOTDIR;
            }
            if (!Permissions.May(caller, dir, Permissions.Write | Permissions.Exec))
            {
                return Errno.EACCES;
            }
            if (dir.Nlink == 0)
            {
                return Errno.ENOENT;
            }
            if (Interlocked.Read(ref _inodeCount) >= _options.MaxInodes)
            {
                return Errno.ENOSPC;
            }
            inode = NewInode(caller, dir, ModeBits.S_IFREG | PrepareMode(caller, dir, mode, umask, ModeBits.PermissionMask, ModeBits.S_IFREG));
            inode.Data = new SparseData();
            inode.Linkable = (flags & OpenFlags.O_EXCL) == 0;
            inode.Lookups = 1;
            inode.Opens = 1;
            inode.FillEntry(out entry);
        }
        finally
        {
            _namespace.ExitWriteLock();
        }
        result.Handle = AddHandle(new OpenHandle(inode, flags & ~(OpenFlags.O_TRUNC | OpenFlags.O_TMPFILE), false));
        return 0;
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
        MemoryInode inode = open.Inode;
        lock (inode.Sync)
        {
            if (inode.Data is not { } data)
            {
                return Errno.EINVAL;
            }
            if (offset < inode.Size)
            {
                int count = (int)Math.Min(destination.Length, inode.Size - offset);
                data.Read(offset, destination[..count]);
                bytesRead = count;
            }
            if (!destination.IsEmpty && !open.NoAtime)
            {
                TouchAtime(inode);
            }
        }
        return 0;
    }

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
        MemoryInode inode = open.Inode;
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
            if (offset >= _options.MaxFileSize)
            {
                return Errno.EFBIG;
            }
            int count = (int)Math.Min(data.Length, _options.MaxFileSize - offset);
            long needed = store.PagesToAllocate(offset, count);
            if (!ReservePages(needed))
            {
                return Errno.ENOSPC;
            }
            store.Write(offset, data[..count]);
            inode.Size = Math.Max(inode.Size, offset + count);
            inode.Mode &= ~Permissions.KillOnModify(caller, inode, (flags & WriteFlags.KillSuidGid) != 0);
            Timespec now = Now();
            inode.Mtime = now;
            inode.Ctime = now;
            bytesWritten = count;
        }
        return 0;
    }

    public int Flush(in Caller caller, ulong ino, ulong handle) => GetHandle(ino, handle, out _);

    public int Release(ulong ino, ulong handle)
    {
        if (!_handles.TryRemove(handle, out OpenHandle? open))
        {
            return Errno.EBADF;
        }
        MemoryInode inode = open.Inode;
        lock (inode.Sync)
        {
            inode.Opens--;
            FreeIfUnused(inode);
        }
        return 0;
    }

    /// <summary>Memory is as durable as this filesystem gets: returns at once.</summary>
    public int Fsync(in Caller caller, ulong ino, ulong handle, bool dataOnly) => GetHandle(ino, handle, out _);

    /// <summary>
    /// vfs_fallocate then shmem_fallocate: allocate (optionally keeping the size) and punch holes (only with
    /// KEEP_SIZE). ZERO_RANGE is supported too (punch, then allocate). Every success updates mtime and ctime, even
    /// one that changes nothing, as tmpfs does.
    /// </summary>
    public int Fallocate(in Caller caller, ulong ino, ulong handle, int mode, long offset, long length)
    {
        if (offset < 0 || length <= 0)
        {
            return Errno.EINVAL;
        }
        bool keepSize = (mode & FallocateMode.KeepSize) != 0;
        switch (mode & ~FallocateMode.KeepSize)
        {
            case 0:
            case FallocateMode.ZeroRange:
                break;
            case FallocateMode.PunchHole when keepSize:
                break;
            default:
                return Errno.EOPNOTSUPP; // punch without KEEP_SIZE, collapse, insert, combinations, unknown bits
        }
        int error = GetHandle(ino, handle, out OpenHandle? open);
        if (error != 0)
        {
            return error;
        }
        if (!open!.CanWrite)
        {
            return Errno.EBADF;
        }
        MemoryInode inode = open.Inode;
        if (inode.IsDirectory)
        {
            return Errno.EISDIR;
        }
        if ((inode.Mode & ModeBits.S_IFMT) == ModeBits.S_IFIFO)
        {
            return Errno.ESPIPE;
        }
        if (!inode.IsRegular)
        {
            return Errno.ENODEV;
        }
        if (offset > _options.MaxFileSize - length)
        {
            return Errno.EFBIG;
        }
        lock (inode.Sync)
        {
            SparseData data = inode.Data!;
            long before = data.AllocatedPages;
            if ((mode & FallocateMode.PunchHole) != 0)
            {
                data.PunchHole(offset, length);
            }
            else
            {
                if ((mode & FallocateMode.ZeroRange) != 0)
                {
                    data.PunchHole(offset, length);
                    ReleasePages(before - data.AllocatedPages);
                    before = data.AllocatedPages;
                }
                long needed = data.PagesToAllocate(offset, length);
                if (!ReservePages(needed))
                {
                    return Errno.ENOSPC;
                }
                data.Allocate(offset, length);
                before += needed;
                if (!keepSize && offset + length > inode.Size)
                {
                    inode.Size = offset + length;
                }
            }
            ReleasePages(before - data.AllocatedPages);
            inode.Mode &= ~Permissions.KillOnModify(caller, inode, force: false);
            Timespec now = Now();
            inode.Mtime = now;
            inode.Ctime = now;
        }
        return 0;
    }

    /// <summary>
    /// SEEK_DATA and SEEK_HOLE, page by page as tmpfs: a page holds data once written; fallocated pages and holes
    /// are holes; the end of the file is a hole. ENXIO at or past the end.
    /// </summary>
    public int Lseek(in Caller caller, ulong ino, ulong handle, long offset, int whence, out long result)
    {
        result = 0;
        int error = GetHandle(ino, handle, out OpenHandle? open);
        if (error != 0)
        {
            return error;
        }
        if (whence is not (SeekWhence.Data or SeekWhence.Hole) || open!.Inode.Data is null)
        {
            return Errno.EINVAL;
        }
        MemoryInode inode = open.Inode;
        lock (inode.Sync)
        {
            long size = inode.Size;
            if (offset < 0 || offset >= size)
            {
                return Errno.ENXIO;
            }
            if (whence == SeekWhence.Data)
            {
                long found = inode.Data!.NextData(offset);
                if (found < 0 || found >= size)
                {
                    return Errno.ENXIO;
                }
                result = found;
            }
            else
            {
                result = Math.Min(inode.Data!.NextHole(offset), size);
            }
        }
        return 0;
    }

    /// <summary>
    /// copy_file_range: the checks of generic_copy_file_checks (regular files, readable source, writable
    /// non-append destination, no overlap within one file), the count cut at the source's end, then a copy in
    /// which holes become written zeros, as the kernel's splice fallback that tmpfs uses does.
    /// </summary>
    public int CopyFileRange(in Caller caller, ulong inoIn, ulong handleIn, long offsetIn, ulong inoOut, ulong handleOut, long offsetOut, long length, out long bytesCopied)
    {
        bytesCopied = 0;
        int error = GetHandle(inoIn, handleIn, out OpenHandle? input);
        if (error == 0)
        {
            error = GetHandle(inoOut, handleOut, out OpenHandle? output);
            if (error == 0)
            {
                return CopyChecked(caller, input!, offsetIn, output!, offsetOut, length, out bytesCopied);
            }
        }
        return error;
    }

    private int CopyChecked(in Caller caller, OpenHandle input, long offsetIn, OpenHandle output, long offsetOut, long length, out long bytesCopied)
    {
        bytesCopied = 0;
        MemoryInode source = input.Inode;
        MemoryInode destination = output.Inode;
        if (source.IsDirectory || destination.IsDirectory)
        {
            return Errno.EISDIR;
        }
        if (!source.IsRegular || !destination.IsRegular)
        {
            return Errno.EINVAL;
        }
        if (!input.CanRead || !output.CanWrite || output.Append)
        {
            return Errno.EBADF;
        }
        if (offsetIn < 0 || offsetOut < 0 || length < 0)
        {
            return Errno.EINVAL;
        }
        MemoryInode first = source.Ino <= destination.Ino ? source : destination;
        MemoryInode second = ReferenceEquals(first, source) ? destination : source;
        lock (first.Sync)
        {
            lock (second.Sync)
            {
                long count = offsetIn >= source.Size ? 0 : Math.Min(length, source.Size - offsetIn);
                if (offsetOut >= _options.MaxFileSize && count > 0)
                {
                    return Errno.EFBIG;
                }
                count = Math.Min(count, _options.MaxFileSize - offsetOut);
                if (ReferenceEquals(source, destination) && offsetOut + count > offsetIn && offsetOut < offsetIn + count)
                {
                    return Errno.EINVAL;
                }
                if (count == 0)
                {
                    return 0;
                }
                SparseData from = source.Data!;
                SparseData to = destination.Data!;
                if (!ReservePages(to.PagesToAllocate(offsetOut, count)))
                {
                    return Errno.ENOSPC;
                }
                byte[] buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
                try
                {
                    for (long done = 0; done < count;)
                    {
                        int n = (int)Math.Min(CopyBufferSize, count - done);
                        from.Read(offsetIn + done, buffer.AsSpan(0, n));
                        to.Write(offsetOut + done, buffer.AsSpan(0, n));
                        done += n;
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
                destination.Size = Math.Max(destination.Size, offsetOut + count);
                destination.Mode &= ~Permissions.KillOnModify(caller, destination, force: false);
                Timespec now = Now();
                destination.Mtime = now;
                destination.Ctime = now;
                bytesCopied = count;
            }
        }
        return 0;
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
