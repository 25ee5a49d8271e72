using ProxyFs.Core.FileSystem.Inodes;

namespace ProxyFs.Core.FileSystem.Posix;

/// <summary>Listing directories.</summary>
public partial class PosixFileSystem
{
    private const long DotCookie = 1;
    private const long DotDotCookie = 2;

    public int OpenDir(in Caller caller, ulong ino, int flags, out OpenResult result)
    {
        result = default;
        if (_store.Acquire(ino, out Inode inode) != 0)
        {
            return Errno.ENOENT;
        }
        try
        {
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
        finally
        {
            _store.Unpin(inode);
        }
    }

    public int ReadDir(in Caller caller, ulong ino, ulong handle, long offset, IDirectoryFiller filler) =>
        List(ino, handle, offset, filler, plus: false);

    public int ReadDirPlus(in Caller caller, ulong ino, ulong handle, long offset, IDirectoryFiller filler) =>
        List(ino, handle, offset, filler, plus: true);

    public int ReleaseDir(ulong ino, ulong handle) => Release(ino, handle);

    public int FsyncDir(in Caller caller, ulong ino, ulong handle, bool dataOnly) => Fsync(caller, ino, handle, dataOnly);

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
        Inode dir = open!.Inode;
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
            if (offset < DotCookie && !EmitDots(filler, "."u8, dir.Ino, DotCookie, plus))
            {
                return 0;
            }
            if (offset < DotDotCookie && !EmitDots(filler, ".."u8, dir.Parent, DotDotCookie, plus))
            {
                return 0;
            }
            var visitor = new ListVisitor(this, filler, plus);
            dir.Directory.Enumerate(Math.Max(offset, DotDotCookie), ref visitor);
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

    /// <summary>"." or "..": never counted as a lookup.</summary>
    private bool EmitDots(IDirectoryFiller filler, ReadOnlySpan<byte> name, ulong ino, long cookie, bool plus)
    {
        if (!plus)
        {
            return filler.Add(name, ino, ModeBits.S_IFDIR, cookie);
        }
        Inode inode = AcquireListed(ino);
        try
        {
            FillEntry(inode, out EntryOut entry);
            return filler.AddPlus(name, entry, cookie);
        }
        finally
        {
            _store.Unpin(inode);
        }
    }

    /// <summary>One entry: its type from the directory alone, or (readdirplus) the inode's attributes and a lookup.</summary>
    private bool EmitEntry(IDirectoryFiller filler, ReadOnlySpan<byte> name, in DirectoryEntry found, bool plus)
    {
        if (!plus)
        {
            return filler.Add(name, found.Ino, found.Type, found.Cookie);
        }
        Inode inode = AcquireListed(found.Ino);
        try
        {
            FillEntry(inode, out EntryOut entry);
            if (!filler.AddPlus(name, entry, found.Cookie))
            {
                return false;
            }
            lock (inode.Sync)
            {
                inode.Lookups++;
            }
            return true;
        }
        finally
        {
            _store.Unpin(inode);
        }
    }

    /// <summary>An inode a directory names, while the namespace lock is held: it exists.</summary>
    private Inode AcquireListed(ulong ino) =>
        _store.Acquire(ino, out Inode inode) == 0 ? inode : throw new InvalidOperationException($"a directory names inode {ino}, which does not exist");

    /// <summary>Hands the entries of <see cref="IDirectory.Enumerate"/> to the filler until it is full.</summary>
    private readonly struct ListVisitor(PosixFileSystem fs, IDirectoryFiller filler, bool plus) : IDirectoryVisitor
    {
        public bool Visit(ReadOnlySpan<byte> name, in DirectoryEntry entry) => fs.EmitEntry(filler, name, entry, plus);
    }
}
