using ProxyFs.Core.FileSystem.Inodes;

namespace ProxyFs.Core.FileSystem.Memory;

/// <summary>
/// The extended attributes of one inode of a <see cref="MemoryInodeStore"/>, kept sorted by name; the list is made
/// on the first set. Guarded by the inode's lock.
/// </summary>
internal sealed class XattrSet(MemoryInodeStore store) : IXattrs
{
    private List<KeyValuePair<byte[], byte[]>>? _items;

    public int Get(ReadOnlySpan<byte> name, Span<byte> destination)
    {
        int i = Find(name);
        if (i < 0)
        {
            return -1;
        }
        byte[] value = _items![i].Value;
        if (!destination.IsEmpty && destination.Length >= value.Length)
        {
            value.CopyTo(destination);
        }
        return value.Length;
    }

    public int Set(InodeOperation op, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, XattrFlags flags)
    {
        int i = Find(name);
        if ((flags & XattrFlags.Create) != 0 && i >= 0)
        {
            return Errno.EEXIST;
        }
        if ((flags & XattrFlags.Replace) != 0 && i < 0)
        {
            return Errno.ENODATA;
        }
        op.Record(store);
        if (i >= 0)
        {
            _items![i] = new KeyValuePair<byte[], byte[]>(_items[i].Key, value.ToArray());
        }
        else
        {
            (_items ??= []).Insert(~i, new KeyValuePair<byte[], byte[]>(name.ToArray(), value.ToArray()));
        }
        return 0;
    }

    public bool Remove(InodeOperation op, ReadOnlySpan<byte> name)
    {
        int i = Find(name);
        if (i < 0)
        {
            return false;
        }
        op.Record(store);
        _items!.RemoveAt(i);
        return true;
    }

    public void VisitNames<TVisitor>(ref TVisitor visitor)
        where TVisitor : IXattrNameVisitor, allows ref struct
    {
        if (_items is null)
        {
            return;
        }
        foreach (KeyValuePair<byte[], byte[]> item in _items)
        {
            visitor.Visit(item.Key);
        }
    }

    /// <summary>Index of <paramref name="name"/>, or the complement of where it would go.</summary>
    private int Find(ReadOnlySpan<byte> name)
    {
        if (_items is null)
        {
            return ~0;
        }
        int lo = 0;
        int hi = _items.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            int c = _items[mid].Key.AsSpan().SequenceCompareTo(name);
            if (c == 0)
            {
                return mid;
            }
            if (c < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return ~lo;
    }
}
