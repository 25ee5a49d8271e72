using System.Net.Sockets;
using System.Text;

namespace ProxyFs.Host.Daemon;

/// <summary>
/// The daemon's control socket: a Unix stream socket (mode 0600) answering one request line with one reply line.
/// Requests: "unmount" (flush, unmount, exit; reply "ok &lt;pid&gt;" or "error &lt;reason&gt;") and "status" (a JSON line).
/// </summary>
public sealed class ControlServer : IDisposable
{
    private readonly Func<string, string> _handler;
    private readonly AcceptLoop _accepting;

    private ControlServer(string path, Func<string, string> handler)
    {
        Path = path;
        _handler = handler;
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        listener.Listen(8);
        // Each connection on its own thread: an "unmount" may take a while and must not block "status".
        _accepting = new AcceptLoop(listener, "proxyfs-control",
            client => new Thread(() => Serve(client)) { IsBackground = true, Name = "proxyfs-control-client" }.Start());
    }

    public string Path { get; }

    /// <summary>Listens at <paramref name="path"/>. A leftover socket nobody answers on is replaced; a live one is an error.</summary>
    public static ControlServer Start(string path, Func<string, string> handler)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        if (File.Exists(path))
        {
            if (ControlClient.TryRequest(path, "status", TimeSpan.FromSeconds(2), out _))
            {
                throw new InvalidOperationException($"another proxyfs daemon already serves this mount point (control socket {path})");
            }
            File.Delete(path);
        }
        return new ControlServer(path, handler);
    }

    private void Serve(Socket client)
    {
        using (client)
        using (var stream = new NetworkStream(client, ownsSocket: false))
        using (var reader = new StreamReader(stream, Encoding.UTF8))
        using (var writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true })
        {
            try
            {
                client.ReceiveTimeout = 10_000;
                string? request = reader.ReadLine();
                if (request is null)
                {
                    return;
                }
                string reply = _handler(request.Trim());
                writer.Write(reply.ReplaceLineEndings(" ") + "\n");
            }
            catch (IOException)
            {
                // The client went away before the reply: nothing to answer.
            }
        }
    }

    public void Dispose()
    {
        _accepting.Dispose();
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
            // Already gone.
        }
    }
}

/// <summary>Talks to a daemon's control socket.</summary>
public static class ControlClient
{
    /// <summary>Sends one request and reads the reply line. False when no daemon answers in time.</summary>
    public static bool TryRequest(string socketPath, string request, TimeSpan timeout, out string reply)
    {
        reply = "";
        if (!File.Exists(socketPath))
        {
            return false;
        }
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.SendTimeout = (int)timeout.TotalMilliseconds;
            socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
            using var stream = new NetworkStream(socket, ownsSocket: false);
            using var writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true };
            using var reader = new StreamReader(stream, Encoding.UTF8);
            writer.Write(request + "\n");
            reply = reader.ReadLine() ?? "";
            return reply.Length > 0;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
