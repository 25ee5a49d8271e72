using ProxyFs.Core.FileSystem.Inodes;

namespace ProxyFs.Core.FileSystem.Posix;

/// <summary>
/// Extended attributes in the user., trusted. and security. namespaces, with the kernel's rules
/// (fs/xattr.c xattr_permission, the capability hook, tmpfs's handlers):
/// <list type="bullet">
/// <item>names are 1..255 bytes (ERANGE otherwise), values at most 64 KiB (E2BIG);</item>
/// <item>user.*: only on regular files and directories (EPERM to write, ENODATA to read on others), in a sticky
/// directory only its owner or root may write, and the file's read/write permission applies (EACCES);</item>
/// <item>trusted.*: root only (EPERM to write, ENODATA to read, hidden from listxattr);</item>
/// <item>security.*: anyone may read, only root may write (EPERM);</item>
/// <item>system.* and unknown prefixes: EOPNOTSUPP; a bare prefix ("user."): EINVAL;</item>
/// <item>XATTR_CREATE on an existing name: EEXIST; XATTR_REPLACE or removal of a missing one: ENODATA;</item>
/// <item>setting or removing updates ctime.</item>
/// </list>
/// </summary>
public partial class PosixFileSystem
{
    private const int XattrSizeMax = 65536;

    private enum XattrKind
    {
        User,
        Trusted,
        Security,
        System,
        Unknown,
    }

    public int SetXattr(in Caller caller, ulong ino, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, XattrFlags flags)
    {
        int error = CheckXattrName(name, out XattrKind kind);
        if (error != 0)
        {
            return error;
        }
        if (value.Length > XattrSizeMax)
        {
            return Errno.E2BIG;
        }
        using InodeOperation op = _store.BeginOperation(OperationKind.SetXattr);
        if (_store.Acquire(ino, out Inode inode) != 0)
        {
            return Errno.ENOENT;
        }
        try
        {
            lock (inode.Sync)
            {
                error = CheckXattrWrite(caller, inode, name, kind);
                if (error == 0)
                {
                    error = inode.Xattrs.Set(op, name, value, flags & (XattrFlags.Create | XattrFlags.Replace));
                }
                if (error != 0)
                {
                    return error;
                }
                inode.Ctime = _store.Now();
                _store.Update(op, inode);
                op.Commit();
            }
            return 0;
        }
        finally
        {
            _store.Unpin(inode);
        }
    }

    public int GetXattr(in Caller caller, ulong ino, ReadOnlySpan<byte> name, Span<byte> value, out int size)
    {
        size = 0;
        int error = CheckXattrName(name, out XattrKind kind);
        if (error != 0)
        {
            return error;
        }
        if (_store.Acquire(ino, out Inode inode) != 0)
        {
            return Errno.ENOENT;
        }
        try
        {
            lock (inode.Sync)
            {
                error = CheckXattrRead(caller, inode, name, kind);
                if (error != 0)
                {
                    return error;
                }
                int length = inode.Xattrs.Get(name, value);
                if (length < 0)
                {
                    return Errno.ENODATA;
                }
                if (!value.IsEmpty && value.Length < length)
                {
                    return Errno.ERANGE;
                }
                size = length;
                return 0;
            }
        }
        finally
        {
            _store.Unpin(inode);
        }
    }

    public int ListXattr(in Caller caller, ulong ino, Span<byte> names, out int size)
    {
        size = 0;
        if (_store.Acquire(ino, out Inode inode) != 0)
        {
            return Errno.ENOENT;
        }
        try
        {
            lock (inode.Sync)
            {
                var measure = new XattrNameList(caller.IsRoot, default);
                inode.Xattrs.VisitNames(ref measure);
                size = measure.Length;
                if (names.IsEmpty)
                {
                    return 0;
                }
                if (names.Length < measure.Length)
                {
                    size = 0;
                    return Errno.ERANGE;
                }
                var copy = new XattrNameList(caller.IsRoot, names);
                inode.Xattrs.VisitNames(ref copy);
                return 0;
            }
        }
        finally
        {
            _store.Unpin(inode);
        }
    }

