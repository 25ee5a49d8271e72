using Microsoft.Extensions.Logging;

namespace ProxyFs.Core.ReplayLog;

/// <summary>
/// The logger FasterLog gets: the replay log's own (<see cref="ReplayLogOptions.Logger"/>), with FasterLog's information
/// lines lowered to debug. Those are its internals (the addresses it recovered to) and, on every first mount, its
/// <see cref="NoCommitMessage"/>: a log just created (or never committed) has nothing to recover. That one line is
/// raised to a warning instead when the commit file holds a commit or a slot that does not read back: then it reports
/// a real failure to recover. Warnings and errors are passed on as they are.
/// </summary>
internal sealed class FasterLogger : ILogger
{
    /// <summary>What FasterLog logs (at information level) when no commit could be recovered.</summary>
    internal const string NoCommitMessage = "Unable to recover using any available commit";

    private readonly ILogger _inner;
    private readonly bool _neverCommitted;

    private FasterLogger(ILogger inner, bool neverCommitted)
    {
        _inner = inner;
        _neverCommitted = neverCommitted;
    }

    /// <summary>The logger to give FasterLog for a log whose commit file is <paramref name="commitFile"/>; null without <paramref name="inner"/>.</summary>
    public static ILogger? For(ILogger? inner, CommitFile commitFile) =>
        inner is null ? null : new FasterLogger(inner, commitFile.Newest is null && !commitFile.HasDamagedSlot);

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => _inner.BeginScope(state);

    // An information line is passed on as a warning or at debug level: it is wanted when either of those is.
    public bool IsEnabled(LogLevel logLevel) => logLevel == LogLevel.Information
        ? _inner.IsEnabled(LogLevel.Warning) || _inner.IsEnabled(LogLevel.Debug)
        : _inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (logLevel == LogLevel.Information)
        {
            logLevel = _neverCommitted || !string.Equals(formatter(state, exception), NoCommitMessage, StringComparison.Ordinal)
                ? LogLevel.Debug
                : LogLevel.Warning;
        }
        if (_inner.IsEnabled(logLevel))
        {
            _inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
