using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace ProxyFs.Host.Cli;

/// <summary>
/// Logging of the daemon: under systemd (stdout connected to the journal, $JOURNAL_STREAM set) one line per
/// message on stdout with a syslog priority prefix ("&lt;6&gt;…") for journald; otherwise timestamped lines on stderr
/// (a terminal, or the log file of a detached daemon).
/// </summary>
public static class Logging
{
    public static ILoggerFactory Create(bool verbose)
    {
        bool journal = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("JOURNAL_STREAM"));
        return LoggerFactory.Create(b =>
        {
            b.SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Information);
            if (journal)
            {
                b.AddSystemdConsole(o => o.IncludeScopes = false);
            }
            else
            {
                b.AddSimpleConsole(o =>
                {
                    o.SingleLine = true;
                    o.TimestampFormat = "yyyy-MM-dd HH:mm:ss.fff ";
                    o.UseUtcTimestamp = false;
                    o.ColorBehavior = LoggerColorBehavior.Disabled;
                });
                b.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            }
        });
    }
}
