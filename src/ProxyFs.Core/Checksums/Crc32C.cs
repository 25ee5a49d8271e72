using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace ProxyFs.Core.Checksums;

/// <summary>
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by iSCSI (RFC 3720), ext4 and SCTP. Uses the
/// SSE4.2 <c>crc32</c> instruction on x64 and the ARMv8 CRC32C instructions on arm64, eight bytes at a time, and
/// a slicing-by-8 table otherwise.
/// </summary>
/// <remarks>
/// Values are finished CRCs (initial value and final XOR of 0xFFFFFFFF applied), so
/// <c>Append(Compute(a), b) == Compute(a + b)</c> and <c>Compute([]) == 0</c>.
/// </remarks>
public static class Crc32C
{
    /// <summary>True when <see cref="Append"/> uses a CPU instruction rather than the table.</summary>
    public static bool IsHardwareAccelerated => Sse42.X64.IsSupported || Crc32.Arm64.IsSupported;

    /// <summary>The CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>
    /// Continues <paramref name="crc"/> (the CRC of the bytes before <paramref name="data"/>, 0 for none) with
    /// <paramref name="data"/> and returns the CRC of the whole.
    /// </summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        if (Sse42.X64.IsSupported)
        {
            return ~AppendSse42(~crc, data);
        }
        if (Crc32.Arm64.IsSupported)
        {
            return ~AppendArm64(~crc, data);
        }
        return ~Crc32CSoftware.Update(~crc, data);
    }

    /// <summary>The table implementation, whatever the CPU (for tests and benchmarks).</summary>
    public static uint AppendSoftware(uint crc, ReadOnlySpan<byte> data) => ~Crc32CSoftware.Update(~crc, data);

    /// <summary>
    /// The <c>crc32</c> instruction has a latency of three cycles and a throughput of one per cycle, so blocks are
    /// cut in three lanes computed together and joined by shifting the earlier lanes' CRCs over the later lanes'
    /// length (<see cref="Crc32CShift"/>): about three times the speed of one dependent chain.
    /// </summary>
    private static uint AppendSse42(uint state, ReadOnlySpan<byte> data)
    {
        ref var start = ref MemoryMarshal.GetReference(data);
        var length = data.Length;
        var i = 0;
        ulong wide = state;
        i = ThreeLanes(ref start, i, length, Crc32CShift.LongLane, Crc32CShift.Long, ref wide);
        i = ThreeLanes(ref start, i, length, Crc32CShift.ShortLane, Crc32CShift.Short, ref wide);
        for (; i + 8 <= length; i += 8)
        {
            wide = Sse42.X64.Crc32(wide, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, i)));
        }
        var narrow = (uint)wide;
        for (; i < length; i++)
        {
            narrow = Sse42.Crc32(narrow, Unsafe.Add(ref start, i));
        }
        return narrow;
    }

    private static int ThreeLanes(ref byte start, int i, int length, int lane, uint[] shift, ref ulong wide)
    {
        while (i + (3 * lane) <= length)
        {
            ulong a = wide, b = 0, c = 0;
            ref var laneA = ref Unsafe.Add(ref start, i);
            ref var laneB = ref Unsafe.Add(ref start, i + lane);
            ref var laneC = ref Unsafe.Add(ref start, i + (2 * lane));
            for (var j = 0; j < lane; j += 8)
            {
                a = Sse42.X64.Crc32(a, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref laneA, j)));
                b = Sse42.X64.Crc32(b, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref laneB, j)));
                c = Sse42.X64.Crc32(c, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref laneC, j)));
            }
            var joined = Crc32CShift.Apply(shift, (uint)a) ^ (uint)b;
            wide = Crc32CShift.Apply(shift, joined) ^ (uint)c;
            i += 3 * lane;
        }
        return i;
    }

    private static uint AppendArm64(uint state, ReadOnlySpan<byte> data)
    {
        ref var start = ref MemoryMarshal.GetReference(data);
        var length = data.Length;
        var i = 0;
        for (; i + 8 <= length; i += 8)
        {
            state = Crc32.Arm64.ComputeCrc32C(state, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, i)));
        }
        for (; i < length; i++)
        {
            state = Crc32.ComputeCrc32C(state, Unsafe.Add(ref start, i));
        }
        return state;
    }
}
