namespace ProxyFs.Core.FileSystem.Memory;

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
public sealed partial class MemoryFileSystem
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
        if (!TryGetInode(ino, out MemoryInode inode))
        {
            return Errno.ENOENT;
        }
        lock (inode.Sync)
        {
            error = CheckXattrWrite(caller, inode, name, kind);
            if (error != 0)
            {
                return error;
            }
            bool exists = inode.Xattrs?.Contains(name) ?? false;
            if ((flags & XattrFlags.Create) != 0 && exists)
            {
                return Errno.EEXIST;
            }
            if ((flags & XattrFlags.Replace) != 0 && !exists)
            {
                return Errno.ENODATA;
            }
            (inode.Xattrs ??= new XattrSet()).Set(name, value);
            inode.Ctime = Now();
        }
        return 0;
    }

    public int GetXattr(in Caller caller, ulong ino, ReadOnlySpan<byte> name, Span<byte> value, out int size)
    {
        size = 0;
        int error = CheckXattrName(name, out XattrKind kind);
        if (error != 0)
        {
            return error;
        }
        if (!TryGetInode(ino, out MemoryInode inode))
        {
            return Errno.ENOENT;
        }
        lock (inode.Sync)
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
            if (IsBarePrefix(name, kind))
            {
                return Errno.EINVAL;
            }
            byte[]? stored = inode.Xattrs?.Get(name);
            if (stored is null)
            {
                return Errno.ENODATA;
            }
            size = stored.Length;
            if (value.IsEmpty)
            {
                return 0;
            }
            if (value.Length < stored.Length)
            {
                size = 0;
                return Errno.ERANGE;
            }
            stored.CopyTo(value);
        }
        return 0;
    }

    public int ListXattr(in Caller caller, ulong ino, Span<byte> names, out int size)
    {
        size = 0;
        if (!TryGetInode(ino, out MemoryInode inode))
        {
            return Errno.ENOENT;
        }
        lock (inode.Sync)
        {
            XattrSet? set = inode.Xattrs;
            int total = 0;
            for (int i = 0; set is not null && i < set.Count; i++)
            {
                if (Listed(caller, set[i].Key))
                {
                    total += set[i].Key.Length + 1;
                }
            }
            size = total;
            if (names.IsEmpty)
            {
                return 0;
            }
            if (names.Length < total)
            {
                size = 0;
                return Errno.ERANGE;
            }
            int at = 0;
            for (int i = 0; set is not null && i < set.Count; i++)
            {
                byte[] key = set[i].Key;
                if (Listed(caller, key))
                {
                    key.CopyTo(names[at..]);
                    names[at + key.Length] = 0;
                    at += key.Length + 1;
                }
            }
        }
        return 0;
    }

    public int RemoveXattr(in Caller caller, ulong ino, ReadOnlySpan<byte> name)
    {
        int error = CheckXattrName(name, out XattrKind kind);
        if (error != 0)
        {
            return error;
        }
        if (!TryGetInode(ino, out MemoryInode inode))
        {
            return Errno.ENOENT;
        }
        lock (inode.Sync)
        {
            error = CheckXattrWrite(caller, inode, name, kind);
            if (error != 0)
            {
                return error;
            }
            if (inode.Xattrs is null || !inode.Xattrs.Remove(name))
            {
                return Errno.ENODATA;
            }
            inode.Ctime = Now();
        }
        return 0;
    }

    private static bool Listed(in Caller caller, byte[] name) => caller.IsRoot || !name.AsSpan().StartsWith("trusted."u8);

    /// <summary>The checks of a write (set or remove) after the name itself was found valid.</summary>
    private static int CheckXattrWrite(in Caller caller, MemoryInode inode, ReadOnlySpan<byte> name, XattrKind kind)
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
}
