using System.Net.Sockets;
using System.Text;

namespace ProxyFs.Host.Lifecycle;

/// <summary>
/// The systemd notification protocol (sd_notify(3)): newline-separated KEY=VALUE datagrams sent to the Unix
/// socket named by $NOTIFY_SOCKET ('@' prefix: abstract namespace). Used for Type=notify units (READY=1, STATUS=,
/// STOPPING=1, WATCHDOG=1) and by `proxyfs mount` itself, which listens the same way for the daemon it starts.
/// </summary>
public sealed class SdNotify : IDisposable
{
    public const string SocketVariable = "NOTIFY_SOCKET";

    private readonly Socket? _socket;
    private readonly UnixDomainSocketEndPoint? _endPoint;
    private readonly Lock _lock = new();

    private SdNotify(string? socketPath)
    {
        if (string.IsNullOrEmpty(socketPath))
        {
            return;
        }
        // An abstract socket is written with a leading '@' and sent with a leading NUL.
        string path = socketPath[0] == '@' ? "\0" + socketPath[1..] : socketPath;
        _endPoint = new UnixDomainSocketEndPoint(path);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    }

    /// <summary>A notifier for $NOTIFY_SOCKET; it does nothing when the variable is unset.</summary>
    public static SdNotify FromEnvironment() => new(Environment.GetEnvironmentVariable(SocketVariable));

    /// <summary>A notifier that sends nothing.</summary>
    public static SdNotify Disabled() => new(null);

    public bool Enabled => _socket is not null;

    /// <summary>Sends one notification, e.g. "READY=1\nSTATUS=Serving". Failures are returned, not thrown.</summary>
    public bool Send(string state)
    {
        if (_socket is null || _endPoint is null)
        {
            return false;
        }
        byte[] payload = Encoding.UTF8.GetBytes(state);
        lock (_lock)
        {
            try
            {
                _socket.SendTo(payload, _endPoint);
                return true;
            }
            catch (SocketException)
            {
                // The listener is gone (a parent that timed out, a stopped unit): nothing to tell any more.
                return false;
            }
        }
    }

    public bool Ready(string status) => Send("READY=1\nSTATUS=" + OneLine(status) + "\nMAINPID=" + Environment.ProcessId);

    public bool Status(string status) => Send("STATUS=" + OneLine(status));

    public bool Stopping(string status) => Send("STOPPING=1\nSTATUS=" + OneLine(status));

    public bool Watchdog() => Send("WATCHDOG=1");

    /// <summary>Reports a failure to start: the reason and an errno, as systemd's ERRNO=.</summary>
    public bool Failed(string reason, int errno) => Send("STATUS=" + OneLine(reason) + "\nERRNO=" + errno);

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");

    public void Dispose() => _socket?.Dispose();
}

/// <summary>The receiving side of <see cref="SdNotify"/>: what `proxyfs mount` listens on while its daemon starts.</summary>
public sealed class NotifyListener : IDisposable
{
    private readonly Socket _socket;

    public NotifyListener()
    {
        // Abstract namespace: nothing on disk to clean up, unique per listener.
        SocketName = "@proxyfs-notify-" + Environment.ProcessId + "-" + Guid.NewGuid().ToString("N")[..12];
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        _socket.Bind(new UnixDomainSocketEndPoint("\0" + SocketName[1..]));
    }

    /// <summary>The value to put in the child's $NOTIFY_SOCKET.</summary>
    public string SocketName { get; }

    /// <summary>Receives the next notification as key/value pairs; null when <paramref name="timeout"/> passes.</summary>
    public IReadOnlyDictionary<string, string>? Receive(TimeSpan timeout)
    {
        if (!_socket.Poll(timeout, SelectMode.SelectRead))
        {
            return null;
        }
        byte[] buffer = new byte[4096];
        int n = _socket.Receive(buffer);
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in Encoding.UTF8.GetString(buffer, 0, n).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                fields[line[..eq]] = line[(eq + 1)..];
            }
        }
        return fields;
    }

    public void Dispose() => _socket.Dispose();
}
