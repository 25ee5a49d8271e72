using System.Runtime.InteropServices;
using ProxyFs.Core.Cache;

namespace ProxyFs.Core.Tests.Cache;

/// <summary>New line buffers come with their pages already backed (one madvise, not a fault per page).</summary>
public sealed partial class MemoryPagesTests
{
    [LibraryImport("libc", EntryPoint = "mincore", SetLastError = true)]
    private static partial int Mincore(nint address, nuint length, byte[] vector);

    [Fact]
    public unsafe void A_new_buffer_has_every_whole_page_resident_before_it_is_written()
    {
        byte[] buffer = MemoryPages.AllocatePopulated(8 << 20);
        Assert.Equal(8 << 20, buffer.Length);
        Assert.False(MemoryPages.Unsupported, "this kernel knows MADV_POPULATE_WRITE (Linux 5.14 and later)");
        long page = Environment.SystemPageSize;
        fixed (byte* p = buffer)
        {
            long start = ((long)p + page - 1) & ~(page - 1);
            long end = ((long)p + buffer.Length) & ~(page - 1);
            byte[] resident = new byte[(end - start) / page];
            Assert.Equal(0, Mincore((nint)start, (nuint)(end - start), resident));
            Assert.All(resident, r => Assert.Equal(1, r & 1));
        }
        Assert.Equal(2, GC.GetGeneration(buffer)); // the pinned object heap (reported as generation 2): it never moves
    }
}
