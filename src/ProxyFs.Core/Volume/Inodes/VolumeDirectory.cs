using ProxyFs.Core.FileSystem.Inodes;

namespace ProxyFs.Core.Volume.Inodes;

/// <summary>
/// The entries of one directory as two kinds of tree records: 'D' (dir, name) → (cookie, ino, type) for lookups and
/// 'C' (dir, cookie) → (ino, type, name) for listings in cookie order. Nothing of the directory is held in memory but
/// its next cookie (kept in the directory's inode record) and, once asked for, its entry count; so a directory of
/// millions of entries costs what the tree's page cache holds of it.
/// </summary>
internal sealed class VolumeDirectory : IDirectory
{
    private const int ListingBatch = 128;

    private readonly VolumeInodeStore _store;
    private readonly ulong _ino;
    private Inode? _owner;
    private long _nextCookie;
    private long _count = -1;

    public VolumeDirectory(VolumeInodeStore store, ulong ino, ulong nextCookie)
    {
        _store = store;
        _ino = ino;
        // The record holds the next cookie: every Add marks the directory's record dirty in the same operation, and
        // records and entries reach the store in the same checkpoint.
        _nextCookie = (long)Math.Max(nextCookie, VolumeInodeStore.FirstCookie);
    }

    /// <summary>The cookie the next entry gets (stored in the directory's inode record).</summary>
    public ulong NextCookie => (ulong)Volatile.Read(ref _nextCookie);

    public void Attach(Inode owner) => _owner = owner;

    public long Count
    {
        get
        {
            if (_count < 0)
            {
                Span<byte> prefix = stackalloc byte[9];
                VolumeKeys.PrefixOf(prefix, VolumeKeys.DirentByName, _ino);
                _count = _store.Tree.CountPrefix(prefix);
            }
            return _count;
        }
    }

    public bool IsEmpty
    {
        get
        {
            if (_count >= 0)
            {
                return _count == 0;
            }
            Span<byte> prefix = stackalloc byte[9];
            VolumeKeys.PrefixOf(prefix, VolumeKeys.DirentByName, _ino);
            bool any = false;
            _store.Tree.ScanPrefix(prefix, (_, _) =>
            {
                any = true;
                return false;
            });
            if (!any)
            {
                _count = 0;
            }
            return !any;
        }
    }

    public bool TryFind(ReadOnlySpan<byte> name, out DirectoryEntry entry)
    {
        Span<byte> key = stackalloc byte[VolumeKeys.MaxLength];
        if (!_store.Tree.TryGet(key[..VolumeKeys.OfDirentByName(key, _ino, name)], out byte[]? value))
        {
            entry = default;
            return false;
        }
        (ulong cookie, ulong ino, byte type) = DirentValues.DecodeByName(value);
        entry = new DirectoryEntry(ino, (uint)type << 12, (long)cookie);
        return true;
    }

    public long Add(InodeOperation op, ReadOnlySpan<byte> name, ulong ino, uint type)
    {
        op.Record(_store);
        long cookie = _nextCookie++;
        Put(name, (ulong)cookie, ino, type);
        if (_count >= 0)
        {
            _count++;
        }
        if (_owner is not null)
        {
            ((VolumeOperation)op).Dirty(_owner); // the next cookie is part of the record
        }
        return cookie;
    }

    public void Remove(InodeOperation op, ReadOnlySpan<byte> name)
    {
        ulong cookie = CookieOf(name);
        op.Record(_store);
        Span<byte> key = stackalloc byte[VolumeKeys.MaxLength];
        _store.TreeDelete(key[..VolumeKeys.OfDirentByName(key, _ino, name)]);
        _store.TreeDelete(key[..VolumeKeys.OfDirentByCookie(key, _ino, cookie)]);
        if (_count > 0)
        {
            _count--;
        }
    }

    public void Replace(InodeOperation op, ReadOnlySpan<byte> name, ulong ino, uint type)
    {
        ulong cookie = CookieOf(name);
        op.Record(_store);
        Put(name, cookie, ino, type);
    }

    public void Enumerate<TVisitor>(long afterCookie, ref TVisitor visitor)
        where TVisitor : IDirectoryVisitor, allows ref struct
    {
        var batch = new List<(byte[] Name, DirectoryEntry Entry)>(ListingBatch);
        byte[] from = new byte[17];
        while (true)
        {
            batch.Clear();
            VolumeKeys.OfDirentByCookie(from, _ino, (ulong)Math.Max(0, afterCookie));
            _store.Tree.Scan(from, (k, v) =>
            {
                if (k.Length != 17 || k[0] != VolumeKeys.DirentByCookie || VolumeKeys.FirstNumber(k) != _ino)
                {
                    return false;
                }
                (ulong entryIno, byte type) = DirentValues.DecodeByCookie(v, out ReadOnlySpan<byte> name);
                batch.Add((name.ToArray(), new DirectoryEntry(entryIno, (uint)type << 12, (long)VolumeKeys.SecondNumber(k))));
                return batch.Count < ListingBatch;
            }, after: true);
            foreach ((byte[] name, DirectoryEntry entry) in batch)
            {
                if (!visitor.Visit(name, entry))
                {
                    return;
                }
            }
            if (batch.Count < ListingBatch)
            {
                return;
            }
            afterCookie = batch[^1].Entry.Cookie;
        }
    }

    private ulong CookieOf(ReadOnlySpan<byte> name)
    {
        Span<byte> key = stackalloc byte[VolumeKeys.MaxLength];
        if (!_store.Tree.TryGet(key[..VolumeKeys.OfDirentByName(key, _ino, name)], out byte[]? value))
        {
            throw new InvalidOperationException($"directory {_ino}: no entry '{System.Text.Encoding.UTF8.GetString(name)}' to change");
        }
        return DirentValues.DecodeByName(value).Cookie;
    }

    private void Put(ReadOnlySpan<byte> name, ulong cookie, ulong ino, uint type)
    {
        byte dtype = (byte)(type >> 12);
        Span<byte> key = stackalloc byte[VolumeKeys.MaxLength];
        Span<byte> value = stackalloc byte[9 + VolumeKeys.MaxLength];
        DirentValues.EncodeByName(value, cookie, ino, dtype);
        _store.TreePut(key[..VolumeKeys.OfDirentByName(key, _ino, name)], value[..DirentValues.ByNameLength]);
        int length = DirentValues.EncodeByCookie(value, ino, dtype, name);
        _store.TreePut(key[..VolumeKeys.OfDirentByCookie(key, _ino, cookie)], value[..length]);
    }
}
