using System.Net.Sockets;

namespace ProxyFs.Host.Daemon;

/// <summary>
/// A background thread that accepts connections on a listening socket and hands each to a callback, until the
/// socket is disposed. The control socket and the metrics endpoint both serve this way.
/// </summary>
public sealed class AcceptLoop : IDisposable
{
    private readonly Socket _listener;
    private readonly Action<Socket> _accepted;
    private readonly Action<SocketException> _failed;
    private volatile bool _stopping;

    /// <param name="listener">A bound, listening socket; the loop owns it from now on.</param>
    /// <param name="name">The thread's name.</param>
    /// <param name="accepted">Called on the loop's thread with each connection (hand long work to another thread).</param>
    /// <param name="failed">Told of an accept that failed (the loop goes on after a short pause).</param>
    public AcceptLoop(Socket listener, string name, Action<Socket> accepted, Action<SocketException>? failed = null)
    {
        _listener = listener;
        _accepted = accepted;
        _failed = failed ?? (_ => { });
        new Thread(Run) { IsBackground = true, Name = name }.Start();
    }

    private void Run()
    {
        while (!_stopping)
        {
            Socket client;
            try
            {
                client = _listener.Accept();
            }
            catch (SocketException) when (_stopping)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                // Out of descriptors, a connection reset before it was accepted: say so, and do not spin.
                _failed(e);
                Thread.Sleep(100);
                continue;
            }
            _accepted(client);
        }
    }

    /// <summary>Stops accepting and closes the listening socket (connections being served are not affected).</summary>
    public void Dispose()
    {
        _stopping = true;
        _listener.Dispose();
    }
}
