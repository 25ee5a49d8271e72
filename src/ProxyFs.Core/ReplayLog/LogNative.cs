using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using ProxyFs.ObjectStore.File;

namespace ProxyFs.Core.ReplayLog;

/// <summary>
/// The libc calls the replay log needs and the BCL lacks: fdatasync and statvfs; flock of its directory on the file
/// store's <see cref="FileNative"/>, which also does fsync of a directory.
/// </summary>
internal static partial class LogNative
{
    public const int ENoSpc = 28;
    private const int EIntr = 4;

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int Fdatasync(SafeFileHandle fd);

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
    /// to be closed with <see cref="UnlockDirectory"/>, or -1 when another open file description holds the lock.
    /// </summary>
    public static int TryLockDirectory(string path)
    {
        int fd = FileNative.OpenDirectory(path);
        bool locked;
        try
        {
            locked = FileNative.TryLockExclusive(fd, path);
        }
        catch (IOException)
        {
            FileNative.Unlock(fd);
            throw;
        }
        if (!locked)
        {
            FileNative.Unlock(fd);
            return -1;
        }
        return fd;
    }

    /// <summary>Releases the lock of <see cref="TryLockDirectory"/> and closes its descriptor.</summary>
    public static void UnlockDirectory(int fd) => FileNative.Unlock(fd);

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
