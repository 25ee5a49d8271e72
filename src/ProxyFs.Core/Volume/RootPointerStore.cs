using ProxyFs.ObjectStore;

namespace ProxyFs.Core.Volume;

/// <summary>Another writer replaced the volume's root pointer: this one must stop writing.</summary>
public sealed class VolumeFencedException(string message) : IOException(message);

/// <summary>
/// Reads and replaces the root pointer with compare-and-swap: every write is conditional on the ETag this process
/// last read or wrote (create-only for the first). A write refused with 412 means another writer owns the volume.
/// A write whose outcome is unknown (the store answered an error after a retry of a conditional put) is resolved
/// by reading the object back: if it holds exactly what was written, the write landed.
/// </summary>
public sealed class RootPointerStore(IObjectStore store, string key = VolumeLayout.RootPointerKey)
{
    private string? _etag;

    public string Location => store.Location + "/" + key;

    /// <summary>Reads the root pointer and remembers its ETag for the next write.</summary>
    public async Task<RootPointer> ReadAsync(CancellationToken cancellationToken = default)
    {
        (RootPointer root, string etag) = await ReadWithETagAsync(cancellationToken).ConfigureAwait(false);
        _etag = etag;
        return root;
    }

    private async Task<(RootPointer Root, string ETag)> ReadWithETagAsync(CancellationToken cancellationToken)
    {
        await using ObjectReadStream stream = await store.GetAsync(key, default, cancellationToken).ConfigureAwait(false);
        byte[] bytes = new byte[stream.Length];
        await stream.ReadFullyAsync(bytes, cancellationToken).ConfigureAwait(false);
        return (RootPointer.Decode(bytes, Location), stream.Object.ETag);
    }

    /// <summary>Writes the first root pointer of a new volume (create-only).</summary>
    public Task CreateAsync(RootPointer root, CancellationToken cancellationToken = default) =>
        WriteAsync(root, PutCondition.IfNoneMatch, cancellationToken);

    /// <summary>Replaces the root pointer read or written last. Throws <see cref="VolumeFencedException"/> when someone else replaced it.</summary>
    public Task ReplaceAsync(RootPointer next, CancellationToken cancellationToken = default)
    {
        if (_etag is null)
        {
            throw new InvalidOperationException("the root pointer must be read (or created) before it is replaced");
        }
        return WriteAsync(next, PutCondition.IfMatch(_etag), cancellationToken);
    }

    private async Task WriteAsync(RootPointer next, PutCondition condition, CancellationToken cancellationToken)
    {
        byte[] bytes = next.Encode();
        string? replaced = _etag;
        try
        {
            PutResult put = await store.PutAsync(key, bytes, condition, cancellationToken).ConfigureAwait(false);
            _etag = put.ETag;
        }
        catch (ObjectStoreException e) when (e.Kind == ObjectStoreErrorKind.PreconditionFailed)
        {
            throw await FencedAsync(next, cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectStoreException e) when (e.Kind == ObjectStoreErrorKind.Indeterminate || e.OutcomeUnknown)
        {
            // The connection broke (or the server did not answer) before the response: read what the root pointer is now.
            (RootPointer current, string etag) = await ReadWithETagAsync(cancellationToken).ConfigureAwait(false);
            if (current.Encode().AsSpan().SequenceEqual(bytes))
            {
                _etag = etag; // The put landed.
                return;
            }
            if (replaced is not null && etag == replaced)
            {
                throw; // It did not land: the root pointer is still the one it was to replace, so a later try can.
            }
            throw await FencedAsync(next, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<VolumeFencedException> FencedAsync(RootPointer attempted, CancellationToken cancellationToken)
    {
        string holder;
        try
        {
            (RootPointer current, _) = await ReadWithETagAsync(cancellationToken).ConfigureAwait(false);
            holder = $"it now holds generation {current.Generation}";
        }
        catch (Exception e) when (e is ObjectStoreException or VolumeFormatException)
        {
            holder = "it cannot be read back: " + e.Message;
        }
        return new VolumeFencedException(
            $"another writer replaced the root pointer {Location} (this daemon tried to write generation {attempted.Generation}; {holder}); " +
            "the volume is mounted elsewhere, so this mount stops writing");
    }
}
