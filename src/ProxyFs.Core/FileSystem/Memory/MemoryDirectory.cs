namespace ProxyFs.Core.FileSystem.Memory;

/// <summary>One entry of a directory.</summary>
internal sealed class DirEntry(byte[] name, MemoryInode inode, long cookie)
{
    public byte[] Name { get; } = name;
    public MemoryInode Inode { get; set; } = inode;

    /// <summary>The readdir offset just after this entry; increases with each entry added to the directory.</summary>
    public long Cookie { get; } = cookie;
}

/// <summary>
/// The entries of a directory: a hash table by name (searched by span without allocating) and a list ordered by
/// cookie for readdir. Each entry gets the next cookie of its directory when it is added and keeps it, so a
/// listing resumed at a cookie neither skips nor repeats an entry that stayed in the directory meanwhile. Removed
/// entries leave a gap in the list that is compacted away once gaps are the majority. Offsets 1 and 2 are "." and
/// "..". Guarded by the filesystem's namespace lock.
/// </summary>
internal sealed class MemoryDirectory
{
    /// <summary>Cookie of the first real entry; 1 and 2 follow "." and "..".</summary>
    public const long FirstCookie = 3;

    private readonly Dictionary<byte[], DirEntry> _byName;
    private readonly Dictionary<byte[], DirEntry>.AlternateLookup<ReadOnlySpan<byte>> _bySpan;
    private DirEntry?[] _ordered = new DirEntry?[4];
    private int _used;
    private long _nextCookie = FirstCookie;

    public MemoryDirectory(MemoryInode parent)
    {
        Parent = parent;
        _byName = new Dictionary<byte[], DirEntry>(NameComparer.Instance);
        _bySpan = _byName.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    /// <summary>The directory ".." names (the root's parent is the root).</summary>
    public MemoryInode Parent { get; set; }

    public int Count => _byName.Count;

    public DirEntry? Find(ReadOnlySpan<byte> name) => _bySpan.TryGetValue(name, out DirEntry? entry) ? entry : null;

    public DirEntry Add(ReadOnlySpan<byte> name, MemoryInode inode)
    {
        var entry = new DirEntry(name.ToArray(), inode, _nextCookie++);
        _byName.Add(entry.Name, entry);
        if (_used == _ordered.Length)
        {
            Compact(grow: true);
        }
        _ordered[_used++] = entry;
        return entry;
    }

    public void Remove(DirEntry entry)
    {
        _byName.Remove(entry.Name);
        int index = IndexAfter(entry.Cookie - 1);
        EntryAtOrAfter(ref index);
        if (index < _used && ReferenceEquals(_ordered[index], entry))
        {
            _ordered[index] = null;
        }
        if (_used > 32 && _byName.Count < _used / 2)
        {
            Compact(grow: false);
        }
    }

    /// <summary>Index of the first slot whose entry's cookie is greater than <paramref name="cookie"/>.</summary>
    public int IndexAfter(long cookie)
    {
        // Slots are ordered by cookie; an emptied slot is skipped by probing its neighbours.
        int lo = 0;
        int hi = _used;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            int probe = mid;
            while (probe < hi && _ordered[probe] is null)
            {
                probe++;
            }
            if (probe == hi)
            {
                hi = mid;
            }
            else if (_ordered[probe]!.Cookie <= cookie)
            {
                lo = probe + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo;
    }

    /// <summary>The entry in slot <paramref name="index"/> or after it; null when none.</summary>
    public DirEntry? EntryAtOrAfter(ref int index)
    {
        while (index < _used)
        {
            DirEntry? entry = _ordered[index];
            if (entry is not null)
            {
                return entry;
            }
            index++;
        }
        return null;
    }

    private void Compact(bool grow)
    {
        int live = _byName.Count;
        int capacity = grow ? Math.Max(4, Math.Max(_ordered.Length, live * 2)) : Math.Max(4, live * 2);
        var next = new DirEntry?[capacity];
        int n = 0;
        for (int i = 0; i < _used; i++)
        {
            if (_ordered[i] is { } entry)
            {
                next[n++] = entry;
            }
        }
        _ordered = next;
        _used = n;
    }
}
