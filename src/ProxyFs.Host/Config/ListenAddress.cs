using System.Globalization;
using System.Net;

namespace ProxyFs.Host.Config;

/// <summary>
/// An address to listen on: <c>127.0.0.1:9477</c>, <c>[::1]:9477</c> or <c>localhost:9477</c> (loopback), or another
/// literal IP address (only when the configuration allows remote access). Names other than localhost are refused so
/// that nothing depends on name resolution. Port 0 lets the system choose (status shows the port).
/// </summary>
public sealed record ListenAddress(IPAddress Address, int Port)
{
    public bool IsLoopback => IPAddress.IsLoopback(Address);

    public IPEndPoint EndPoint => new(Address, Port);

    /// <summary>Parses <paramref name="text"/>; the error says what is expected.</summary>
    public static bool TryParse(string text, out ListenAddress? address, out string error)
    {
        address = null;
        error = "";
        string t = text.Trim();
        int colon = t.LastIndexOf(':');
        if (colon <= 0 || colon == t.Length - 1)
        {
            error = $"'{text}' is not an address:port (e.g. 127.0.0.1:9477)";
            return false;
        }
        string host = t[..colon];
        string portText = t[(colon + 1)..];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        else if (host.Contains(':', StringComparison.Ordinal))
        {
            error = $"'{text}': write an IPv6 address in brackets, e.g. [::1]:9477";
            return false;
        }
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
        {
            error = $"'{text}': the port must be a number from 0 to 65535";
            return false;
        }
        IPAddress? ip = host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback : null;
        if (ip is null && !IPAddress.TryParse(host, out ip))
        {
            error = $"'{text}': the host must be an IP address or localhost (e.g. 127.0.0.1:9477)";
            return false;
        }
        address = new ListenAddress(ip, port);
        return true;
    }

    /// <summary>The same address, <paramref name="offset"/> ports further (the endpoint of the n-th volume).</summary>
    public ListenAddress WithPortOffset(int offset) => Port == 0 || offset == 0 ? this : this with { Port = Port + offset };

    public override string ToString() =>
        (Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "[" + Address + "]" : Address.ToString())
        + ":" + Port.ToString(CultureInfo.InvariantCulture);
}
