using ProxyFs.ObjectStore;
using ProxyFs.ObjectStore.Decorators;

namespace ProxyFs.Host.Metrics;

/// <summary>
/// The part of a volume's status its object store gives: where it is (without credentials) and the live counters
/// of the <see cref="MetricsObjectStore"/> opened with it (ObjectStoreOpenOptions.Metrics). A volume that has a store
/// starts its own <see cref="IVolumeStatusSource.GetStatus"/> from <see cref="GetStatus"/> and adds the rest
/// (<c>source.GetStatus() with { DirtyBytes = …, … }</c>).
/// </summary>
public sealed class ObjectStoreStatusSource(IObjectStore store, ObjectStoreMetrics metrics) : IVolumeStatusSource
{
    /// <summary>Opens <paramref name="uri"/> with metrics counted (and the default retries) and returns the store with its source.</summary>
    public static (IObjectStore Store, ObjectStoreStatusSource Status) Open(string uri, ObjectStoreOpenOptions? options = null)
    {
        var metrics = new ObjectStoreMetrics(uri);
        IObjectStore store = ObjectStores.Open(uri, (options ?? new ObjectStoreOpenOptions()) with { Metrics = metrics });
        return (store, new ObjectStoreStatusSource(store, metrics));
    }

    public VolumeStatus GetStatus() => new() { StoreUri = store.Location, Store = metrics };
}
