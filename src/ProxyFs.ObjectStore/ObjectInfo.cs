namespace ProxyFs.ObjectStore;

/// <summary>What a store knows about one object.</summary>
/// <param name="Key">The key, relative to the store (without an S3 prefix).</param>
/// <param name="Size">The size of the whole object in bytes.</param>
/// <param name="ETag">The entity tag without quotes; changes with every put.</param>
/// <param name="LastModified">When the object was last put, as the store reports it.</param>
public sealed record ObjectInfo(string Key, long Size, string ETag, DateTimeOffset LastModified);

/// <summary>The result of a put.</summary>
/// <param name="ETag">The new object's entity tag, without quotes: the value to give to <see cref="PutCondition.IfMatch(string)"/>.</param>
/// <param name="Size">The number of bytes stored.</param>
public readonly record struct PutResult(string ETag, long Size);

/// <summary>One page of a listing.</summary>
/// <param name="Objects">The objects of the page, in key order.</param>
/// <param name="NextStartAfter">Null when the listing is complete; otherwise the key to pass as <c>startAfter</c> for the next page.</param>
public sealed record ObjectListing(IReadOnlyList<ObjectInfo> Objects, string? NextStartAfter)
{
    /// <summary>The largest page a store returns (S3's limit).</summary>
    public const int MaxPageSize = 1000;

    /// <summary>True when there may be more keys after this page.</summary>
    public bool IsTruncated => NextStartAfter is not null;
}
