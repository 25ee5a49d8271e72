using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ProxyFs.Core.ReplayLog;

/// <summary>The libc calls the replay log needs and the BCL lacks: fsync of a directory, fdatasync, flock.</summary>
internal static partial class LogNative
{
    public const int ENoSpc = 28;
    private const int ORdonly = 0x0;
    private const int ODirectory = 0x10000;
    private const int OCloexec = 0x80000;
    private const int LockEx = 2;
    private const int LockNb = 4;
    private const int EIntr = 4;
    private const int EWouldBlock = 11;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int Fdatasync(SafeFileHandle fd);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(int fd, int operation);

    /// <summary>fsync(2) of a directory, so that the entries created, renamed or removed in it are durable.</summary>
    public static void FsyncDirectory(string path)
    {
        int fd = Open(path, ORdonly | ODirectory | OCloexec, 0);
        if (fd < 0)
        {
            throw Error("open", path);
        }
        try
        {
            while (Fsync(fd) != 0)
            {
                if (Marshal.GetLastPInvokeError() != EIntr)
                {
                    throw Error("fsync", path);
                }
            }
        }
        finally
        {
            Close(fd);
        }
    }

    /// <summary>fdatasync(2): the file's data (and the metadata needed to read it) is durable when this returns.</summary>
    public static void Fdatasync(SafeFileHandle handle, string path)
    {
        while (Fdatasync(handle) != 0)
        {
            if (Marshal.GetLastPInvokeError() != EIntr)
            {
                throw Error("fdatasync", path);
            }
        }
    }

    /// <summary>
    /// Opens <paramref name="path"/> (a directory) and takes flock(LOCK_EX | LOCK_NB) on it: returns the descriptor,
    /// to be closed with <see cref="CloseDirectory"/> (which releases the lock), or -1 when another open file
    /// description holds the lock.
    /// </summary>
    public static int TryLockDirectory(string path)
    {
        int fd = Open(path, ORdonly | ODirectory | OCloexec, 0);
        if (fd < 0)
        {
            throw Error("open", path);
        }
        while (true)
        {
            if (Flock(fd, LockEx | LockNb) == 0)
            {
                return fd;
            }
            int errno = Marshal.GetLastPInvokeError();
            if (errno == EWouldBlock)
            {
                Close(fd);
                return -1;
            }
            if (errno != EIntr)
            {
                IOException e = Error("flock", path);
                Close(fd);
                throw e;
            }
        }
    }

    public static void CloseDirectory(int fd) => Close(fd);

    [LibraryImport("libc", EntryPoint = "statvfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statvfs(string path, out StatVfs buffer);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint Geteuid();

    /// <summary>
    /// Bytes this process can still write on the file system of <paramref name="path"/> (statvfs: free blocks for
    /// root, blocks available to unprivileged users otherwise), or -1 when it cannot be told.
    /// </summary>
    public static long AvailableBytes(string path)
    {
        if (Statvfs(path, out StatVfs s) != 0)
        {
            return -1;
        }
        ulong blocks = Geteuid() == 0 ? s.BlocksFree : s.BlocksAvailable;
        return (long)Math.Min(blocks * s.FragmentSize, long.MaxValue);
    }

    /// <summary>True when <paramref name="e"/> (or an exception inside it) reports ENOSPC.</summary>
    public static bool IsDiskFull(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            // .NET reports errno ENOSPC as an IOException whose HResult is the errno (Unix) or ERROR_DISK_FULL (0x70).
            if (e is IOException && ((e.HResult & 0xFFFF) == ENoSpc || (e.HResult & 0xFFFF) == 0x70))
            {
                return true;
            }
        }
        return false;
    }

    // struct statvfs of glibc on 64-bit Linux (x86-64 and arm64): eleven 8-byte fields, then 6 spare ints.
    [StructLayout(LayoutKind.Sequential)]
    private struct StatVfs
    {
        public ulong BlockSize;
        public ulong FragmentSize;
        public ulong Blocks;
        public ulong BlocksFree;
        public ulong BlocksAvailable;
        public ulong Files;
        public ulong FilesFree;
        public ulong FilesAvailable;
        public ulong FileSystemId;
        public ulong Flags;
        public ulong NameMax;
        public long Spare0;
        public long Spare1;
        public long Spare2;
    }

    private static IOException Error(string call, string path)
    {
        int errno = Marshal.GetLastPInvokeError();
        return new IOException($"{call}({path}): {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", errno);
    }
}
