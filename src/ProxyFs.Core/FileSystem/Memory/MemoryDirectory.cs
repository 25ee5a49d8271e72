using ProxyFs.Core.FileSystem.Inodes;

namespace ProxyFs.Core.FileSystem.Memory;

/// <summary>
/// The entries of a directory of a <see cref="MemoryInodeStore"/>: a hash table by name (searched by span without
/// allocating) and a list ordered by cookie for readdir. Each entry gets the next cookie of its directory when it is
/// added and keeps it. Removed entries leave a gap in the list that is compacted away once gaps are the majority.
/// Guarded by the POSIX layer's namespace lock (see <see cref="IDirectory"/>).
/// </summary>
internal sealed class MemoryDirectory : IDirectory
{
    /// <summary>Cookie of the first entry; 1 and 2 are the layer's "." and "..".</summary>
    public const long FirstCookie = 3;

    private readonly MemoryInodeStore _store;
    private readonly Dictionary<byte[], Entry> _byName;
    private readonly Dictionary<byte[], Entry>.AlternateLookup<ReadOnlySpan<byte>> _bySpan;
    private Entry?[] _ordered = new Entry?[4];
    private int _used;
    private long _nextCookie = FirstCookie;

    public MemoryDirectory(MemoryInodeStore store)
    {
        _store = store;
        _byName = new Dictionary<byte[], Entry>(NameComparer.Instance);
        _bySpan = _byName.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    public long Count => _byName.Count;

    public bool IsEmpty => _byName.Count == 0;

    public bool TryFind(ReadOnlySpan<byte> name, out DirectoryEntry entry)
    {
        if (_bySpan.TryGetValue(name, out Entry? found))
        {
            entry = new DirectoryEntry(found.Ino, found.Type, found.Cookie);
            return true;
        }
        entry = default;
        return false;
    }

    public long Add(InodeOperation op, ReadOnlySpan<byte> name, ulong ino, uint type)
    {
        op.Record(_store);
        var entry = new Entry(name.ToArray(), ino, type, _nextCookie++);
        _byName.Add(entry.Name, entry);
        if (_used == _ordered.Length)
        {
            Compact(grow: true);
        }
        _ordered[_used++] = entry;
        return entry.Cookie;
    }

    public void Remove(InodeOperation op, ReadOnlySpan<byte> name)
    {
        Entry entry = Existing(name);
        op.Record(_store);
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

    public void Replace(InodeOperation op, ReadOnlySpan<byte> name, ulong ino, uint type)
    {
        Entry entry = Existing(name);
        op.Record(_store);
        entry.Ino = ino;
        entry.Type = type;
    }

    public void Enumerate<TVisitor>(long afterCookie, ref TVisitor visitor)
        where TVisitor : IDirectoryVisitor, allows ref struct
    {
        int index = IndexAfter(afterCookie);
        while (EntryAtOrAfter(ref index) is { } entry)
        {
            if (!visitor.Visit(entry.Name, new DirectoryEntry(entry.Ino, entry.Type, entry.Cookie)))
            {
                return;
            }
            index++;
        }
    }

    private Entry Existing(ReadOnlySpan<byte> name) =>
        _bySpan.TryGetValue(name, out Entry? entry) ? entry : throw new InvalidOperationException("change of a directory entry that is not there");

    /// <summary>Index of the first slot whose entry's cookie is greater than <paramref name="cookie"/>.</summary>
    private int IndexAfter(long cookie)
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
    private Entry? EntryAtOrAfter(ref int index)
    {
        while (index < _used)
        {
            Entry? entry = _ordered[index];
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
        var next = new Entry?[capacity];
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

    private sealed class Entry(byte[] name, ulong ino, uint type, long cookie)
    {
        public byte[] Name { get; } = name;
        public ulong Ino { get; set; } = ino;
        public uint Type { get; set; } = type;
        public long Cookie { get; } = cookie;
    }
}
