using Microsoft.Extensions.Logging;
using ProxyFs.Fuse;

namespace ProxyFs.Host.Fuse;

/// <summary>
/// The FUSE session's log lines (transport errors, failed requests, the negotiated connection) into the daemon's log,
/// under the category <see cref="Category"/>, at the matching level: they reach the same place as the daemon's own lines
/// (the terminal, a detached daemon's log file, the journal with its priorities) and obey <c>log_level</c>.
/// </summary>
internal static class FuseLogSink
{
    /// <summary>The log category of the FUSE session's lines.</summary>
    public const string Category = "ProxyFs.Fuse";

    /// <summary>A sink for <see cref="FuseMountOptions.Log"/> that writes to <paramref name="log"/>.</summary>
    public static Action<FuseLogLevel, string> For(ILogger log)
    {
        ArgumentNullException.ThrowIfNull(log);
        return (level, message) =>
        {
            LogLevel mapped = Map(level);
            if (log.IsEnabled(mapped))
            {
                log.Log(mapped, "{Message}", message);
            }
        };
    }

    /// <summary>The Microsoft.Extensions.Logging level of a session log level.</summary>
    internal static LogLevel Map(FuseLogLevel level) => level switch
    {
        FuseLogLevel.Debug => LogLevel.Debug,
        FuseLogLevel.Information => LogLevel.Information,
        FuseLogLevel.Warning => LogLevel.Warning,
        _ => LogLevel.Error,
    };
}
