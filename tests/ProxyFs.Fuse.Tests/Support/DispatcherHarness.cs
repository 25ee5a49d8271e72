using System.Collections.Concurrent;
using ProxyFs.Fuse.Dispatch;
using ProxyFs.Fuse.Protocol;

namespace ProxyFs.Fuse.Tests.Support;

/// <summary>A dispatcher with one worker and a capturing channel: raw request in, raw reply out.</summary>
internal sealed class DispatcherHarness
{
    public const int PageSize = 4096;
    public const int MaxPages = 256;

    public DispatcherHarness(IFuseOperations? operations = null, bool debug = false, ulong? wanted = null, int maxPages = MaxPages)
    {
        FileSystem = operations as TestFileSystem;
        Operations = operations ?? (FileSystem = new TestFileSystem());
        Log = new FuseLogger((level, line) => Lines.Enqueue((level, line)), debug);
        Transport = new CaptureTransport();
        Notifier = new FuseNotifier(Transport, Log);
        Dispatcher = new FuseDispatcher(Operations, Notifier, new FuseInitParameters
        {
            Wanted = wanted ?? FuseInitParameters.DefaultWanted(writebackCache: false, disabled: 0),
            MaxPages = maxPages,
            PageSize = PageSize,
            MaxBackground = 64,
        }, Log)
        {
            InitFailed = reason => InitFailures.Add(reason),
        };
        Worker = new FuseWorker(0, Transport, (maxPages * PageSize) + 4096);
    }

    public IFuseOperations Operations { get; }

    public TestFileSystem? FileSystem { get; }

    public FuseLogger Log { get; }

    public ConcurrentQueue<(FuseLogLevel Level, string Line)> Lines { get; } = new();

    public List<string> InitFailures { get; } = [];

    public CaptureTransport Transport { get; }

    public FuseNotifier Notifier { get; }

    public FuseDispatcher Dispatcher { get; }

    public FuseWorker Worker { get; }

    public FuseCounters Counters => Worker.Counters;

    /// <summary>Dispatches one request; the reply bytes, or null when nothing was written.</summary>
    public byte[]? Send(byte[] request)
    {
        Transport.Reset();
        request.CopyTo(Worker.Buffer, 0);
        Dispatcher.Dispatch(Worker, request.Length);
        return Transport.Writes == 0 ? null : Transport.LastCopy();
    }

    /// <summary>INIT as a 7.38 kernel with every capability offered; returns the fuse_init_out sent.</summary>
    public fuse_init_out Init(uint minor = 38, ulong flags = ulong.MaxValue)
    {
        if (minor < 36)
        {
            flags &= 0xFFFF_FFFF;
        }
        var reply = Send(RequestBuilder.Init(minor, flags)) ?? throw new InvalidOperationException("INIT got no reply");
        var parsed = new Reply(reply);
        Assert.Equal(0, parsed.Error);
        return parsed.Read<fuse_init_out>();
    }
}
