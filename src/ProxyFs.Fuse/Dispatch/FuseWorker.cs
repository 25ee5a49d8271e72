using ProxyFs.Fuse.Transport;

namespace ProxyFs.Fuse.Dispatch;

/// <summary>
/// What one reader thread owns: its channel, its pinned buffer (the request is read at offset 0 and the reply is
/// built right after it, so request arguments and reply never overlap), its directory buffer and its counters.
/// </summary>
internal sealed class FuseWorker
{
    public FuseWorker(int id, IFuseTransport transport, int bufferSize)
    {
        Id = id;
        Transport = transport;
        // Pinned (POH) so that the kernel reads and writes it without the GC moving it and without pinning per call.
        Buffer = GC.AllocateArray<byte>(bufferSize, pinned: true);
    }

    public int Id { get; }

    public IFuseTransport Transport { get; }

    public byte[] Buffer { get; }

    public FuseDirectoryBuffer Directory { get; } = new();

    public FuseCounters Counters { get; } = new();

    /// <summary>Where the reader waits while parked by the <see cref="FuseReaderRelay"/>.</summary>
    public SemaphoreSlim Wake { get; } = new(0);

    /// <summary>1 from receiving a request until its reply is written (read by the relay's watcher).</summary>
    public int Busy;

    /// <summary>Requests received by this reader (read by the relay's watcher).</summary>
    public long Sequence;
}
