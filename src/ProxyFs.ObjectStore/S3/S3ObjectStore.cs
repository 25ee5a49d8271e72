using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace ProxyFs.ObjectStore.S3;

/// <summary>
/// The <c>s3://</c> backend on AWSSDK.S3, but for GETs, which it signs and sends itself (<see cref="S3RequestSigner"/>:
/// a cold read makes hundreds per GiB): separate clients (and connection pools) for reads and writes; multipart
/// uploads with parallel parts above <see cref="S3StoreOptions.MultipartThreshold"/>; conditional puts as single
/// requests (radosgw ignores conditions on CompleteMultipartUpload); per-request timeouts. Whole requests are not
/// retried here (wrap it in <see cref="Decorators.RetryingObjectStore"/>, as <see cref="ObjectStores.Open(string, ObjectStoreOpenOptions?)"/>
/// does); parts of a multipart upload are, by <see cref="S3StoreOptions.PartRetry"/>.
/// </summary>
/// <remarks>
/// Settings that real servers need (docs/OBJECTSTORE.md): <c>RequestChecksumCalculation = WHEN_REQUIRED</c> (the SDK's
/// default trailing checksums make radosgw 16 answer 400 XAmzContentSHA256Mismatch), path-style addressing for custom
/// endpoints, and <c>If-Match</c> sent with the ETag unquoted (radosgw compares the bytes).
/// </remarks>
public sealed class S3ObjectStore : IObjectStore
{
    private readonly S3StoreOptions _options;
    private readonly string _bucket;
    private readonly string _prefix;
    private readonly int _prefixBytes;
    private readonly AmazonS3Client _readClient;
    private readonly AmazonS3Client _writeClient;
    private readonly S3HttpClientFactory _readFactory;
    private readonly S3HttpClientFactory _writeFactory;
    private readonly AWSCredentials _credentials;
    private readonly S3RequestSigner _signer;
    private readonly string _readOrigin; // scheme://host[:port] of the GETs
    private readonly string _readHost;
    private readonly string _readPathPrefix;

    /// <summary>Creates the clients; no request is made until the first operation.</summary>
    public S3ObjectStore(S3StoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _bucket = options.Bucket;
        string prefix = options.Prefix.TrimStart('/');
        _prefix = prefix.Length == 0 || prefix.EndsWith('/') ? prefix : prefix + "/";
        _prefixBytes = Encoding.UTF8.GetByteCount(_prefix);
        Location = $"s3://{_bucket}/{_prefix}" + (options.Endpoint is null ? $" ({options.Region})" : $" ({options.Endpoint.GetLeftPart(UriPartial.Authority)})");
        var credentials = S3Credentials.Resolve(options, Location);
        _readFactory = new S3HttpClientFactory(options.ReadConnections, options.ConnectTimeout, BatchedReceiveStream.BatchFor(options.ReadIdleTimeout));
        _writeFactory = new S3HttpClientFactory(options.WriteConnections, options.ConnectTimeout);
        _readClient = new AmazonS3Client(credentials, CreateConfig(options, _readFactory));
        _writeClient = new AmazonS3Client(credentials, CreateConfig(options, _writeFactory));
        _credentials = credentials;
        _signer = new S3RequestSigner(options.Region);
        (Uri readBase, _readPathPrefix) = ReadTarget(options);
        _readOrigin = readBase.GetLeftPart(UriPartial.Authority);
        _readHost = readBase.IsDefaultPort ? readBase.IdnHost : $"{readBase.IdnHost}:{readBase.Port}";
    }

    /// <inheritdoc />
    public string Location { get; }

    /// <summary>The options the store was created with.</summary>
    public S3StoreOptions Options => _options;

