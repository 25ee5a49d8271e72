using ProxyFs.Core.FileSystem;
using ProxyFs.Core.FileSystem.Inodes;

namespace ProxyFs.Core.Volume.Inodes;

/// <summary>The extended attributes of one inode: one 'X' record (ino, name) → value each.</summary>
internal sealed class VolumeXattrs(VolumeInodeStore store, ulong ino) : IXattrs
{
    public int Get(ReadOnlySpan<byte> name, Span<byte> destination)
    {
        Span<byte> key = stackalloc byte[VolumeKeys.MaxLength];
        if (!store.Tree.TryGet(key[..VolumeKeys.OfXattr(key, ino, name)], out byte[]? value))
        {
            return -1;
        }
        if (!destination.IsEmpty && destination.Length >= value.Length)
        {
            value.CopyTo(destination);
        }
        return value.Length;
    }

    public int Set(InodeOperation op, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, XattrFlags flags)
    {
        Span<byte> key = stackalloc byte[VolumeKeys.MaxLength];
        key = key[..VolumeKeys.OfXattr(key, ino, name)];
        if ((flags & (XattrFlags.Create | XattrFlags.Replace)) != 0)
        {
            bool exists = store.Tree.ContainsKey(key);
            if ((flags & XattrFlags.Create) != 0 && exists)
            {
                return Errno.EEXIST;
            }
            if ((flags & XattrFlags.Replace) != 0 && !exists)
            {
                return Errno.ENODATA;
            }
        }
        op.Record(store);
        store.TreePut(key, value);
        return 0;
    }

    public bool Remove(InodeOperation op, ReadOnlySpan<byte> name)
    {
        Span<byte> key = stackalloc byte[VolumeKeys.MaxLength];
        key = key[..VolumeKeys.OfXattr(key, ino, name)];
        if (!store.Tree.ContainsKey(key))
        {
            return false;
        }
        op.Record(store);
        store.TreeDelete(key);
        return true;
    }

    public void VisitNames<TVisitor>(ref TVisitor visitor)
        where TVisitor : IXattrNameVisitor, allows ref struct
    {
        foreach (byte[] key in store.KeysWithPrefix(VolumeKeys.Xattr, ino))
        {
            visitor.Visit(VolumeKeys.NameOf(key));
        }
    }
}
