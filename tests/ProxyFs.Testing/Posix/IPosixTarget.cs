using ProxyFs.Core.FileSystem;

namespace ProxyFs.Testing.Posix;

/// <summary>
/// Path-based POSIX operations on a directory tree, each returning 0 or a positive errno (never throwing for a
/// failed call), performed as <see cref="User"/> with <see cref="Umask"/>. Paths are relative to the target's
/// root ("a/b"); an absolute symlink target is resolved against the real root by <see cref="LibcTarget"/> and
/// against the filesystem's root by <see cref="FileSystemTarget"/>, so scenarios use relative targets. File
/// descriptors are numbers private to the target. One target is used by one thread at a time.
/// </summary>
public interface IPosixTarget : IDisposable
{
    /// <summary>A short name for reports ("tmpfs", "memfs", "mount").</summary>
    string Name { get; }

    /// <summary>Who the next operations run as. Default root.</summary>
    PosixUser User { get; set; }

    /// <summary>The umask applied to modes of new files. Default 0.</summary>
    uint Umask { get; set; }

    // ---- files ----
    int Open(string path, int flags, uint mode, out int fd);

    int Close(int fd);

    int Read(int fd, Span<byte> buffer, out int count);

    int Write(int fd, ReadOnlySpan<byte> data, out int count);

    int PRead(int fd, Span<byte> buffer, long offset, out int count);

    int PWrite(int fd, ReadOnlySpan<byte> data, long offset, out int count);

    /// <summary>lseek(2) with SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA or SEEK_HOLE (<see cref="SeekWhence"/>).</summary>
    int Seek(int fd, long offset, int whence, out long result);

    int Truncate(string path, long length);

    int FTruncate(int fd, long length);

    int Fsync(int fd, bool dataOnly);

    int Fallocate(int fd, int mode, long offset, long length);

    /// <summary>copy_file_range(2); a null offset uses and advances the descriptor's position.</summary>
    int CopyFileRange(int fdIn, long? offsetIn, int fdOut, long? offsetOut, long length, out long copied);

    // ---- attributes ----
    int Stat(string path, out PosixStat stat);

    int LStat(string path, out PosixStat stat);

    int FStat(int fd, out PosixStat stat);

    int Chmod(string path, uint mode);

    /// <summary>chown(2) (following symlinks) or lchown(2); -1 leaves an id unchanged.</summary>
    int Chown(string path, int uid, int gid, bool followSymlinks = true);

    /// <summary>utimensat(2), following symlinks unless told not to.</summary>
    int Utimens(string path, PosixTime atime, PosixTime mtime, bool followSymlinks = true);

    int Access(string path, int mask);

    int StatFs(string path, out PosixStatFs stat);

    // ---- names ----
    int Mkdir(string path, uint mode);

    int Rmdir(string path);

    int Unlink(string path);

    int Rename(string from, string to, RenameFlags flags = RenameFlags.None);

    int Link(string existing, string newPath);

    /// <summary>Gives an open file a name (linkat of /proc/self/fd/N with AT_SYMLINK_FOLLOW): how O_TMPFILE files are kept.</summary>
    int LinkFd(int fd, string newPath);

    int Symlink(string target, string linkPath);

    int ReadLink(string path, out string target);

    int Mknod(string path, uint mode, uint major, uint minor);

    // ---- directories ----
    int OpenDir(string path, out int dir);

    /// <summary>The next entry ("." and ".." included), or null at the end.</summary>
    int ReadDir(int dir, out PosixDirEntry? entry);

    int CloseDir(int dir);

    // ---- extended attributes (l*xattr unless followSymlinks) ----
    int SetXattr(string path, string name, ReadOnlySpan<byte> value, XattrFlags flags, bool followSymlinks = false);

    /// <summary>getxattr(2): with an empty buffer, <paramref name="size"/> is the value's size.</summary>
    int GetXattr(string path, string name, Span<byte> buffer, out int size, bool followSymlinks = false);

    /// <summary>listxattr(2): NUL-terminated names, same size protocol as <see cref="GetXattr"/>.</summary>
    int ListXattr(string path, Span<byte> buffer, out int size, bool followSymlinks = false);

    int RemoveXattr(string path, string name, bool followSymlinks = false);
}
