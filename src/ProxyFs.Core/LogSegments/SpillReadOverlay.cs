using ProxyFs.ObjectStore;

namespace ProxyFs.Core.LogSegments;

/// <summary>
/// The store a read-only mount reads data segments through while a spill directory holds segments a read-write mount
/// has not uploaded yet: a GET or HEAD of such a segment's key is served from its spilled file, which holds exactly the
/// object's bytes (<see cref="SegmentSpill"/>); every other request goes to the store. The reader checks the bytes as it
/// would the object's (footer, block CRCs). Temporary files of an interrupted spill are not served: a crash while
/// spilling cut them short, and their data is also in the replay log's view only as far as the store has it.
/// </summary>
/// <remarks>Disposing the overlay leaves the store alone: it belongs to the volume.</remarks>
public sealed class SpillReadOverlay : IObjectStore
{
    private readonly IObjectStore _store;
    private readonly Dictionary<string, SpilledSegment> _spilled;

    /// <summary>Serves <paramref name="spilled"/> (keys from <paramref name="keys"/>) over <paramref name="store"/>.</summary>
    public SpillReadOverlay(IObjectStore store, SegmentKeys keys, IEnumerable<SpilledSegment> spilled)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(spilled);
        _store = store;
        _spilled = spilled.Where(s => !s.Interrupted).ToDictionary(s => keys.KeyOf(s.Nonce));
    }

    /// <summary>The segments served from local files.</summary>
    public int Count => _spilled.Count;

    /// <inheritdoc/>
    public string Location => _store.Location;

    /// <inheritdoc/>
    public Task<ObjectInfo> HeadAsync(string key, CancellationToken cancellationToken = default) =>
        _spilled.TryGetValue(key, out var s) ? Task.FromResult(InfoOf(key, s)) : _store.HeadAsync(key, cancellationToken);

    /// <inheritdoc/>
    public Task<ObjectReadStream> GetAsync(string key, ByteRange range = default, CancellationToken cancellationToken = default)
    {
        if (!_spilled.TryGetValue(key, out var s))
        {
            return _store.GetAsync(key, range, cancellationToken);
        }
        FileStream file;
        try
        {
            file = new FileStream(s.Path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.Asynchronous);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Task.FromException<ObjectReadStream>(new SegmentSpillException($"the spilled segment {s.Path} (the object {key}) cannot be read: {e.Message}", e));
        }
        (long offset, long length) = range.Resolve(s.Length);
        file.Position = offset;
        return Task.FromResult(new ObjectReadStream(s.Path, InfoOf(key, s), offset, length, file));
    }

    /// <inheritdoc/>
    public Task<PutResult> PutAsync(string key, ObjectBody body, PutCondition condition = default, CancellationToken cancellationToken = default) =>
        _store.PutAsync(key, body, condition, cancellationToken);

    /// <inheritdoc/>
    public Task DeleteAsync(string key, CancellationToken cancellationToken = default) => _store.DeleteAsync(key, cancellationToken);

    /// <inheritdoc/>
    public Task<ObjectListing> ListAsync(string prefix, string? startAfter = null, int maxKeys = ObjectListing.MaxPageSize, CancellationToken cancellationToken = default) =>
        _store.ListAsync(prefix, startAfter, maxKeys, cancellationToken);

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static ObjectInfo InfoOf(string key, SpilledSegment s) =>
        new(key, s.Length, $"spill-{s.Nonce:x16}-{s.Length}", File.GetLastWriteTimeUtc(s.Path));
}
