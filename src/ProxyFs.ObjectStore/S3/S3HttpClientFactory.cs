using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;

namespace ProxyFs.ObjectStore.S3;

/// <summary>
/// One HttpClient (one connection pool) per AmazonS3Client, so reads and writes get separate pools of their own size,
/// with a connect timeout (an unreachable endpoint fails in seconds), no proxy from the environment (traffic goes to the
/// configured endpoint and nowhere else) and no redirects. Timeouts of whole requests are applied per call by the store.
/// With a <paramref name="receiveBatch"/> (bytes; 0: none), large body reads wake only once that many bytes have arrived
/// (<see cref="BatchedReceiveStream"/>): the read pool's.
/// </summary>
internal sealed class S3HttpClientFactory(int maxConnections, TimeSpan connectTimeout, int receiveBatch = 0) : HttpClientFactory, IDisposable
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
        // Plain HTTP only: over TLS the client's reads go to the TLS layer, whose reads of the connection are its own.
        ConnectCallback = receiveBatch > 1
            ? (context, ct) => BatchedReceiveStream.ConnectAsync(context.DnsEndPoint, context.InitialRequestMessage.RequestUri?.Scheme == Uri.UriSchemeHttp ? receiveBatch : 1, ct)
            : null,
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

/// <summary>
/// A connection's stream whose large reads wait for a batch of bytes (SO_RCVLOWAT) instead of waking for every few
/// kilobytes that arrive. The HTTP client reads a response body straight into the caller's buffer, asking for no more
/// than the body has left, so a read of at least <paramref name="batch"/> bytes is sure to get that many: the socket
/// then reports itself readable only once <paramref name="batch"/> bytes are queued. Smaller reads (headers, the end of
/// a body, the pool's zero-byte liveness reads) wait for any byte, as usual. A read that finds bytes already queued
/// returns them at once either way; only the wait is batched.
/// </summary>
internal sealed class BatchedReceiveStream(Socket socket, int batch) : NetworkStream(socket, ownsSocket: true)
{
    /// <summary>The largest batch: 256 KiB.</summary>
    public const int MaxBatch = 256 << 10;

    /// <summary>The slowest body (bytes per second) that a batch must not make look stalled.</summary>
    public const int SlowestBody = 16 << 10;

    private int _lowWater = 1;

    /// <summary>
    /// The batch for a read pool whose body reads fail after <paramref name="idleTimeout"/> without bytes: at most
    /// <see cref="MaxBatch"/>, and no more than a body arriving at <see cref="SlowestBody"/> bytes per second delivers in
    /// half that time (a waiting batch is a read that has seen nothing yet). 0 (none) below 16 KiB.
    /// </summary>
    public static int BatchFor(TimeSpan idleTimeout)
    {
        long bytes = Math.Min(MaxBatch, (long)(idleTimeout.TotalSeconds / 2 * SlowestBody));
        return bytes < 16 << 10 ? 0 : (int)bytes;
    }

    /// <summary>
    /// Connects to <paramref name="endpoint"/> (IPv4 or IPv6, Nagle off, as the HTTP client's own connect does); the
    /// stream batches its receives by <paramref name="batch"/> bytes, or is a plain <see cref="NetworkStream"/> when that
    /// is 1 or less.
    /// </summary>
    public static async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, int batch, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
            return batch > 1 ? new BatchedReceiveStream(socket, batch) : new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public override int Read(Span<byte> buffer)
    {
        WaitFor(buffer.Length);
        return base.Read(buffer);
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        WaitFor(count);
        return base.Read(buffer, offset, count);
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        WaitFor(buffer.Length);
        return base.ReadAsync(buffer, cancellationToken);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        WaitFor(count);
        return base.ReadAsync(buffer, offset, count, cancellationToken);
    }

    private void WaitFor(int asked)
    {
        int lowWater = asked >= batch ? batch : 1;
        if (lowWater != _lowWater)
        {
            Socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReceiveLowWater, lowWater);
            _lowWater = lowWater;
        }
    }
}
