using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using ProxyFs.Host.Config;
using ProxyFs.Host.Daemon;

namespace ProxyFs.Host.Metrics;

/// <summary>
/// A minimal HTTP/1.1 server for the Prometheus endpoint: GET (or HEAD) /metrics answers the text exposition, /
/// says where it is, anything else is 404 or 405. One request per connection (Connection: close), a few seconds
/// to send it, at most 16 connections served at once. No external packages (none are available for this), and no
/// HttpListener (its Linux implementation wants a URL prefix registration model that adds nothing here).
/// </summary>
public sealed class MetricsHttpServer : IDisposable
{
    private const int MaxRequestBytes = 8192;
    private const int MaxConcurrent = 16;
    private static readonly TimeSpan IoTimeout = TimeSpan.FromSeconds(5);

    private readonly Func<string> _metrics;
    private readonly SemaphoreSlim _slots = new(MaxConcurrent);
    private readonly AcceptLoop _accepting;

    private MetricsHttpServer(Socket listener, Func<string> metrics, ILogger log)
    {
        _metrics = metrics;
        var local = (IPEndPoint)listener.LocalEndPoint!;
        Address = new ListenAddress(local.Address, local.Port);
        _accepting = new AcceptLoop(listener, "proxyfs-metrics", Accepted,
            e => log.LogWarning("metrics endpoint: accept failed: {Error}", e.Message));
    }

    /// <summary>Where it listens (with the port the system chose when asked for port 0).</summary>
    public ListenAddress Address { get; }

    /// <summary>The URL of the endpoint.</summary>
    public string Url => "http://" + Address + "/metrics";

    /// <summary>Listens on <paramref name="address"/>. Throws <see cref="SocketException"/> when it cannot (address in use).</summary>
    public static MetricsHttpServer Start(ListenAddress address, Func<string> metrics, ILogger log)
    {
        ArgumentNullException.ThrowIfNull(address);
        var socket = new Socket(address.Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(address.EndPoint);
            socket.Listen(32);
        }
        catch (SocketException)
        {
            socket.Dispose();
            throw;
        }
        return new MetricsHttpServer(socket, metrics, log);
    }

    private void Accepted(Socket client)
    {
        if (!_slots.Wait(0))
        {
            // Too many scrapes at once: refuse rather than queue without bound.
            client.Dispose();
            return;
        }
        _ = Task.Run(() =>
        {
            try
            {
                Serve(client);
            }
            finally
            {
                _slots.Release();
            }
        });
    }

    private void Serve(Socket client)
    {
        using (client)
        {
            try
            {
                client.ReceiveTimeout = (int)IoTimeout.TotalMilliseconds;
                client.SendTimeout = (int)IoTimeout.TotalMilliseconds;
                string? requestLine = ReadRequestLine(client);
                if (requestLine is null)
                {
                    Respond(client, 400, "Bad Request", "text/plain; charset=utf-8", "bad request\n", head: false);
                    return;
                }
                string[] parts = requestLine.Split(' ');
                string method = parts.Length > 0 ? parts[0] : "";
                string target = parts.Length > 1 ? parts[1] : "";
                int query = target.IndexOf('?', StringComparison.Ordinal);
                string path = query < 0 ? target : target[..query];
                bool head = method == "HEAD";
                if (method is not ("GET" or "HEAD"))
                {
                    Respond(client, 405, "Method Not Allowed", "text/plain; charset=utf-8", "only GET and HEAD\n", head: false, allow: true);
                }
                else if (path == "/metrics")
                {
                    Respond(client, 200, "OK", PrometheusWriter.ContentType, _metrics(), head);
                }
                else if (path == "/")
                {
                    Respond(client, 200, "OK", "text/plain; charset=utf-8", "proxyfs metrics: GET /metrics (Prometheus text format)\n", head);
                }
                else
                {
                    Respond(client, 404, "Not Found", "text/plain; charset=utf-8", "not found; the metrics are at /metrics\n", head);
                }
            }
            catch (SocketException)
            {
                // The scraper went away or was too slow: nothing to answer.
            }
            catch (IOException)
            {
                // As above.
            }
            catch (ObjectDisposedException)
            {
                // The server is stopping.
            }
        }
    }

    /// <summary>Reads the request head (up to the blank line) and returns its first line; null when malformed or too long.</summary>
    private static string? ReadRequestLine(Socket client)
    {
        byte[] buffer = new byte[MaxRequestBytes];
        int length = 0;
        while (length < buffer.Length)
        {
            int n = client.Receive(buffer, length, buffer.Length - length, SocketFlags.None);
            if (n == 0)
            {
                break;
            }
            length += n;
            string text = Encoding.ASCII.GetString(buffer, 0, length);
            int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end < 0)
            {
                end = text.IndexOf("\n\n", StringComparison.Ordinal);
            }
            if (end >= 0)
            {
                int eol = text.IndexOf('\n', StringComparison.Ordinal);
                return text[..eol].TrimEnd('\r');
            }
        }
        return null;
    }

    private static void Respond(Socket client, int status, string reason, string contentType, string body, bool head, bool allow = false)
    {
        byte[] content = Encoding.UTF8.GetBytes(body);
        var header = new StringBuilder();
        header.Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {status} {reason}\r\n");
        header.Append(CultureInfo.InvariantCulture, $"Content-Type: {contentType}\r\n");
        header.Append(CultureInfo.InvariantCulture, $"Content-Length: {content.Length}\r\n");
        if (allow)
        {
            header.Append("Allow: GET, HEAD\r\n");
        }
        header.Append("Cache-Control: no-store\r\nConnection: close\r\n\r\n");
        client.Send(Encoding.ASCII.GetBytes(header.ToString()));
        if (!head)
        {
            client.Send(content);
        }
        client.Shutdown(SocketShutdown.Send);
    }

    public void Dispose()
    {
        // The semaphore is not disposed: connections still being served release it when they finish.
        _accepting.Dispose();
    }
}
