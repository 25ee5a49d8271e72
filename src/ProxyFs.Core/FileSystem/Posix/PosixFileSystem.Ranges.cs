using ProxyFs.Core.FileSystem.Inodes;

namespace ProxyFs.Core.FileSystem.Posix;

/// <summary>fallocate, SEEK_DATA/SEEK_HOLE and copy_file_range: their argument rules, then the store's data.</summary>
public partial class PosixFileSystem
{
    /// <summary>
    /// vfs_fallocate then shmem_fallocate: allocate (optionally keeping the size) and punch holes (only with
    /// KEEP_SIZE). ZERO_RANGE is supported too. Every success updates mtime and ctime, even one that changes
    /// nothing, as tmpfs does.
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
        Inode inode = open.Inode;
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
        if (offset > _limits.MaxFileSize - length)
        {
            return Errno.EFBIG;
        }
        using InodeOperation op = _store.BeginOperation(OperationKind.Fallocate);
        lock (inode.Sync)
        {
            IFileData data = inode.Data!;
            if ((mode & FallocateMode.PunchHole) != 0)
            {
                data.PunchHole(op, offset, length);
            }
            else
            {
                error = (mode & FallocateMode.ZeroRange) != 0 ? data.ZeroRange(op, offset, length) : data.Allocate(op, offset, length);
                if (error != 0)
                {
                    return error;
                }
                if (!keepSize && offset + length > inode.Size)
                {
                    inode.Size = offset + length;
                }
            }
            inode.Mode &= ~Permissions.KillOnModify(caller, inode, force: false);
            Timespec now = _store.Now();
            inode.Mtime = now;
            inode.Ctime = now;
            _store.Update(op, inode);
            op.Commit();
        }
        return 0;
    }

    /// <summary>
    /// SEEK_DATA and SEEK_HOLE within the file's size: what the store calls data and holes; the end of the file is a
    /// hole. ENXIO at or past the end.
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
        Inode inode = open.Inode;
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
    /// non-append destination, no overlap within one file), the count cut at the source's end, then the store's
    /// copy (the memory store writes holes as zeros, as the kernel's splice fallback that tmpfs uses does).
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
        Inode source = input.Inode;
        Inode destination = output.Inode;
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
        using InodeOperation op = _store.BeginOperation(OperationKind.CopyFileRange);
        Inode first = source.Ino <= destination.Ino ? source : destination;
        Inode second = ReferenceEquals(first, source) ? destination : source;
        lock (first.Sync)
        {
            lock (second.Sync)
            {
                long count = offsetIn >= source.Size ? 0 : Math.Min(length, source.Size - offsetIn);
                if (offsetOut >= _limits.MaxFileSize && count > 0)
                {
                    return Errno.EFBIG;
                }
                count = Math.Min(count, _limits.MaxFileSize - offsetOut);
                if (source.Ino == destination.Ino && offsetOut + count > offsetIn && offsetOut < offsetIn + count)
                {
                    return Errno.EINVAL;
                }
                if (count == 0)
                {
                    return 0;
                }
                int error = destination.Data!.CopyFrom(op, source.Data!, offsetIn, offsetOut, count);
                if (error != 0)
                {
                    return error;
                }
                destination.Size = Math.Max(destination.Size, offsetOut + count);
                destination.Mode &= ~Permissions.KillOnModify(caller, destination, force: false);
                Timespec now = _store.Now();
                destination.Mtime = now;
                destination.Ctime = now;
                _store.Update(op, destination);
                op.Commit();
                bytesCopied = count;
            }
        }
        return 0;
    }
}
