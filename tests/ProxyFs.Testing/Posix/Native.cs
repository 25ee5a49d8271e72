using System.Runtime.InteropServices;

namespace ProxyFs.Testing.Posix;

/// <summary>
/// The libc calls <see cref="LibcTarget"/> makes that Mono.Posix does not cover (or covers with flag
/// translations we do not want): x86_64 Linux, glibc. Every call sets errno, read back with
/// <see cref="Marshal.GetLastPInvokeError"/>.
/// </summary>
internal static unsafe partial class Native
{
    private const string Libc = "libc";

    public const int AtFdCwd = -100;
    public const int AtSymlinkNofollow = 0x100;
    public const int AtEmptyPath = 0x1000;
    public const int AtSymlinkFollow = 0x400;
    public const uint StatxBasicStats = 0x7FF;

    // x86_64 system call numbers.
    public const long SysSetgroups = 116;
    public const long SysSetresuid = 117;
    public const long SysSetresgid = 119;
    public const long SysUnshare = 272;
    public const long CloneFs = 0x200;

    public static int Errno => Marshal.GetLastPInvokeError();

    [LibraryImport(Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, uint mode);

    [LibraryImport(Libc, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nint count);

    [LibraryImport(Libc, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, byte* buffer, nint count);

    [LibraryImport(Libc, EntryPoint = "pread64", SetLastError = true)]
    public static partial nint PRead(int fd, byte* buffer, nint count, long offset);

    [LibraryImport(Libc, EntryPoint = "pwrite64", SetLastError = true)]
    public static partial nint PWrite(int fd, byte* buffer, nint count, long offset);

    [LibraryImport(Libc, EntryPoint = "lseek64", SetLastError = true)]
    public static partial long LSeek(int fd, long offset, int whence);

    [LibraryImport(Libc, EntryPoint = "truncate64", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Truncate(string path, long length);

    [LibraryImport(Libc, EntryPoint = "ftruncate64", SetLastError = true)]
    public static partial int FTruncate(int fd, long length);

    [LibraryImport(Libc, EntryPoint = "fallocate64", SetLastError = true)]
    public static partial int Fallocate(int fd, int mode, long offset, long length);

    [LibraryImport(Libc, EntryPoint = "copy_file_range", SetLastError = true)]
    public static partial nint CopyFileRange(int fdIn, long* offIn, int fdOut, long* offOut, nint length, uint flags);

    [LibraryImport(Libc, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport(Libc, EntryPoint = "statfs64", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int StatFs(string path, byte* buffer);

    [LibraryImport(Libc, EntryPoint = "chmod", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Chmod(string path, uint mode);

    [LibraryImport(Libc, EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mkdir(string path, uint mode);

    [LibraryImport(Libc, EntryPoint = "mknod", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mknod(string path, uint mode, ulong dev);

    [LibraryImport(Libc, EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Renameat2(int olddirfd, string oldpath, int newdirfd, string newpath, uint flags);

    [LibraryImport(Libc, EntryPoint = "linkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Linkat(int olddirfd, string oldpath, int newdirfd, string newpath, int flags);

    [LibraryImport(Libc, EntryPoint = "readlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint ReadLink(string path, byte* buffer, nint size);

    [LibraryImport(Libc, EntryPoint = "utimensat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Utimensat(int dirfd, string path, long* times, int flags);

    [LibraryImport(Libc, EntryPoint = "access", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Access(string path, int mode);

    [LibraryImport(Libc, EntryPoint = "opendir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint OpenDir(string path);

    [LibraryImport(Libc, EntryPoint = "readdir64", SetLastError = true)]
    public static partial byte* ReadDir(nint dir);

    [LibraryImport(Libc, EntryPoint = "closedir", SetLastError = true)]
    public static partial int CloseDir(nint dir);

    [LibraryImport(Libc, EntryPoint = "setxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int SetXattr(string path, string name, byte* value, nint size, int flags);

    [LibraryImport(Libc, EntryPoint = "lsetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int LSetXattr(string path, string name, byte* value, nint size, int flags);

    [LibraryImport(Libc, EntryPoint = "getxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint GetXattr(string path, string name, byte* value, nint size);

    [LibraryImport(Libc, EntryPoint = "lgetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint LGetXattr(string path, string name, byte* value, nint size);

    [LibraryImport(Libc, EntryPoint = "listxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint ListXattr(string path, byte* list, nint size);

    [LibraryImport(Libc, EntryPoint = "llistxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint LListXattr(string path, byte* list, nint size);

    [LibraryImport(Libc, EntryPoint = "removexattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int RemoveXattr(string path, string name);

    [LibraryImport(Libc, EntryPoint = "lremovexattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int LRemoveXattr(string path, string name);

    [LibraryImport(Libc, EntryPoint = "umask")]
    public static partial uint Umask(uint mask);

    /// <summary>
    /// A raw system call. glibc's setgroups/setresuid wrappers change every thread of the process; the raw calls
    /// change only the calling thread, which is what acting as another user on one thread needs.
    /// </summary>
    [LibraryImport(Libc, EntryPoint = "syscall", SetLastError = true)]
    public static partial long Syscall(long number, long a1, long a2, long a3);

    /// <summary>makedev(3) of glibc.</summary>
    public static ulong MakeDev(uint major, uint minor) =>
        ((ulong)(major & 0xFFFFF000) << 32) | ((ulong)(major & 0xFFF) << 8) | ((ulong)(minor & 0xFFFFFF00) << 12) | (minor & 0xFF);
}
