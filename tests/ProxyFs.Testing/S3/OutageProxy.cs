using System.Net;
using System.Net.Sockets;

namespace ProxyFs.Testing.S3;

/// <summary>
/// A loopback TCP proxy in front of a server, for store outages: <see cref="Cut"/> closes every connection and
/// refuses new ones (as a server that went away), <see cref="Restore"/> accepts again on the same port.
/// </summary>
public sealed class OutageProxy : IDisposable
{
    private readonly IPEndPoint _target;
    private readonly Lock _lock = new();
    private readonly List<TcpClient> _connections = [];
    private TcpListener? _listener;
    private Task? _accepting;
    private bool _disposed;

    public OutageProxy(Uri target)
    {
        _target = new IPEndPoint(IPAddress.Parse(target.Host == "localhost" ? "127.0.0.1" : target.Host), target.Port);
        _listener = Listen(0);
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync(_listener);
    }

    /// <summary>The loopback port the proxy listens on.</summary>
    public int Port { get; }

    /// <summary>http://127.0.0.1:port: use it in place of the server's endpoint.</summary>
    public Uri Endpoint => new($"http://127.0.0.1:{Port}");

    /// <summary>Closes every connection (a reset) and stops listening: connecting is refused until <see cref="Restore"/>.</summary>
    public void Cut()
    {
        TcpListener? listener;
        TcpClient[] connections;
        lock (_lock)
        {
            listener = _listener;
            _listener = null;
            connections = [.. _connections];
            _connections.Clear();
        }
        listener?.Stop();
        foreach (TcpClient c in connections)
        {
            // A connection whose pump already closed it has no socket left to reset.
            if (c.Client is { } socket)
            {
                socket.LingerState = new LingerOption(true, 0);
            }
            c.Dispose();
        }
        _accepting?.Wait(TimeSpan.FromSeconds(10));
    }

    /// <summary>Listens again on <see cref="Port"/>.</summary>
    public void Restore()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_listener is not null)
            {
                return;
            }
            _listener = Listen(Port);
            _accepting = AcceptAsync(_listener);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
        }
        Cut();
    }

    private static TcpListener Listen(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        return listener;
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return; // Cut: the listener was stopped.
            }
            var server = new TcpClient();
            try
            {
                await server.ConnectAsync(_target).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                // The server itself is down: the client sees its connection closed.
                client.Dispose();
                server.Dispose();
                continue;
            }
            lock (_lock)
            {
                if (_listener != listener)
                {
                    client.Dispose();
                    server.Dispose();
                    return;
                }
                _connections.Add(client);
                _connections.Add(server);
            }
            _ = PumpAsync(client, server);
            _ = PumpAsync(server, client);
        }
    }

    /// <summary>Copies one direction until either side closes; then closes both, as a proxy does.</summary>
    private async Task PumpAsync(TcpClient from, TcpClient to)
    {
        try
        {
            await from.GetStream().CopyToAsync(to.GetStream()).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // A reset or a cut: the end of this connection, which the other side sees as its close below.
        }
        lock (_lock)
        {
            _connections.Remove(from);
            _connections.Remove(to);
        }
        from.Dispose();
        to.Dispose();
    }
}