    /// <summary>
    /// Where the GETs of the read path go, as the SDK addresses the bucket: with an endpoint, path style by default
    /// (<c>endpoint/bucket/key</c>) or virtual-hosted (<c>bucket.host/key</c>); without one, the region's AWS endpoint,
    /// virtual-hosted unless path style is asked for or the bucket name has a dot (a TLS name would not match).
    /// </summary>
    internal static (Uri Base, string PathPrefix) ReadTarget(S3StoreOptions options)
    {
        bool pathStyle = options.PathStyle ?? options.Endpoint is not null;
        string bucket = options.Bucket;
        if (options.Endpoint is { } endpoint)
        {
            string basePath = endpoint.AbsolutePath.TrimEnd('/');
            var authority = new Uri(endpoint.GetLeftPart(UriPartial.Authority));
            return pathStyle
                ? (authority, basePath + "/" + bucket)
                : (new UriBuilder(authority) { Host = bucket + "." + authority.Host }.Uri, basePath);
        }
        string domain = options.Region.StartsWith("cn-", StringComparison.Ordinal) ? "amazonaws.com.cn" : "amazonaws.com";
        return pathStyle || bucket.Contains('.')
            ? (new Uri($"https://s3.{options.Region}.{domain}"), "/" + bucket)
            : (new Uri($"https://{bucket}.s3.{options.Region}.{domain}"), "");
    }

    private static AmazonS3Config CreateConfig(S3StoreOptions options, S3HttpClientFactory factory)
    {
        var config = new AmazonS3Config
        {
            AuthenticationRegion = options.Region,
            ForcePathStyle = options.PathStyle ?? options.Endpoint is not null,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            MaxErrorRetry = 0,
            DefaultConfigurationMode = DefaultConfigurationMode.Standard,
            HttpClientFactory = factory,
            DisableLogging = true,
            BufferSize = 128 << 10,
        };
        if (options.Endpoint is not null)
        {
            config.ServiceURL = options.Endpoint.ToString();
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }
        return config;
    }

