using System.Runtime.InteropServices;

namespace ProxyFs.Host.Native;

/// <summary>The few libc calls the host needs beyond the BCL (process detachment, unmount fallbacks).</summary>
internal static partial class Libc
{
    public const int MNT_DETACH = 2;
    public const int O_RDWR = 2;
    public const int O_WRONLY = 1;
    public const int O_CREAT = 0x40;
    public const int O_APPEND = 0x400;
    public const int O_CLOEXEC = 0x80000;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setsid();

    [LibraryImport("libc", SetLastError = true)]
    public static partial int dup2(int oldfd, int newfd);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags, int mode);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int umount2(string target, int flags);

    [LibraryImport("libc")]
    public static partial uint geteuid();

    [LibraryImport("libc")]
    public static partial int umask(int mask);

    [LibraryImport("libc", EntryPoint = "strerror")]
    private static partial IntPtr strerror_native(int errnum);

    public static string StrError(int errno) => Marshal.PtrToStringUTF8(strerror_native(errno)) ?? ("errno " + errno);
}
