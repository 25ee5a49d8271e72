using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace ProxyFs.ObjectStore.S3;

/// <summary>
/// The <c>s3://</c> backend on AWSSDK.S3: separate clients (and connection pools) for reads and writes; multipart
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
        _readFactory = new S3HttpClientFactory(options.ReadConnections, options.ConnectTimeout);
        _writeFactory = new S3HttpClientFactory(options.WriteConnections, options.ConnectTimeout);
        _readClient = new AmazonS3Client(credentials, CreateConfig(options, _readFactory));
        _writeClient = new AmazonS3Client(credentials, CreateConfig(options, _writeFactory));
    }

    /// <inheritdoc />
    public string Location { get; }

    /// <summary>The options the store was created with.</summary>
    public S3StoreOptions Options => _options;

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
        var request = new GetObjectRequest { BucketName = _bucket, Key = full };
        if (range.ToHttpRange() is string header)
        {
            request.ByteRange = new Amazon.S3.Model.ByteRange(header);
        }
        GetObjectResponse response;
        try
        {
            response = await CallAsync(ObjectStoreOperation.Get, key, _options.RequestTimeout, ct => _readClient.GetObjectAsync(request, ct), cancellationToken).ConfigureAwait(false);
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
            long served = response.ContentLength;
            long first = 0, size = served;
            if (response.ContentRange is string contentRange && ParseContentRange(contentRange) is (long start, long total))
            {
                first = start;
                size = total;
            }
            var info = new ObjectInfo(key, size, ObjectKeys.UnquoteETag(response.ETag ?? ""), ToOffset(response.LastModified));
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
                    $"asked for {range} of a {size}-byte object, the server sent {served} bytes from offset {first} ({response.ContentRange ?? "no Content-Range"})");
            }
            var body = new IdleTimeoutStream(response.ResponseStream, _options.ReadIdleTimeout);
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

    /// <summary>Fails a read of a response body that receives nothing for the idle timeout.</summary>
    private sealed class IdleTimeoutStream(Stream inner, TimeSpan idle) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(idle);
            try
            {
                return await inner.ReadAsync(buffer, cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new IOException($"no data for {idle.TotalSeconds:0.#} s while reading the body", e);
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
                inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
