namespace ProxyFs.Core.FileSystem;

/// <summary>
/// A request refused as a whole with an errno, from below the POSIX layer's checks: e.g. EROFS from a volume that
/// stopped writing (mounted read-only, or fenced by another writer). Thrown before anything changed; the host answers
/// the request with <see cref="Errno"/>.
/// </summary>
public sealed class FileSystemErrnoException : IOException
{
    public FileSystemErrnoException(int errno, string message)
        : base(message)
    {
        Errno = errno;
    }

    public FileSystemErrnoException()
        : this(FileSystem.Errno.EIO, "I/O error")
    {
    }

    public FileSystemErrnoException(string message)
        : this(FileSystem.Errno.EIO, message)
    {
    }

    public FileSystemErrnoException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errno = FileSystem.Errno.EIO;
    }

    /// <summary>The errno to answer with.</summary>
    public int Errno { get; }
}
