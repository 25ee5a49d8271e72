namespace ProxyFs.Fuse;

/// <summary>The session's log: the options' sink, or standard error for warnings, errors and debug lines.</summary>
internal sealed class FuseLogger
{
    private readonly Action<FuseLogLevel, string>? _sink;
    private readonly Action<string>? _debugSink;

    public FuseLogger(Action<FuseLogLevel, string>? sink, bool debug, Action<string>? debugSink = null)
    {
        _sink = sink;
        _debugSink = debugSink;
        DebugEnabled = debug;
    }

    /// <summary>True in debug mode: every request and reply is printed (and allocates).</summary>
    public bool DebugEnabled { get; }

    public void Debug(string message)
    {
        if (_debugSink is not null)
        {
            _debugSink(message);
        }
        else
        {
            Write(FuseLogLevel.Debug, message);
        }
    }

    public void Info(string message) => Write(FuseLogLevel.Information, message);

    public void Warning(string message) => Write(FuseLogLevel.Warning, message);

    public void Error(string message) => Write(FuseLogLevel.Error, message);

    private void Write(FuseLogLevel level, string message)
    {
        if (_sink is not null)
        {
            _sink(level, message);
        }
        else if (level != FuseLogLevel.Information)
        {
            Console.Error.WriteLine($"proxyfs-fuse {level.ToString().ToLowerInvariant()}: {message}");
        }
    }
}
