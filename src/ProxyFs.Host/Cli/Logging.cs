using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace ProxyFs.Host.Cli;

/// <summary>
/// Logging of the daemon: under systemd (stdout connected to the journal, $JOURNAL_STREAM naming it) one line per
/// message on stdout with a syslog priority prefix ("&lt;6&gt;…") for journald; otherwise timestamped lines on stderr
/// (a terminal, or the log file of a detached daemon).
/// </summary>
public static class Logging
{
    public static ILoggerFactory Create(bool verbose) => Create(verbose ? LogLevel.Debug : LogLevel.Information);

    public static ILoggerFactory Create(LogLevel minimum)
    {
        bool journal = StdoutIsJournal(Environment.GetEnvironmentVariable("JOURNAL_STREAM"), StdoutInode());
        return LoggerFactory.Create(b =>
        {
            b.SetMinimumLevel(minimum);
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

    /// <summary>
    /// True when $JOURNAL_STREAM ("device:inode", set by systemd) names what stdout is connected to, as systemd.exec(5)
    /// asks: a daemon started from a shell inside a unit inherits the variable but logs elsewhere. When stdout's inode
    /// cannot be read, the variable alone decides.
    /// </summary>
    internal static bool StdoutIsJournal(string? journalStream, string? stdoutInode)
    {
        if (string.IsNullOrEmpty(journalStream))
        {
            return false;
        }
        int colon = journalStream.IndexOf(':', StringComparison.Ordinal);
        return stdoutInode is null || (colon > 0 && journalStream[(colon + 1)..] == stdoutInode);
    }

    /// <summary>The inode of stdout from /proc/self/fd/1 ("socket:[123]", "pipe:[123]"), or of the file it names.</summary>
    private static string? StdoutInode()
    {
        try
        {
            string? target = new FileInfo("/proc/self/fd/1").LinkTarget;
            if (target is null)
            {
                return null;
            }
            int open = target.IndexOf(":[", StringComparison.Ordinal);
            if (open > 0 && target.EndsWith(']'))
            {
                return target[(open + 2)..^1];
            }
            // A regular file or a terminal: never the journal.
            return "";
        }
        catch (IOException)
        {
            return null;
        }
    }
}