    /// <inheritdoc />
    public async Task<ObjectInfo> HeadAsync(string key, CancellationToken cancellationToken = default)
    {
        string full = FullKey(key);
        var response = await CallAsync(ObjectStoreOperation.Head, key, _options.RequestTimeout, ct =>
            _readClient.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _bucket, Key = full }, ct), cancellationToken).ConfigureAwait(false);
        return new ObjectInfo(key, response.ContentLength, ObjectKeys.UnquoteETag(response.ETag ?? ""), ToOffset(response.LastModified));
    }

    /// <inheritdoc />
    public Task<ObjectReadStream> GetAsync(string key, ByteRange range = default, CancellationToken cancellationToken = default) =>
        GetAsync(key, range, fallback: true, cancellationToken);

    private async Task<ObjectReadStream> GetAsync(string key, ByteRange range, bool fallback, CancellationToken cancellationToken)
    {
        string full = FullKey(key);
        string? header = range.ToHttpRange();
        HttpResponseMessage response;
        try
        {
            response = await CallAsync(ObjectStoreOperation.Get, key, _options.RequestTimeout, ct => SendGetAsync(key, full, header, ct), cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectStoreException e) when (e.HttpStatus == 416)
        {
            // The range starts at or past the end (or the object is empty): an empty body, as the contract says.
            var info = await HeadAsync(key, cancellationToken).ConfigureAwait(false);
            var (offset, length) = range.Resolve(info.Size);
            return new ObjectReadStream(Location, info, offset, length, Stream.Null);
        }
        try
        {
            // What the server sent: the whole object (200) or a Content-Range. Servers get ranges wrong (s3rver sends
            // the whole object for bytes=0-0 and the first bytes for a suffix range), so check it covers the request.
            var content = response.Content.Headers;
            long served = content.ContentLength ?? throw new ObjectStoreException(ObjectStoreErrorKind.Transient, ObjectStoreOperation.Get, Location, key,
                $"HTTP {(int)response.StatusCode} without a Content-Length")
            { HttpStatus = (int)response.StatusCode };
            long first = 0, size = served;
            if (content.TryGetValues("Content-Range", out var ranges) && ParseContentRange(ranges.First()) is (long start, long total))
            {
                first = start;
                size = total;
            }
            string etag = response.Headers.TryGetValues("ETag", out var etags) ? etags.First() : "";
            var info = new ObjectInfo(key, size, ObjectKeys.UnquoteETag(etag), content.LastModified ?? DateTimeOffset.UnixEpoch);
            var (offset, length) = range.Resolve(size);
            if (length == 0)
            {
                response.Dispose();
                return new ObjectReadStream(Location, info, offset, 0, Stream.Null);
            }
            if (first > offset || first + served < offset + length)
            {
                response.Dispose();
                if (fallback && range.IsSuffix)
                {
                    return await GetAsync(key, ByteRange.Of(offset, length), fallback: false, cancellationToken).ConfigureAwait(false);
                }
                throw new ObjectStoreException(ObjectStoreErrorKind.Permanent, ObjectStoreOperation.Get, Location, key,
                    $"asked for {range} of a {size}-byte object, the server sent {served} bytes from offset {first} ({(ranges is null ? "no Content-Range" : ranges.First())})");
            }
            var body = new IdleTimeoutStream(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), _options.ReadIdleTimeout);
            if (first < offset)
            {
                await SkipAsync(body, offset - first, cancellationToken).ConfigureAwait(false);
            }
            return new ObjectReadStream(Location, info, offset, length, body, response);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>
    /// One signed GET of <paramref name="full"/> (the key with the store's prefix) on the read pool, without the SDK:
    /// the response once its headers arrived (200 or 206; the body is read by the caller), or the error answer as an
    /// <see cref="ObjectStoreException"/> classified as the SDK's are.
    /// </summary>
    private async Task<HttpResponseMessage> SendGetAsync(string key, string full, string? range, CancellationToken cancellationToken)
    {
        string path = _readPathPrefix + "/" + S3RequestSigner.EncodePath(full);
        var credentials = await _credentials.GetCredentialsAsync().ConfigureAwait(false);
        string? token = credentials.UseToken ? credentials.Token : null;
        var signed = _signer.Sign("GET", _readHost, path, range, credentials.AccessKey, credentials.SecretKey, token, DateTime.UtcNow);
        // The path goes out exactly as signed (no unescaping or dot-segment removal by Uri).
        var uri = new Uri(_readOrigin + path, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Host = _readHost;
        request.Headers.TryAddWithoutValidation("x-amz-content-sha256", S3RequestSigner.EmptyPayloadHash);
        request.Headers.TryAddWithoutValidation("x-amz-date", signed.AmzDate);
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("x-amz-security-token", token);
        }
        if (range is not null)
        {
            request.Headers.TryAddWithoutValidation("Range", range);
        }
        request.Headers.TryAddWithoutValidation("Authorization", signed.Authorization);
        var response = await _readFactory.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is System.Net.HttpStatusCode.OK or System.Net.HttpStatusCode.PartialContent)
        {
            return response;
        }
        using (response)
        {
            string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw S3Errors.FromResponse((int)response.StatusCode, body.Length > (64 << 10) ? body[..(64 << 10)] : body, ObjectStoreOperation.Get, Location, key);
        }
    }

    // A contiguous array body goes to the SDK as a MemoryStream over the same array (no copy): the SDK hashes and sends
    // it through its fast paths. Other sequences (chains of pooled chunks) go as a SequenceStream.
    private static Stream BodyStream(ReadOnlySequence<byte> data) =>
        data.IsSingleSegment && MemoryMarshal.TryGetArray(data.First, out ArraySegment<byte> segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false, publiclyVisible: true)
            : new ObjectBody.SequenceStream(data);

    private static async Task SkipAsync(Stream body, long count, CancellationToken cancellationToken)
    {
        byte[] skip = ArrayPool<byte>.Shared.Rent(64 << 10);
        try
        {
            for (long left = count; left > 0;)
            {
                int n = await body.ReadAsync(skip.AsMemory(0, (int)Math.Min(skip.Length, left)), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new IOException($"the body ended while skipping {count} bytes the server sent before the range");
                }
                left -= n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(skip);
        }
    }

    /// <inheritdoc />
    public async Task<PutResult> PutAsync(string key, ObjectBody body, PutCondition condition = default, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        string full = FullKey(key);
        if (body.IsMemory)
        {
            var data = body.Memory;
            return condition.IsConditional || data.Length <= _options.MultipartThreshold
                ? await PutSingleAsync(key, full, data, condition, cancellationToken).ConfigureAwait(false)
                : await PutMultipartAsync(key, full, new SequenceParts(data, _options.PartSize), cancellationToken).ConfigureAwait(false);
        }

        // A stream: buffer up to the threshold (everything, for a conditional put); if it ends there, one PUT.
        var stream = body.OpenRead();
        long limit = condition.IsConditional ? long.MaxValue : _options.MultipartThreshold;
        var buffered = new List<byte[]>();
        var lengths = new List<int>();
        long total = 0;
        bool ended = false;
        try
        {
            while (total < limit)
            {
                byte[] chunk = ArrayPool<byte>.Shared.Rent(_options.PartSize);
                buffered.Add(chunk);
                int n = await ReadFullyAsync(stream, chunk.AsMemory(0, _options.PartSize), cancellationToken).ConfigureAwait(false);
                lengths.Add(n);
                total += n;
                if (n < _options.PartSize)
                {
                    ended = true;
                    break;
                }
            }
            if (ended)
            {
                var sequence = Chunks.ToSequence(buffered, lengths);
                return await PutSingleAsync(key, full, sequence, condition, cancellationToken).ConfigureAwait(false);
            }
            var parts = new StreamParts(stream, buffered, lengths, _options.PartSize);
            buffered = [];
            return await PutMultipartAsync(key, full, parts, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            foreach (byte[] chunk in buffered)
            {
                ArrayPool<byte>.Shared.Return(chunk);
            }
        }
    }

    private async Task<PutResult> PutSingleAsync(string key, string full, ReadOnlySequence<byte> data, PutCondition condition, CancellationToken cancellationToken)
    {
        var timeout = _options.RequestTimeout + TimeSpan.FromSeconds(data.Length / (4.0 * (1 << 20)));
        var response = await CallAsync(ObjectStoreOperation.Put, key, timeout, ct =>
        {
            var request = new PutObjectRequest
            {
                BucketName = _bucket,
                Key = full,
                InputStream = BodyStream(data),
                AutoCloseStream = true,
                AutoResetStreamPosition = false,
                UseChunkEncoding = _options.ChunkedUpload,
            };
            if (condition.Kind == PutConditionKind.IfNoneMatch)
            {
                request.IfNoneMatch = "*";
            }
            else if (condition.Kind == PutConditionKind.IfMatch)
            {
                request.IfMatch = condition.ETag; // unquoted: radosgw compares the bytes
            }
            return _writeClient.PutObjectAsync(request, ct);
        }, cancellationToken).ConfigureAwait(false);
        return new PutResult(ObjectKeys.UnquoteETag(response.ETag ?? ""), data.Length);
    }

    private async Task<PutResult> PutMultipartAsync(string key, string full, IPartSource parts, CancellationToken cancellationToken)
    {
        try
        {
            var initiated = await CallAsync(ObjectStoreOperation.Put, key, _options.RequestTimeout, ct =>
                _writeClient.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _bucket, Key = full }, ct), cancellationToken).ConfigureAwait(false);
            string uploadId = initiated.UploadId;
            try
            {
                var etags = new List<PartETag>();
                var running = new List<Task<PartETag>>();
                long total = 0;
                int number = 0;
                while (true)
                {
                    var part = await parts.NextAsync(cancellationToken).ConfigureAwait(false);
                    if (part is null)
                    {
                        break;
                    }
                    total += part.Data.Length;
                    running.Add(UploadPartAsync(key, full, uploadId, ++number, part, cancellationToken));
                    if (running.Count >= _options.PartConcurrency)
                    {
                        var done = await Task.WhenAny(running).ConfigureAwait(false);
                        running.Remove(done);
                        etags.Add(await done.ConfigureAwait(false));
                    }
                }
                etags.AddRange(await Task.WhenAll(running).ConfigureAwait(false));
                etags.Sort((a, b) => a.PartNumber!.Value.CompareTo(b.PartNumber!.Value));
                var completed = await CallAsync(ObjectStoreOperation.Put, key, _options.RequestTimeout + TimeSpan.FromSeconds(etags.Count), ct =>
                    _writeClient.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
                    {
                        BucketName = _bucket,
                        Key = full,
                        UploadId = uploadId,
                        PartETags = etags,
                    }, ct), cancellationToken).ConfigureAwait(false);
                string etag = ObjectKeys.UnquoteETag(completed.ETag ?? "");
                if (etag.Length == 0)
                {
                    // radosgw 16 answers CompleteMultipartUpload without an ETag the SDK can read: ask for it.
                    etag = (await HeadAsync(key, cancellationToken).ConfigureAwait(false)).ETag;
                }
                return new PutResult(etag, total);
            }
            catch (Exception e) when (e is ObjectStoreException or OperationCanceledException)
            {
                string? abortFailure = await AbortAsync(key, uploadId).ConfigureAwait(false);
                if (abortFailure is not null && e is ObjectStoreException failure)
                {
                    throw new ObjectStoreException(failure.Kind, failure.Operation, failure.Location, failure.Key, $"{failure.Detail}; {abortFailure}", failure)
                    {
                        HttpStatus = failure.HttpStatus,
                    };
                }
                throw;
            }
        }
        finally
        {
            parts.Dispose();
        }
    }

    private async Task<PartETag> UploadPartAsync(string key, string full, string uploadId, int number, Part part, CancellationToken cancellationToken)
    {
        // Start on another thread so that reading the next part from the body overlaps with sending this one.
        await Task.Yield();
        try
        {
            var timeout = _options.RequestTimeout + TimeSpan.FromSeconds(part.Data.Length / (4.0 * (1 << 20)));
            var response = await _options.PartRetry.RunAsync((_, token) => CallAsync(ObjectStoreOperation.Put, key, timeout, ct =>
                _writeClient.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = _bucket,
                    Key = full,
                    UploadId = uploadId,
                    PartNumber = number,
                    PartSize = part.Data.Length,
                    InputStream = BodyStream(part.Data),
                    UseChunkEncoding = _options.ChunkedUpload,
                }, ct), token), cancellationToken).ConfigureAwait(false);
            return new PartETag(number, response.ETag);
        }
        finally
        {
            part.Release();
        }
    }

    // Returns null when the aborted upload is gone, else why it may still hold parts on the server.
    private async Task<string?> AbortAsync(string key, string uploadId)
    {
        string full = _prefix + key;
        try
        {
            using var cts = new CancellationTokenSource(_options.RequestTimeout);
            await _writeClient.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _bucket, Key = full, UploadId = uploadId }, cts.Token).ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (S3Errors.IsStoreError(e) || e is OperationCanceledException)
        {
            return $"aborting multipart upload {uploadId} also failed ({e.Message}); its parts stay on the server until a lifecycle rule removes them";
        }
    }

    /// <inheritdoc />
    public async Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        string full = FullKey(key);
        await CallAsync(ObjectStoreOperation.Delete, key, _options.RequestTimeout, ct =>
            _writeClient.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _bucket, Key = full }, ct), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<ObjectListing> ListAsync(string prefix, string? startAfter = null, int maxKeys = ObjectListing.MaxPageSize, CancellationToken cancellationToken = default)
    {
        ObjectKeys.ValidatePrefix(prefix);
        if (startAfter is not null)
        {
            ObjectKeys.ValidatePrefix(startAfter, nameof(startAfter));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(maxKeys, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxKeys, ObjectListing.MaxPageSize);
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = _prefix + prefix, MaxKeys = maxKeys };
        if (startAfter is not null)
        {
            request.StartAfter = _prefix + startAfter;
        }
        var response = await CallAsync(ObjectStoreOperation.List, prefix, _options.RequestTimeout, ct => _readClient.ListObjectsV2Async(request, ct), cancellationToken).ConfigureAwait(false);
        var objects = new List<ObjectInfo>(response.S3Objects?.Count ?? 0);
        foreach (var o in response.S3Objects ?? [])
        {
            if (!o.Key.StartsWith(_prefix, StringComparison.Ordinal))
            {
                throw new ObjectStoreException(ObjectStoreErrorKind.Permanent, ObjectStoreOperation.List, Location, prefix,
                    $"the server listed '{o.Key}', which is outside the prefix '{_prefix + prefix}'");
            }
            objects.Add(new ObjectInfo(o.Key[_prefix.Length..], o.Size ?? 0, ObjectKeys.UnquoteETag(o.ETag ?? ""), ToOffset(o.LastModified)));
        }
        bool truncated = response.IsTruncated == true && objects.Count > 0;
        return new ObjectListing(objects, truncated ? objects[^1].Key : null);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _readClient.Dispose();
        _writeClient.Dispose();
        _readFactory.Dispose();
        _writeFactory.Dispose();
        return ValueTask.CompletedTask;
    }

    private string FullKey(string key)
    {
        ObjectKeys.Validate(key);
        if (_prefixBytes > 0 && _prefixBytes + Encoding.UTF8.GetByteCount(key) > ObjectKeys.MaxKeyBytes)
        {
            throw new ArgumentException($"the key with the store's prefix '{_prefix}' is longer than {ObjectKeys.MaxKeyBytes} UTF-8 bytes", nameof(key));
        }
        return _prefix + key;
    }

    private async Task<T> CallAsync<T>(ObjectStoreOperation operation, string key, TimeSpan timeout, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            return await call(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw S3Errors.Timeout(operation, Location, key, timeout, e);
        }
        catch (Exception e) when (S3Errors.IsStoreError(e) && !cancellationToken.IsCancellationRequested)
        {
            throw S3Errors.Map(e, operation, Location, key);
        }
    }

    private static DateTimeOffset ToOffset(DateTime? time) =>
        time is DateTime t ? new DateTimeOffset(t.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(t, DateTimeKind.Utc) : t.ToUniversalTime()) : DateTimeOffset.UnixEpoch;

    // "bytes 0-99/1234" → (0, 1234)
    private static (long Start, long Total)? ParseContentRange(string value)
    {
        var s = value.AsSpan().Trim();
        if (!s.StartsWith("bytes ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        s = s[6..];
        int dash = s.IndexOf('-');
        int slash = s.IndexOf('/');
        if (dash <= 0 || slash <= dash || !long.TryParse(s[..dash], out long start) || !long.TryParse(s[(slash + 1)..], out long total))
        {
            return null;
        }
        return (start, total);
    }

    private static async Task<int> ReadFullyAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = await stream.ReadAsync(buffer[total..], cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }
            total += n;
        }
        return total;
    }

    private sealed class Part(ReadOnlySequence<byte> data, byte[]? pooled)
    {
        public ReadOnlySequence<byte> Data { get; } = data;

        public void Release()
        {
            if (pooled is not null)
            {
                ArrayPool<byte>.Shared.Return(pooled);
            }
        }
    }

    private interface IPartSource : IDisposable
    {
        ValueTask<Part?> NextAsync(CancellationToken cancellationToken);
    }

    private sealed class SequenceParts(ReadOnlySequence<byte> data, int partSize) : IPartSource
    {
        private ReadOnlySequence<byte> _rest = data;

        public ValueTask<Part?> NextAsync(CancellationToken cancellationToken)
        {
            if (_rest.IsEmpty)
            {
                return ValueTask.FromResult<Part?>(null);
            }
            var slice = _rest.Slice(0, Math.Min(partSize, _rest.Length));
            _rest = _rest.Slice(slice.End);
            return ValueTask.FromResult<Part?>(new Part(slice, null));
        }

        public void Dispose()
        {
        }
    }

    private sealed class StreamParts(Stream stream, List<byte[]> buffered, List<int> lengths, int partSize) : IPartSource
    {
        private int _next;
        private bool _ended;

        public async ValueTask<Part?> NextAsync(CancellationToken cancellationToken)
        {
            if (_next < buffered.Count)
            {
                int i = _next++;
                byte[] chunk = buffered[i];
                buffered[i] = [];
                return lengths[i] == 0 ? Return(chunk) : new Part(new ReadOnlySequence<byte>(chunk, 0, lengths[i]), chunk);
            }
            if (_ended)
            {
                return null;
            }
            byte[] buffer = ArrayPool<byte>.Shared.Rent(partSize);
            int n = await ReadFullyAsync(stream, buffer.AsMemory(0, partSize), cancellationToken).ConfigureAwait(false);
            _ended = n < partSize;
            return n == 0 ? Return(buffer) : new Part(new ReadOnlySequence<byte>(buffer, 0, n), buffer);
        }

        private static Part? Return(byte[] chunk)
        {
            ArrayPool<byte>.Shared.Return(chunk);
            return null;
        }

        public void Dispose()
        {
            for (int i = _next; i < buffered.Count; i++)
            {
                if (buffered[i].Length > 0)
                {
                    ArrayPool<byte>.Shared.Return(buffered[i]);
                }
            }
        }
    }

    private static class Chunks
    {
        public static ReadOnlySequence<byte> ToSequence(List<byte[]> chunks, List<int> lengths)
        {
            ChunkSegment? first = null, last = null;
            for (int i = 0; i < chunks.Count; i++)
            {
                if (lengths[i] == 0)
                {
                    continue;
                }
                var segment = new ChunkSegment(chunks[i].AsMemory(0, lengths[i]));
                if (last is null)
                {
                    first = segment;
                }
                else
                {
                    last.Append(segment);
                }
                last = segment;
            }
            return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
        }

        private sealed class ChunkSegment : ReadOnlySequenceSegment<byte>
        {
            public ChunkSegment(ReadOnlyMemory<byte> memory) => Memory = memory;

            public void Append(ChunkSegment next)
            {
                next.RunningIndex = RunningIndex + Memory.Length;
                Next = next;
            }
        }
    }

    /// <summary>
    /// Fails a read of a response body that receives nothing for the idle timeout. One timer per body looks, four times
    /// per timeout, whether a read has been waiting since the last progress and cancels it then; a read costs no timer
    /// or token source of its own (a cold read makes tens of thousands of them per GiB).
    /// </summary>
    private sealed class IdleTimeoutStream : Stream
    {
        private readonly Stream _inner;
        private readonly TimeSpan _idle;
        private readonly CancellationTokenSource _stalled = new();
        private readonly Timer _watchdog;
        private long _lastProgress = Environment.TickCount64;
        private int _reading;

        public IdleTimeoutStream(Stream inner, TimeSpan idle)
        {
            _inner = inner;
            _idle = idle;
            var period = TimeSpan.FromTicks(Math.Max(idle.Ticks / 4, TimeSpan.FromMilliseconds(10).Ticks));
            _watchdog = new Timer(static state => ((IdleTimeoutStream)state!).Check(), this, period, period);
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_stalled.IsCancellationRequested)
            {
                throw Stalled(null);
            }
            Volatile.Write(ref _lastProgress, Environment.TickCount64);
            Volatile.Write(ref _reading, 1);
            try
            {
                if (!cancellationToken.CanBeCanceled)
                {
                    return await _inner.ReadAsync(buffer, _stalled.Token).ConfigureAwait(false);
                }
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stalled.Token);
                return await _inner.ReadAsync(buffer, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (_stalled.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw Stalled(e);
            }
            finally
            {
                Volatile.Write(ref _reading, 0);
                Volatile.Write(ref _lastProgress, Environment.TickCount64);
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _watchdog.Dispose();
                _inner.Dispose();
                _stalled.Dispose();
            }
            base.Dispose(disposing);
        }

        private void Check()
        {
            if (Volatile.Read(ref _reading) != 0 && Environment.TickCount64 - Volatile.Read(ref _lastProgress) > (long)_idle.TotalMilliseconds)
            {
                try
                {
                    _stalled.Cancel();
                }
                catch (ObjectDisposedException)
                {
                    // Disposed between the look and the cancel: the body is closed, nothing waits.
                }
            }
        }

        private IOException Stalled(Exception? inner) => new($"no data for {_idle.TotalSeconds:0.#} s while reading the body", inner);
    }
}
