namespace ProxyFs.Core.LogSegments;

/// <summary>
/// A <see cref="SegmentWriter"/> could not make appended bytes durable (an upload failed permanently, or for longer
/// than its retries allow). The bytes are still in memory and readable; <see cref="SegmentWriter.RetryFailedAsync"/>
/// tries again. The volume turns it into EIO.
/// </summary>
public sealed class SegmentWriterFailedException : IOException
{
    /// <summary>Creates the exception.</summary>
    public SegmentWriterFailedException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// A read of segment bytes failed: the segment is damaged (a checksum or the format does not hold), or the read asks
/// for bytes the segment does not have. Never answered with wrong bytes. The volume turns it into EIO.
/// </summary>
public class SegmentReadException : IOException
{
    /// <summary>Creates the exception.</summary>
    public SegmentReadException(ulong nonce, string key, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Nonce = nonce;
        Key = key;
    }

    /// <summary>The segment's nonce.</summary>
    public ulong Nonce { get; }

    /// <summary>The segment's object key.</summary>
    public string Key { get; }
}

/// <summary>The stored segment is damaged: a block or its footer fails its CRC-32C, or its format is wrong.</summary>
public sealed class SegmentCorruptException : SegmentReadException
{
    /// <summary>Creates the exception; <paramref name="block"/> is the damaged data block, or -1 for the footer or format.</summary>
    public SegmentCorruptException(ulong nonce, string key, int block, string message, Exception? innerException = null)
        : base(nonce, key, message, innerException)
    {
        Block = block;
    }

    /// <summary>The data block that failed its checksum, or -1 when the footer or the format is at fault.</summary>
    public int Block { get; }
}