    public int RemoveXattr(in Caller caller, ulong ino, ReadOnlySpan<byte> name)
    {
        int error = CheckXattrName(name, out XattrKind kind);
        if (error != 0)
        {
            return error;
        }
        using InodeOperation op = _store.BeginOperation(OperationKind.RemoveXattr);
        if (_store.Acquire(ino, out Inode inode) != 0)
        {
            return Errno.ENOENT;
        }
        try
        {
            lock (inode.Sync)
            {
                error = CheckXattrWrite(caller, inode, name, kind);
                if (error != 0)
                {
                    return error;
                }
                if (!inode.Xattrs.Remove(op, name))
                {
                    return Errno.ENODATA;
                }
                inode.Ctime = _store.Now();
                _store.Update(op, inode);
                op.Commit();
            }
            return 0;
        }
        finally
        {
            _store.Unpin(inode);
        }
    }

    /// <summary>The checks of a read after the name itself was found valid.</summary>
    private static int CheckXattrRead(in Caller caller, Inode inode, ReadOnlySpan<byte> name, XattrKind kind)
    {
        switch (kind)
        {
            case XattrKind.Trusted when !caller.IsRoot:
                return Errno.ENODATA;
            case XattrKind.User when !inode.IsRegular && !inode.IsDirectory:
                return Errno.ENODATA;
            case XattrKind.User or XattrKind.Trusted or XattrKind.Unknown when !Permissions.May(caller, inode, Permissions.Read):
                return Errno.EACCES;
            case XattrKind.System or XattrKind.Unknown:
                return Errno.EOPNOTSUPP;
        }
        return IsBarePrefix(name, kind) ? Errno.EINVAL : 0;
    }

    /// <summary>The checks of a write (set or remove) after the name itself was found valid.</summary>
    private static int CheckXattrWrite(in Caller caller, Inode inode, ReadOnlySpan<byte> name, XattrKind kind)
    {
        switch (kind)
        {
            case XattrKind.Trusted when !caller.IsRoot:
                return Errno.EPERM;
            case XattrKind.User when !inode.IsRegular && !inode.IsDirectory:
                return Errno.EPERM;
            case XattrKind.User when inode.IsDirectory && (inode.Mode & ModeBits.S_ISVTX) != 0 && !Permissions.IsOwnerOrRoot(caller, inode):
                return Errno.EPERM;
        }
        if (kind is XattrKind.User or XattrKind.Trusted or XattrKind.Unknown && !Permissions.May(caller, inode, Permissions.Write))
        {
            return Errno.EACCES;
        }
        if (kind == XattrKind.Security && !caller.IsRoot)
        {
            return Errno.EPERM; // cap_inode_setxattr: CAP_SYS_ADMIN
        }
        if (kind is XattrKind.System or XattrKind.Unknown)
        {
            return Errno.EOPNOTSUPP;
        }
        return IsBarePrefix(name, kind) ? Errno.EINVAL : 0;
    }

    private static int CheckXattrName(ReadOnlySpan<byte> name, out XattrKind kind)
    {
        kind = XattrKind.Unknown;
        if (name.IsEmpty || name.Length > NameMax)
        {
            return Errno.ERANGE;
        }
        if (name.StartsWith("user."u8))
        {
            kind = XattrKind.User;
        }
        else if (name.StartsWith("trusted."u8))
        {
            kind = XattrKind.Trusted;
        }
        else if (name.StartsWith("security."u8))
        {
            kind = XattrKind.Security;
        }
        else if (name.StartsWith("system."u8))
        {
            kind = XattrKind.System;
        }
        return 0;
    }

    private static bool IsBarePrefix(ReadOnlySpan<byte> name, XattrKind kind) => kind switch
    {
        XattrKind.User => name.Length == 5,
        XattrKind.Trusted => name.Length == 8,
        XattrKind.Security => name.Length == 9,
        _ => false,
    };

    /// <summary>
    /// Measures (with an empty destination) or writes the listxattr answer: the names a caller may see (trusted.*
    /// only for root), each NUL-terminated.
    /// </summary>
    private ref struct XattrNameList(bool root, Span<byte> destination) : IXattrNameVisitor
    {
        private readonly Span<byte> _destination = destination;

        public int Length { get; private set; }

        public void Visit(ReadOnlySpan<byte> name)
        {
            if (!root && name.StartsWith("trusted."u8))
            {
                return;
            }
            if (!_destination.IsEmpty)
            {
                name.CopyTo(_destination[Length..]);
                _destination[Length + name.Length] = 0;
            }
            Length += name.Length + 1;
        }
    }
}
