using System.Net;
using Amazon.Runtime;

namespace ProxyFs.ObjectStore.S3;

/// <summary>
/// One HttpClient (one connection pool) per AmazonS3Client, so reads and writes get separate pools of their own size,
/// with a connect timeout (an unreachable endpoint fails in seconds), no proxy from the environment (traffic goes to the
/// configured endpoint and nowhere else) and no redirects. Timeouts of whole requests are applied per call by the store.
/// </summary>
internal sealed class S3HttpClientFactory(int maxConnections, TimeSpan connectTimeout) : HttpClientFactory, IDisposable
{
    private readonly Lazy<HttpClient> _client = new(() => new HttpClient(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = maxConnections,
        ConnectTimeout = connectTimeout,
        UseProxy = false,
        AllowAutoRedirect = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(50),
        PooledConnectionLifetime = TimeSpan.FromMinutes(10),
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    });

    /// <summary>The client (and pool) itself, for the requests the store sends without the SDK.</summary>
    public HttpClient Client => _client.Value;

    public override HttpClient CreateHttpClient(IClientConfig clientConfig) => _client.Value;

    public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

    public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;

    public void Dispose()
    {
        if (_client.IsValueCreated)
        {
            _client.Value.Dispose();
        }
    }
}
