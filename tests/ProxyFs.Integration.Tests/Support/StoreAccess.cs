using ProxyFs.Core.Volume;
using ProxyFs.ObjectStore;

namespace ProxyFs.Integration.Tests.Support;

/// <summary>A volume's store opened by its URI from the test process, beside the daemon that serves it.</summary>
public static class StoreAccess
{
    /// <summary>Runs <paramref name="action"/> on the store of <paramref name="uri"/>, then closes it.</summary>
    public static T With<T>(string uri, Func<IObjectStore, T> action)
    {
        IObjectStore store = ObjectStores.Open(uri);
        try
        {
            return action(store);
        }
        finally
        {
            (store as IDisposable)?.Dispose();
        }
    }

    /// <inheritdoc cref="With{T}(string, Func{IObjectStore, T})"/>
    public static void With(string uri, Action<IObjectStore> action) => With(uri, store =>
    {
        action(store);
        return 0;
    });

    /// <summary>The volume's root pointer as the store holds it now.</summary>
    public static RootPointer ReadRoot(string uri) => With(uri, store => new RootPointerStore(store).ReadAsync().GetAwaiter().GetResult());
}
