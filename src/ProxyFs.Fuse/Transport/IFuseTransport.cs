namespace ProxyFs.Fuse.Transport;

/// <summary>
/// One channel of a FUSE connection: /dev/fuse (or a clone of it) for real mounts, an in-memory queue in tests.
/// Replies must be written on the channel that read the request (the kernel keeps a processing list per fd).
/// </summary>
public interface IFuseTransport : IDisposable
{
    /// <summary>Reads one whole request into <paramref name="buffer"/>, blocking: its length, or -errno.</summary>
    int Read(Span<byte> buffer);

    /// <summary>Writes one whole reply or notification with one call: bytes written, or -errno.</summary>
    int Write(ReadOnlySpan<byte> message);

    /// <summary>
    /// A new channel on the same connection for another reader thread (FUSE_DEV_IOC_CLONE), or null when cloning is
    /// not supported and readers must share this channel.
    /// </summary>
    IFuseTransport? Clone();
}
