using System.Runtime.InteropServices;

namespace ProxyFs.Core.Cache;

/// <summary>The few memory calls of libc the read cache's line memory needs (Linux).</summary>
internal static partial class NativeMemoryCalls
{
    internal const int MadvDontNeed = 4;
    internal const int MadvHugePage = 14;
    internal const int MadvNoHugePage = 15;
    internal const int MadvPopulateWrite = 23;
    private const int ProtReadWrite = 0x1 | 0x2;
    private const int MapPrivateAnonymous = 0x02 | 0x20;
    private const int EInval = 22;
    private static volatile bool _populateUnsupported;

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(nint address, nuint length);

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int Madvise(nint address, nuint length, int advice);

    [LibraryImport("libc", EntryPoint = "clock_gettime", SetLastError = true)]
    private static partial int ClockGetTime(int clock, out Timespec time);

    private const int ClockThreadCpuTime = 3;

    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    /// <summary>CPU time the calling thread has used, in nanoseconds (0 when unknown).</summary>
    public static long ThreadCpuNanoseconds() =>
        ClockGetTime(ClockThreadCpuTime, out Timespec t) == 0 ? (t.Seconds * 1_000_000_000) + t.Nanoseconds : 0;

    /// <summary>True once the kernel said it does not know MADV_POPULATE_WRITE (Linux 5.14).</summary>
    public static bool PopulateUnsupported => _populateUnsupported;

    /// <summary>Maps <paramref name="length"/> bytes of private anonymous memory (not backed until written).</summary>
    public static nint MapAnonymous(nuint length)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("the read cache maps its line memory with Linux's mmap");
        }
        nint address = Mmap(0, length, ProtReadWrite, MapPrivateAnonymous, -1, 0);
        if (address == -1)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new OutOfMemoryException($"the read cache could not map {length} bytes of line memory: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
        }
        return address;
    }

    public static bool Unmap(nint address, nuint length) => Munmap(address, length) == 0;

    /// <summary>Gives advice on whole pages; false when the kernel refused it (the memory is the same either way).</summary>
    public static bool Advise(nint address, nuint length, int advice) => Madvise(address, length, advice) == 0;

    /// <summary>
    /// Backs the pages of a range with memory in one call rather than one fault per page when they are first written.
    /// Advice only: a kernel without MADV_POPULATE_WRITE answers EINVAL (then it is not asked again) and any other
    /// failure (no memory now) leaves the pages to fault in when written.
    /// </summary>
    public static void Populate(nint address, nuint length)
    {
        if (!_populateUnsupported && Madvise(address, length, MadvPopulateWrite) != 0 && Marshal.GetLastPInvokeError() == EInval)
        {
            _populateUnsupported = true;
        }
    }

    /// <summary>Returns a range's memory to the system; it reads as zeros and is backed again when next written.</summary>
    public static void Discard(nint address, nuint length) => Madvise(address, length, MadvDontNeed);
}
