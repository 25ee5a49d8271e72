using System.Buffers;
using System.Runtime.CompilerServices;

namespace ProxyFs.ObjectStore;

/// <summary>The calls the layers above make, built on the five operations of <see cref="IObjectStore"/>.</summary>
public static class ObjectStoreExtensions
{
    /// <summary>
    /// Reads <c>destination.Length</c> bytes from <paramref name="offset"/> straight into <paramref name="destination"/>
    /// (e.g. a pooled cache line), fewer when the object ends first. Returns the number of bytes read and the object.
    /// </summary>
    public static async Task<ObjectRead> ReadAsync(this IObjectStore store, string key, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (destination.IsEmpty)
        {
            throw new ArgumentException("the destination buffer is empty", nameof(destination));
        }
        await using var stream = await store.GetAsync(key, ByteRange.Of(offset, destination.Length), cancellationToken).ConfigureAwait(false);
        int n = await stream.ReadFullyAsync(destination[..(int)stream.Length], cancellationToken).ConfigureAwait(false);
        return new ObjectRead(n, stream.Object);
    }

    /// <summary>Reads <paramref name="range"/> of an object into <paramref name="destination"/> (any size, e.g. an <see cref="ArrayBufferWriter{T}"/>).</summary>
    public static async Task<ObjectInfo> ReadAsync(this IObjectStore store, string key, ByteRange range, IBufferWriter<byte> destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(destination);
        await using var stream = await store.GetAsync(key, range, cancellationToken).ConfigureAwait(false);
        while (stream.Remaining > 0)
        {
            var memory = destination.GetMemory((int)Math.Min(stream.Remaining, 1 << 20));
            int n = await stream.ReadAsync(memory[..(int)Math.Min(memory.Length, stream.Remaining)], cancellationToken).ConfigureAwait(false);
            destination.Advance(n);
        }
        return stream.Object;
    }

    /// <summary>The bytes of a (small) object or range, in a new array.</summary>
    public static async Task<byte[]> GetBytesAsync(this IObjectStore store, string key, ByteRange range = default, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        await using var stream = await store.GetAsync(key, range, cancellationToken).ConfigureAwait(false);
        if (stream.Length > Array.MaxLength)
        {
            throw new InvalidOperationException($"the object '{key}' ({stream.Length} bytes) is too large for one array; read it as a stream");
        }
        byte[] data = new byte[stream.Length];
        await stream.ReadFullyAsync(data, cancellationToken).ConfigureAwait(false);
        return data;
    }

    /// <summary>The object's info, or null when it does not exist.</summary>
    public static async Task<ObjectInfo?> TryHeadAsync(this IObjectStore store, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        try
        {
            return await store.HeadAsync(key, cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectStoreException e) when (e.Kind == ObjectStoreErrorKind.NotFound)
        {
            return null;
        }
    }

    /// <summary>Every object whose key starts with <paramref name="prefix"/>, in key order, page by page.</summary>
    public static async IAsyncEnumerable<ObjectInfo> ListAllAsync(this IObjectStore store, string prefix, int pageSize = ObjectListing.MaxPageSize, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        string? after = null;
        do
        {
            var page = await store.ListAsync(prefix, after, pageSize, cancellationToken).ConfigureAwait(false);
            foreach (var o in page.Objects)
            {
                yield return o;
            }
            after = page.NextStartAfter;
        }
        while (after is not null);
    }
}

/// <summary>The result of <see cref="ObjectStoreExtensions.ReadAsync(IObjectStore, string, long, Memory{byte}, CancellationToken)"/>.</summary>
/// <param name="BytesRead">Bytes written into the destination; fewer than its length only when the object ended.</param>
/// <param name="Object">The object read (its whole size and ETag).</param>
public readonly record struct ObjectRead(int BytesRead, ObjectInfo Object);
