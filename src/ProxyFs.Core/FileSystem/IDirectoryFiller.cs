namespace ProxyFs.Core.FileSystem;

/// <summary>
/// Receives directory entries from <see cref="IFileSystem.ReadDir"/> and <see cref="IFileSystem.ReadDirPlus"/>
/// until the reply is full.
/// </summary>
public interface IDirectoryFiller
{
    /// <summary>
    /// Adds one entry. <paramref name="mode"/> carries the entry's file type (the S_IFMT bits; permission bits may
    /// be absent, as a directory entry does not record them). <paramref name="nextOffset"/> is the cookie that
    /// resumes the listing just after this entry. Returns false when there is no room: the entry was not added and
    /// the listing should stop.
    /// </summary>
    bool Add(ReadOnlySpan<byte> name, ulong ino, uint mode, long nextOffset);

    /// <summary>
    /// Adds one entry with its attributes (readdirplus). Returns false when there is no room: the entry was not
    /// added. The filesystem increments the lookup count of every entry this accepts except "." and "..".
    /// </summary>
    bool AddPlus(ReadOnlySpan<byte> name, in EntryOut entry, long nextOffset);
}

/// <summary>
/// Lets a filesystem drop what the kernel caches when something changes behind the kernel's back. Calls must not
/// be made while serving a request for the same directory; implementations queue them.
/// </summary>
public interface ICacheInvalidator
{
    /// <summary>Drops cached attributes and the cached data in [offset, offset+length) (length 0: to the end).</summary>
    void InvalidateInode(ulong ino, long offset, long length);

    /// <summary>Drops a cached name in a directory.</summary>
    void InvalidateEntry(ulong parent, ReadOnlySpan<byte> name);
}
