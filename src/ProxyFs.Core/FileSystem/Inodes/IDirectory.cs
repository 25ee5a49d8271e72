namespace ProxyFs.Core.FileSystem.Inodes;

/// <summary>One directory entry as the store keeps it: the inode it names, that inode's type and its cookie.</summary>
/// <param name="Ino">The inode the name refers to.</param>
/// <param name="Type">The file type bits (S_IFMT) of that inode, so a listing needs no inode loads.</param>
/// <param name="Cookie">The readdir offset just after this entry.</param>
public readonly record struct DirectoryEntry(ulong Ino, uint Type, long Cookie);

/// <summary>Receives the entries of <see cref="IDirectory.Enumerate"/>, one call each, in cookie order.</summary>
public interface IDirectoryVisitor
{
    /// <summary>Takes one entry; false stops the enumeration. <paramref name="name"/> is valid during the call only.</summary>
    bool Visit(ReadOnlySpan<byte> name, in DirectoryEntry entry);
}

/// <summary>
/// The entries of one directory (never "." or ".."; the layer answers those from <see cref="Inode.Parent"/>).
/// The memory store holds a hash table and a cookie-ordered list; the volume keeps two kinds of B+tree records,
/// name → (ino, type, cookie) and cookie → name, so a directory of millions of entries is never in memory whole.
/// </summary>
/// <remarks>
/// <para><b>Locking.</b> Not thread-safe: the POSIX layer's namespace lock guards every directory, read-held for
/// <see cref="TryFind"/>, <see cref="Enumerate"/>, <see cref="Count"/> and <see cref="IsEmpty"/>, write-held for the
/// changes. No inode lock is held when these are called, so an implementation may load pages.</para>
/// <para><b>Cookies.</b> Each <see cref="Add"/> gives the entry the next cookie of its directory: cookies are
/// greater than 2 (the layer uses 1 and 2 for "." and ".."), strictly increase in the order entries are added,
/// are never given again in the life of the directory, and stay with the entry until it is removed (also across
/// <see cref="Replace"/>). Hence a listing resumed after a cookie neither skips nor repeats an entry present
/// throughout, however many entries are added and removed in between.</para>
/// <para><b>Changes</b> take the operation they belong to and are part of its atomic unit. Preconditions (the name
/// absent for Add, present for Remove and Replace) are the caller's: it looked under the same write lock.</para>
/// <para><b>Faults</b> of the backing storage are exceptions, never errno results.</para>
/// </remarks>
public interface IDirectory
{
    /// <summary>Number of entries.</summary>
    long Count { get; }

    bool IsEmpty { get; }

    /// <summary>Finds a name. Must not allocate when the name is present (the LOOKUP hot path).</summary>
    bool TryFind(ReadOnlySpan<byte> name, out DirectoryEntry entry);

    /// <summary>Adds an entry the directory does not have; returns its cookie.</summary>
    long Add(InodeOperation op, ReadOnlySpan<byte> name, ulong ino, uint type);

    /// <summary>Removes an entry the directory has.</summary>
    void Remove(InodeOperation op, ReadOnlySpan<byte> name);

    /// <summary>Points an existing entry at another inode, keeping its name and cookie (RENAME_EXCHANGE).</summary>
    void Replace(InodeOperation op, ReadOnlySpan<byte> name, ulong ino, uint type);

    /// <summary>Visits the entries whose cookie is greater than <paramref name="afterCookie"/>, in cookie order, until the visitor says stop.</summary>
    void Enumerate<TVisitor>(long afterCookie, ref TVisitor visitor)
        where TVisitor : IDirectoryVisitor, allows ref struct;
}
