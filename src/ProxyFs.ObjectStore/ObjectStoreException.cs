namespace ProxyFs.ObjectStore;

/// <summary>What went wrong in an <see cref="ObjectStoreException"/>, which says what the caller can do about it.</summary>
public enum ObjectStoreErrorKind
{
    /// <summary>The key does not exist (HTTP 404 NoSuchKey).</summary>
    NotFound,

    /// <summary>A conditional put lost: the key exists (create-only) or its ETag differs (compare-and-swap). HTTP 412.</summary>
    PreconditionFailed,

    /// <summary>The store asked to slow down (HTTP 503 SlowDown, 429). Retry after a backoff.</summary>
    Throttled,

    /// <summary>A failure that may pass: 5xx, a timeout, a refused or reset connection, a body that ended early. Retry.</summary>
    Transient,

    /// <summary>A failure that retrying will not fix: other 4xx answers, a corrupt object file, an I/O error.</summary>
    Permanent,

    /// <summary>The credentials were refused (HTTP 403 InvalidAccessKeyId, SignatureDoesNotMatch, AccessDenied) or are missing.</summary>
    AuthFailed,

    /// <summary>The bucket (or the root directory of a file store) does not exist.</summary>
    NoSuchBucket,

    /// <summary>
    /// A compare-and-swap put failed in a way that leaves unknown whether it took effect (the connection dropped after
    /// the request was sent), and the object has changed since. Re-read the object to find out; do not assume either.
    /// </summary>
    Indeterminate,
}

/// <summary>The operations of <see cref="IObjectStore"/>, for messages and metrics.</summary>
public enum ObjectStoreOperation
{
    /// <summary><see cref="IObjectStore.HeadAsync"/>.</summary>
    Head,

    /// <summary><see cref="IObjectStore.GetAsync"/> and reads of the stream it returns.</summary>
    Get,

    /// <summary><see cref="IObjectStore.PutAsync"/>.</summary>
    Put,

    /// <summary><see cref="IObjectStore.DeleteAsync"/>.</summary>
    Delete,

    /// <summary><see cref="IObjectStore.ListAsync"/>.</summary>
    List,

    /// <summary>Opening the store itself (configuration, credentials, root directory).</summary>
    Open,
}

/// <summary>
/// The one exception type of the object stores. The message names the operation, the store's location and the key,
/// and then the cause, e.g. <c>PUT s3://b/p (http://127.0.0.1:7480) key 'root': PreconditionFailed: HTTP 412 ...</c>.
/// </summary>
public class ObjectStoreException : IOException
{
    /// <summary>Creates an exception; <paramref name="detail"/> says what happened, in words a person can act on.</summary>
    public ObjectStoreException(ObjectStoreErrorKind kind, ObjectStoreOperation operation, string location, string? key, string detail, Exception? innerException = null)
        : base(Format(kind, operation, location, key, detail), innerException)
    {
        Kind = kind;
        Operation = operation;
        Location = location;
        Key = key;
        Detail = detail;
    }

    /// <summary>What went wrong.</summary>
    public ObjectStoreErrorKind Kind { get; }

    /// <summary>The operation that failed.</summary>
    public ObjectStoreOperation Operation { get; }

    /// <summary>The store's location, without secrets.</summary>
    public string Location { get; }

    /// <summary>The key (or the listing prefix), or null when the failure is not about one key.</summary>
    public string? Key { get; }

    /// <summary>The cause, without the operation, location and key.</summary>
    public string Detail { get; }

    /// <summary>HTTP status of the answer when the store is reached over HTTP, else 0.</summary>
    public int HttpStatus { get; init; }

    /// <summary>
    /// True when the request may have taken effect although it failed: a timeout or a connection that broke after the
    /// request was sent (not an error answer from the server, and not a refused connection).
    /// </summary>
    public bool OutcomeUnknown { get; init; }

    /// <summary>True for <see cref="ObjectStoreErrorKind.Transient"/> and <see cref="ObjectStoreErrorKind.Throttled"/>: the same request may succeed later.</summary>
    public bool IsRetryable => Kind is ObjectStoreErrorKind.Transient or ObjectStoreErrorKind.Throttled;

    private static string Format(ObjectStoreErrorKind kind, ObjectStoreOperation operation, string location, string? key, string detail)
    {
        string op = operation.ToString().ToUpperInvariant();
        return key is null
            ? $"{op} {location}: {kind}: {detail}"
            : $"{op} {location} key '{key}': {kind}: {detail}";
    }
}
