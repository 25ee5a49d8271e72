using ProxyFs.Host.Cli;

namespace ProxyFs.Integration.Tests.Host;

/// <summary>Logs go to the journal only when $JOURNAL_STREAM names what stdout is (systemd.exec(5)).</summary>
public sealed class LoggingTests
{
    [Theory]
    [InlineData(null, "123", false)]
    [InlineData("", "123", false)]
    [InlineData("8:123", "123", true)]
    [InlineData("8:123", "456", false)]  // a shell started from a unit: the variable is inherited, stdout is elsewhere
    [InlineData("8:123", "", false)]     // stdout is a terminal or a file
    [InlineData("8:123", null, true)]    // stdout cannot be examined: the variable decides
    [InlineData("garbage", "123", false)]
    public void Journal_when_the_variable_names_stdout(string? journalStream, string? stdoutInode, bool journal) =>
        Assert.Equal(journal, Logging.StdoutIsJournal(journalStream, stdoutInode));
}
