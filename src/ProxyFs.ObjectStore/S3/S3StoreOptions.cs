using Amazon.Runtime;

namespace ProxyFs.ObjectStore.S3;

/// <summary>
/// Options of an <c>s3://</c> store. Credentials never come from here when the options are read from a URI or a
/// configuration file: they come from the standard AWS sources (<see cref="S3Credentials"/>).
/// </summary>
public sealed record S3StoreOptions
{
    /// <summary>The bucket.</summary>
    public required string Bucket { get; init; }

    /// <summary>A key prefix under which the store lives (a trailing <c>/</c> is added when missing); empty for the whole bucket.</summary>
    public string Prefix { get; init; } = "";

    /// <summary>The endpoint, e.g. <c>http://127.0.0.1:7480</c>; null for AWS itself (the region's endpoint).</summary>
    public Uri? Endpoint { get; init; }

    /// <summary>The region, which is also the SigV4 signing region (radosgw accepts us-east-1).</summary>
    public string Region { get; init; } = "us-east-1";

    /// <summary>Path-style addressing (<c>http://host/bucket/key</c>); null: true when <see cref="Endpoint"/> is set.</summary>
    public bool? PathStyle { get; init; }

    /// <summary>The profile of the shared credentials file to use; null: <c>AWS_PROFILE</c>, else <c>default</c>, after the environment's keys.</summary>
    public string? Profile { get; init; }

    /// <summary>Credentials given in code (tests, tools); when set, the standard sources are not consulted.</summary>
    public AWSCredentials? Credentials { get; init; }

    /// <summary>Connections for GET, HEAD and LIST (their own pool).</summary>
    public int ReadConnections { get; init; } = 64;

    /// <summary>Connections for PUT, DELETE and multipart uploads (their own pool).</summary>
    public int WriteConnections { get; init; } = 32;

    /// <summary>Unconditional puts larger than this use a multipart upload (conditional puts never do).</summary>
    public long MultipartThreshold { get; init; } = 32L << 20;

    /// <summary>The size of a part of a multipart upload (S3's minimum is 5 MiB, except for the last part).</summary>
    public int PartSize { get; init; } = 8 << 20;

    /// <summary>Parts of one multipart upload sent at once.</summary>
    public int PartConcurrency { get; init; } = 4;

    /// <summary>
    /// Send put bodies with SigV4 streaming signatures (<c>aws-chunked</c>: the body is signed chunk by chunk while it
    /// is sent), as the SDK does by default; false signs the whole body before sending it (one more pass over the
    /// bytes). s3rver needs false: it stores the chunk framing as the object's bytes.
    /// </summary>
    public bool ChunkedUpload { get; init; } = true;

    /// <summary>Establishing a TCP connection fails after this (an unreachable endpoint fails fast).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// One request fails with <see cref="ObjectStoreErrorKind.Transient"/> when it takes longer than this (for a GET:
    /// until the headers; for a put: plus one second per 4 MiB of body).
    /// </summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A GET body read that receives nothing for this long fails with <see cref="ObjectStoreErrorKind.Transient"/>.</summary>
    public TimeSpan ReadIdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Retries of the parts of a multipart upload (whole requests are retried by <see cref="Decorators.RetryingObjectStore"/>).</summary>
    public RetryPolicy PartRetry { get; init; } = RetryPolicy.Default;

    /// <summary>Throws <see cref="ArgumentException"/> when an option is out of range.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Bucket) || Bucket.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{Bucket}' is not a bucket name", nameof(Bucket));
        }
        if (Endpoint is not null && Endpoint.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"the endpoint must be an http:// or https:// URL, not '{Endpoint}'", nameof(Endpoint));
        }
        if (string.IsNullOrWhiteSpace(Region))
        {
            throw new ArgumentException("the region must not be empty", nameof(Region));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(ReadConnections, 1, nameof(ReadConnections));
        ArgumentOutOfRangeException.ThrowIfLessThan(WriteConnections, 1, nameof(WriteConnections));
        ArgumentOutOfRangeException.ThrowIfLessThan(PartSize, 5 << 20, nameof(PartSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MultipartThreshold, PartSize, nameof(MultipartThreshold));
        ArgumentOutOfRangeException.ThrowIfLessThan(PartConcurrency, 1, nameof(PartConcurrency));
        if (ConnectTimeout <= TimeSpan.Zero || RequestTimeout <= TimeSpan.Zero || ReadIdleTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("timeouts must be positive");
        }
        ArgumentNullException.ThrowIfNull(PartRetry, nameof(PartRetry));
    }
}
