namespace ProxyFs.Core.FileSystem.Memory;

/// <summary>Listing directories.</summary>
public sealed partial class MemoryFileSystem
{
    private const long DotCookie = 1;
    private const long DotDotCookie = 2;

    public int OpenDir(in Caller caller, ulong ino, int flags, out OpenResult result)
    {
        result = default;
        if (!TryGetInode(ino, out MemoryInode inode))
        {
            return Errno.ENOENT;
        }
        if (!inode.IsDirectory)
        {
            return Errno.ENOTDIR;
        }
        if (!Permissions.May(caller, inode, Permissions.Read))
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
            inode.Opens++;
        }
        result.Handle = AddHandle(new OpenHandle(inode, flags, isDirectory: true));
        return 0;
    }

    public int ReadDir(in Caller caller, ulong ino, ulong handle, long offset, IDirectoryFiller filler) =>
        List(ino, handle, offset, filler, plus: false);

    public int ReadDirPlus(in Caller caller, ulong ino, ulong handle, long offset, IDirectoryFiller filler) =>
        List(ino, handle, offset, filler, plus: true);

    public int ReleaseDir(ulong ino, ulong handle) => Release(ino, handle);

    public int FsyncDir(in Caller caller, ulong ino, ulong handle, bool dataOnly) => GetHandle(ino, handle, out _);

    /// <summary>
    /// Lists "." (offset 1), ".." (offset 2), then the entries whose cookie is past <paramref name="offset"/>, in
    /// cookie order, until the filler is full. A removed directory lists nothing, as on Linux. Updates atime.
    /// </summary>
    private int List(ulong ino, ulong handle, long offset, IDirectoryFiller filler, bool plus)
    {
        int error = GetHandle(ino, handle, out OpenHandle? open);
        if (error != 0)
        {
            return error;
        }
        MemoryInode dir = open!.Inode;
        if (dir.Directory is null)
        {
            return Errno.ENOTDIR;
        }
        _namespace.EnterReadLock();
        try
        {
            if (dir.Nlink == 0)
            {
                return 0;
            }
            if (offset < DotCookie && !Emit(filler, "."u8, dir, DotCookie, plus, counted: false))
            {
                return 0;
            }
            if (offset < DotDotCookie && !Emit(filler, ".."u8, dir.Directory.Parent, DotDotCookie, plus, counted: false))
            {
                return 0;
            }
            int index = dir.Directory.IndexAfter(Math.Max(offset, DotDotCookie));
            while (dir.Directory.EntryAtOrAfter(ref index) is { } entry)
            {
                if (!Emit(filler, entry.Name, entry.Inode, entry.Cookie, plus, counted: true))
                {
                    break;
                }
                index++;
            }
        }
        finally
        {
            _namespace.ExitReadLock();
        }
        lock (dir.Sync)
        {
            TouchAtime(dir);
        }
        return 0;
    }

    private static bool Emit(IDirectoryFiller filler, ReadOnlySpan<byte> name, MemoryInode inode, long cookie, bool plus, bool counted)
    {
        if (!plus)
        {
            return filler.Add(name, inode.Ino, inode.Mode, cookie);
        }
        EntryOut entry;
        entry.Ino = inode.Ino;
        entry.Generation = 1;
        lock (inode.Sync)
        {
            inode.Fill(out entry.Attr);
        }
        if (!filler.AddPlus(name, entry, cookie))
        {
            return false;
        }
        if (counted)
        {
            lock (inode.Sync)
            {
                inode.Lookups++;
            }
        }
        return true;
    }
}
