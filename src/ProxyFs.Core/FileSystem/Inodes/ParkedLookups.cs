namespace ProxyFs.Core.FileSystem.Inodes;

/// <summary>
/// The lookup counts of parked inodes (see <see cref="InodeCache"/>): inode number → count, in one open-addressing
/// table of 16-byte slots (linear probing, backward-shift deletion), so a million parked inodes cost about 24 MiB rather
/// than the ~64 MiB of a concurrent dictionary's nodes. Not thread-safe: the cache keeps one per stripe and uses it
/// under that stripe's lock. Inode number 0 is never a key (FUSE never uses it) and marks a free slot.
/// </summary>
internal sealed class ParkedLookups
{
    private const int MinCapacity = 16;

    private ulong[] _keys = new ulong[MinCapacity];
    private ulong[] _values = new ulong[MinCapacity];
    private int _count;

    public int Count => _count;

    /// <summary>Records <paramref name="lookups"/> (non-zero) for <paramref name="ino"/>, replacing any count it had.</summary>
    public void Set(ulong ino, ulong lookups)
    {
        ArgumentOutOfRangeException.ThrowIfZero(ino);
        ArgumentOutOfRangeException.ThrowIfZero(lookups);
        if ((_count + 1) * 10 > _keys.Length * 7)
        {
            Resize(_keys.Length * 2);
        }
        int mask = _keys.Length - 1;
        for (int i = Slot(ino, mask); ; i = (i + 1) & mask)
        {
            if (_keys[i] == ino)
            {
                _values[i] = lookups;
                return;
            }
            if (_keys[i] == 0)
            {
                _keys[i] = ino;
                _values[i] = lookups;
                _count++;
                return;
            }
        }
    }

    /// <summary>Takes the count of <paramref name="ino"/> out; false when it has none.</summary>
    public bool TryRemove(ulong ino, out ulong lookups)
    {
        int mask = _keys.Length - 1;
        int i = Slot(ino, mask);
        while (_keys[i] != ino)
        {
            if (_keys[i] == 0)
            {
                lookups = 0;
                return false;
            }
            i = (i + 1) & mask;
        }
        lookups = _values[i];
        // Backward shift: move later members of the probe run into the hole, so no tombstones are needed.
        int hole = i;
        for (int j = (i + 1) & mask; _keys[j] != 0; j = (j + 1) & mask)
        {
            int home = Slot(_keys[j], mask);
            bool movable = hole <= j ? home <= hole || home > j : home <= hole && home > j;
            if (movable)
            {
                _keys[hole] = _keys[j];
                _values[hole] = _values[j];
                hole = j;
            }
        }
        _keys[hole] = 0;
        _values[hole] = 0;
        _count--;
        if (_keys.Length > MinCapacity && _count * 10 < _keys.Length)
        {
            Resize(_keys.Length / 2);
        }
        return true;
    }

    private static int Slot(ulong ino, int mask) => (int)((ino * 0x9E3779B97F4A7C15UL) >> 32) & mask;

    private void Resize(int capacity)
    {
        ulong[] keys = _keys, values = _values;
        _keys = new ulong[capacity];
        _values = new ulong[capacity];
        _count = 0;
        for (int i = 0; i < keys.Length; i++)
        {
            if (keys[i] != 0)
            {
                Set(keys[i], values[i]);
            }
        }
    }
}
