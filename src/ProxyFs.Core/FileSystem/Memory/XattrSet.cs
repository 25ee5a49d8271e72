namespace ProxyFs.Core.FileSystem.Memory;

/// <summary>The extended attributes of one inode, kept sorted by name. Guarded by the inode's lock.</summary>
internal sealed class XattrSet
{
    private readonly List<KeyValuePair<byte[], byte[]>> _items = [];

    public int Count => _items.Count;

    public KeyValuePair<byte[], byte[]> this[int index] => _items[index];

    public byte[]? Get(ReadOnlySpan<byte> name)
    {
        int i = Find(name);
        return i >= 0 ? _items[i].Value : null;
    }

    public bool Contains(ReadOnlySpan<byte> name) => Find(name) >= 0;

    public void Set(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        int i = Find(name);
        if (i >= 0)
        {
            _items[i] = new KeyValuePair<byte[], byte[]>(_items[i].Key, value.ToArray());
        }
        else
        {
            _items.Insert(~i, new KeyValuePair<byte[], byte[]>(name.ToArray(), value.ToArray()));
        }
    }

    public bool Remove(ReadOnlySpan<byte> name)
    {
        int i = Find(name);
        if (i < 0)
        {
            return false;
        }
        _items.RemoveAt(i);
        return true;
    }

    /// <summary>Index of <paramref name="name"/>, or the complement of where it would go.</summary>
    private int Find(ReadOnlySpan<byte> name)
    {
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
