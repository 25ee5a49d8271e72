namespace ProxyFs.Core.Cache;

/// <summary>
/// Backs a new pinned array's pages with memory in one system call (madvise MADV_POPULATE_WRITE, Linux 5.14) rather
/// than one page fault per 4 KiB page when it is first written (the segment writer's chunks, written at the rate of
/// the application; the read cache's lines come from <see cref="LinePool"/>). On these VMs first-touch faults cost
/// 1.1–1.3 s of CPU per GiB written, populating 0.72 s (a C probe).
/// </summary>
/// <remarks>
/// Advice only: a kernel without MADV_POPULATE_WRITE answers EINVAL (then it is not asked again) and any other failure
/// (no memory now) leaves the pages to fault in when written, as without it; the buffer is the same either way.
/// </remarks>
internal static class MemoryPages
{
    /// <summary>True once the kernel said it does not know MADV_POPULATE_WRITE.</summary>
    public static bool Unsupported => NativeMemoryCalls.PopulateUnsupported;

    /// <summary>
    /// A new array of <paramref name="length"/> bytes (contents undefined) on the pinned object heap, its whole pages
    /// already backed by memory.
    /// </summary>
    public static byte[] AllocatePopulated(int length)
    {
        byte[] buffer = GC.AllocateUninitializedArray<byte>(length, pinned: true);
        Populate(buffer);
        return buffer;
    }

    private static unsafe void Populate(byte[] pinned)
    {
        long page = Environment.SystemPageSize;
        if (pinned.Length < 2 * page || !OperatingSystem.IsLinux())
        {
            return;
        }
        // SAFETY: the array was allocated pinned (it never moves); only whole pages inside it are advised.
        fixed (byte* p = pinned)
        {
            long start = ((long)p + page - 1) & ~(page - 1);
            long end = ((long)p + pinned.Length) & ~(page - 1);
            NativeMemoryCalls.Populate((nint)start, (nuint)(end - start));
        }
    }
}
