using ProxyFs.ObjectStore;

namespace ProxyFs.Host.Daemon;

/// <summary>
/// The one line a command prints for a store failure: the store's own message (operation, location, key, cause)
/// followed by what to do about it, for the failures a person fixes by hand (a missing bucket, refused credentials,
/// an endpoint nothing answers on).
/// </summary>
public static class StoreErrors
{
    /// <summary>The message of <paramref name="e"/>, with a hint when the failure is one a person fixes.</summary>
    public static string Describe(Exception e) => e is ObjectStoreException s && Hint(s) is { } hint ? $"{s.Message}; {hint}" : e.Message;

    /// <summary>What to do about <paramref name="e"/>, or null when retrying or reading the message is all there is.</summary>
    public static string? Hint(ObjectStoreException e) => e.Kind switch
    {
        ObjectStoreErrorKind.NoSuchBucket when e.Location.StartsWith("s3://", StringComparison.Ordinal) =>
            "the bucket does not exist: create it first or correct the bucket in the URI",
        ObjectStoreErrorKind.NoSuchBucket => "the directory does not exist: create it first or correct the path in the URI",
        ObjectStoreErrorKind.AuthFailed when e.HttpStatus != 0 => // the store answered (missing credentials say so themselves)
            "the store refused the credentials: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, credentials_file in the configuration, or AWS_PROFILE",
        ObjectStoreErrorKind.Transient when e.Location.StartsWith("s3://", StringComparison.Ordinal) =>
            "check the endpoint in the URI and that the store is up",
        _ => null,
    };
}
