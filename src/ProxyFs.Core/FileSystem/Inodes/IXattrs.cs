namespace ProxyFs.Core.FileSystem.Inodes;

/// <summary>Receives the names of <see cref="IXattrs.VisitNames"/>, one call each.</summary>
public interface IXattrNameVisitor
{
    /// <summary>Takes one name; <paramref name="name"/> is valid during the call only.</summary>
    void Visit(ReadOnlySpan<byte> name);
}

/// <summary>
/// The extended attributes of one inode, as raw names and values. Which names a caller may see or change (the
/// namespaces, permissions, size limits) is the POSIX layer's business; this is storage.
/// </summary>
/// <remarks>
/// The owning inode's <see cref="Inode.Sync"/> is held for every call. Changes take the operation they belong to.
/// Faults of the backing storage are exceptions.
/// </remarks>
public interface IXattrs
{
    /// <summary>
    /// The length of the value of <paramref name="name"/>, or -1 when there is none. The value is copied into
    /// <paramref name="destination"/> when that is not empty and large enough; otherwise nothing is copied.
    /// </summary>
    int Get(ReadOnlySpan<byte> name, Span<byte> destination);

    /// <summary>
    /// Sets a value: with <see cref="XattrFlags.Create"/> EEXIST if the name is there, with
    /// <see cref="XattrFlags.Replace"/> ENODATA if it is not; ENOSPC when there is no room. 0 when set.
    /// </summary>
    int Set(InodeOperation op, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, XattrFlags flags);

    /// <summary>Removes a name; false when it was not there.</summary>
    bool Remove(InodeOperation op, ReadOnlySpan<byte> name);

    /// <summary>Visits every name, in one stable order (byte order of the names).</summary>
    void VisitNames<TVisitor>(ref TVisitor visitor)
        where TVisitor : IXattrNameVisitor, allows ref struct;
}
