namespace ProxyFs.ObjectStore;

/// <summary>
/// One object store: a flat namespace of keys, each naming an immutable-until-replaced byte string. Every layer that
/// stores bytes (log segments, B+tree pages, the checkpoint root pointer, leases) is written against this interface,
/// and every backend (<c>file://</c>, <c>s3://</c>, <c>memory://</c>) and decorator (retries, metrics, fault injection)
/// implements it. docs/OBJECTSTORE.md is the contract; the conformance suite in tests/ProxyFs.ObjectStore.Tests holds
/// every implementation to it.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Keys are non-empty strings of at most 1,024 UTF-8 bytes, without control characters or lone surrogates
/// (<see cref="ObjectKeys.Validate"/>); a bad key throws <see cref="ArgumentException"/>. Listings are in the order of
/// the keys' UTF-8 bytes, as S3 lists them.</item>
/// <item>Every failure of the store is an <see cref="ObjectStoreException"/> whose <see cref="ObjectStoreException.Kind"/>
/// says what to do about it; cancellation through the token is an <see cref="OperationCanceledException"/>.</item>
/// <item>ETags are opaque strings without quotes. Two puts never produce the same ETag on <c>file://</c> and
/// <c>memory://</c>; on S3 the server decides (an MD5 for single-part puts).</item>
/// <item>Implementations are safe for concurrent use by many threads.</item>
/// </list>
/// </remarks>
public interface IObjectStore : IAsyncDisposable
{
    /// <summary>Where the store is, without secrets (for messages and logs): <c>file:///srv/x</c>, <c>s3://bucket/prefix (http://127.0.0.1:7480)</c>.</summary>
    string Location { get; }

    /// <summary>Size, ETag and modification time of one object. Throws <see cref="ObjectStoreErrorKind.NotFound"/> when it does not exist.</summary>
    Task<ObjectInfo> HeadAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Opens the bytes of <paramref name="range"/> of one object as a stream that is read straight from the store (no
    /// whole-body copy). A range that starts at or past the end of the object gives an empty stream; a suffix range
    /// longer than the object gives the whole object. The stream fails with <see cref="ObjectStoreErrorKind.Transient"/>
    /// when the body ends early. Dispose it promptly: it holds a connection or a file handle.
    /// </summary>
    Task<ObjectReadStream> GetAsync(string key, ByteRange range = default, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores <paramref name="body"/> under <paramref name="key"/>, atomically: readers see the old object or the new one,
    /// never a mixture. With <see cref="PutCondition.IfNoneMatch"/> the put fails with
    /// <see cref="ObjectStoreErrorKind.PreconditionFailed"/> when the key exists; with
    /// <see cref="PutCondition.IfMatch(string)"/> it fails the same way unless the current ETag is the given one. Of
    /// several concurrent conditional puts on one key, at most one succeeds.
    /// </summary>
    Task<PutResult> PutAsync(string key, ObjectBody body, PutCondition condition = default, CancellationToken cancellationToken = default);

    /// <summary>Removes one object. Idempotent: deleting a key that does not exist succeeds.</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// One page of the keys that start with <paramref name="prefix"/> and sort after <paramref name="startAfter"/>
    /// (null: from the first), in key order, at most <paramref name="maxKeys"/> (1 to 1,000). When
    /// <see cref="ObjectListing.NextStartAfter"/> is not null there may be more: pass it as <paramref name="startAfter"/>.
    /// </summary>
    Task<ObjectListing> ListAsync(string prefix, string? startAfter = null, int maxKeys = ObjectListing.MaxPageSize, CancellationToken cancellationToken = default);
}
