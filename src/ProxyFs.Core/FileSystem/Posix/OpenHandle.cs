using ProxyFs.Core.FileSystem.Inodes;

namespace ProxyFs.Core.FileSystem.Posix;

/// <summary>An open file or directory of a <see cref="PosixFileSystem"/>: what Open, Create or OpenDir returned.</summary>
internal sealed class OpenHandle(Inode inode, int flags, bool isDirectory)
{
    public Inode Inode { get; } = inode;

    public int Flags { get; } = flags;

    public bool IsDirectory { get; } = isDirectory;

    public bool CanRead => (Flags & OpenFlags.O_ACCMODE) != OpenFlags.O_WRONLY;

    public bool CanWrite => (Flags & OpenFlags.O_ACCMODE) is OpenFlags.O_WRONLY or OpenFlags.O_RDWR;

    public bool Append => (Flags & OpenFlags.O_APPEND) != 0;

    public bool NoAtime => (Flags & OpenFlags.O_NOATIME) != 0;
}
