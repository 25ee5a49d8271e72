using System.Buffers;
using System.Security.Cryptography;

namespace ProxyFs.ObjectStore.Memory;

/// <summary>
/// A store in process memory (<c>memory://</c>): the mock backend for tests of the layers above, with the same semantics
/// as the others (conditional puts, ranges, key order, unique ETags). Objects are copied in on put and never change.
/// </summary>
public sealed class MemoryObjectStore : IObjectStore
{
    private readonly Lock _lock = new();
    private readonly SortedSet<string> _keys = new(ObjectKeys.Comparer);
    private readonly Dictionary<string, Entry> _objects = new(StringComparer.Ordinal);

    /// <summary>A new empty store named <paramref name="name"/> in messages.</summary>
    public MemoryObjectStore(string name = "")
    {
        Location = "memory://" + name;
    }

    /// <inheritdoc />
    public string Location { get; }

    /// <summary>The number of objects.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _objects.Count;
            }
        }
    }

    /// <summary>The total size of the objects in bytes.</summary>
    public long TotalBytes
    {
        get
        {
            lock (_lock)
            {
                return _objects.Values.Sum(e => (long)e.Data.Length);
            }
        }
    }

    private sealed record Entry(byte[] Data, ObjectInfo Info);

    /// <inheritdoc />
    public Task<ObjectInfo> HeadAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Find(key, ObjectStoreOperation.Head).Info);
    }

    /// <inheritdoc />
    public Task<ObjectReadStream> GetAsync(string key, ByteRange range = default, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        cancellationToken.ThrowIfCancellationRequested();
        var entry = Find(key, ObjectStoreOperation.Get);
        var (offset, length) = range.Resolve(entry.Data.Length);
        var body = new MemoryStream(entry.Data, (int)offset, (int)length, writable: false);
        return Task.FromResult(new ObjectReadStream(Location, entry.Info, offset, length, body));
    }

    /// <inheritdoc />
    public async Task<PutResult> PutAsync(string key, ObjectBody body, PutCondition condition = default, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        ArgumentNullException.ThrowIfNull(body);
        byte[] data;
        if (body.IsMemory)
        {
            data = body.Memory.ToArray();
        }
        else
        {
            using var copy = new MemoryStream();
            await body.OpenRead().CopyToAsync(copy, cancellationToken).ConfigureAwait(false);
            data = copy.ToArray();
        }
        cancellationToken.ThrowIfCancellationRequested();
        string etag = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        lock (_lock)
        {
            _objects.TryGetValue(key, out var current);
            if (condition.Kind == PutConditionKind.IfNoneMatch && current is not null)
            {
                throw new ObjectStoreException(ObjectStoreErrorKind.PreconditionFailed, ObjectStoreOperation.Put, Location, key,
                    "create-only put (If-None-Match: *) but the key exists")
                { HttpStatus = 412 };
            }
            if (condition.Kind == PutConditionKind.IfMatch && current?.Info.ETag != condition.ETag)
            {
                throw new ObjectStoreException(ObjectStoreErrorKind.PreconditionFailed, ObjectStoreOperation.Put, Location, key,
                    current is null ? $"If-Match: {condition.ETag} but the key does not exist" : $"If-Match: {condition.ETag} but the current ETag is {current.Info.ETag}")
                { HttpStatus = 412 };
            }
            _objects[key] = new Entry(data, new ObjectInfo(key, data.Length, etag, DateTimeOffset.UtcNow));
            _keys.Add(key);
        }
        return new PutResult(etag, data.Length);
    }

    /// <inheritdoc />
    public Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            _objects.Remove(key);
            _keys.Remove(key);
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<ObjectListing> ListAsync(string prefix, string? startAfter = null, int maxKeys = ObjectListing.MaxPageSize, CancellationToken cancellationToken = default)
    {
        ObjectKeys.ValidatePrefix(prefix);
        if (startAfter is not null)
        {
            ObjectKeys.ValidatePrefix(startAfter, nameof(startAfter));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(maxKeys, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxKeys, ObjectListing.MaxPageSize);
        cancellationToken.ThrowIfCancellationRequested();
        var results = new List<ObjectInfo>();
        bool truncated = false;
        lock (_lock)
        {
            string lower = startAfter is not null && ObjectKeys.CompareUtf8(startAfter, prefix) > 0 ? startAfter : prefix;
            if (_keys.Count > 0 && ObjectKeys.CompareUtf8(lower, _keys.Max) <= 0)
            {
                foreach (string key in _keys.GetViewBetween(lower, _keys.Max!))
                {
                    if (startAfter is not null && ObjectKeys.CompareUtf8(key, startAfter) <= 0)
                    {
                        continue;
                    }
                    if (!key.StartsWith(prefix, StringComparison.Ordinal))
                    {
                        break;
                    }
                    if (results.Count == maxKeys)
                    {
                        truncated = true;
                        break;
                    }
                    results.Add(_objects[key].Info);
                }
            }
        }
        return Task.FromResult(new ObjectListing(results, truncated ? results[^1].Key : null));
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private Entry Find(string key, ObjectStoreOperation operation)
    {
        lock (_lock)
        {
            return _objects.TryGetValue(key, out var entry)
                ? entry
                : throw new ObjectStoreException(ObjectStoreErrorKind.NotFound, operation, Location, key, "no such key") { HttpStatus = 404 };
        }
    }
}
