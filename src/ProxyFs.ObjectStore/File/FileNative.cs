using System.Runtime.InteropServices;

namespace ProxyFs.ObjectStore.File;

/// <summary>
/// The few libc calls the file store needs and the BCL lacks: flock on a raw descriptor and fsync of a directory
/// (the replay log of ProxyFs.Core uses them too).
/// </summary>
internal static partial class FileNative
{
    private const int ORdonly = 0x0;
    private const int ORdwr = 0x2;
    private const int OCreat = 0x40;
    private const int ODirectory = 0x10000;
    private const int OCloexec = 0x80000;
    private const int LockEx = 2;
    private const int LockNb = 4;
    private const int LockUn = 8;
    private const int EIntr = 4;
    private const int EWouldBlock = 11;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

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

    /// <summary>Opens a directory read-only (to fsync it or to flock it) and returns its descriptor.</summary>
    public static int OpenDirectory(string path)
    {
        int fd = Open(path, ORdonly | ODirectory | OCloexec, 0);
        return fd >= 0 ? fd : throw Error("open", path);
    }

    /// <summary>Opens (creating it) a lock file and returns its descriptor; the lock is taken by <see cref="TryLockExclusive"/>.</summary>
    public static int OpenLockFile(string path)
    {
        int fd = Open(path, ORdwr | OCreat | OCloexec, 0b110_100_100);
        return fd >= 0 ? fd : throw Error("open", path);
    }

    /// <summary>flock(LOCK_EX | LOCK_NB): true when taken, false when another descriptor holds it.</summary>
    public static bool TryLockExclusive(int fd, string path)
    {
        while (true)
        {
            if (Flock(fd, LockEx | LockNb) == 0)
            {
                return true;
            }
            int errno = Marshal.GetLastPInvokeError();
            if (errno == EWouldBlock)
            {
                return false;
            }
            if (errno != EIntr)
            {
                throw Error("flock", path);
            }
        }
    }

    /// <summary>Releases the lock and closes the descriptor.</summary>
    public static void Unlock(int fd)
    {
        Flock(fd, LockUn);
        Close(fd);
    }

    private static IOException Error(string call, string path)
    {
        int errno = Marshal.GetLastPInvokeError();
        return new IOException($"{call}({path}) failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", errno);
    }
}
