using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace ProxyFs.Core.LogSegments;

/// <summary>
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF), as iSCSI, ext4 and
/// S3 use it: the SSE4.2 <c>crc32</c> instruction when the processor has it, a byte-at-a-time table otherwise. The
/// check value of the ASCII bytes <c>123456789</c> is 0xE3069283.
/// </summary>
/// <remarks>
/// Local to the log segments until the shared <c>ProxyFs.Core.Checksums.Crc32C</c> lands; it computes the same
/// function, so switching to it changes no stored byte.
/// </remarks>
internal static class SegmentCrc
{
    private const uint Polynomial = 0x82F63B78u;

    private static readonly uint[] Table = BuildTable();

    /// <summary>The state before any byte: <see cref="Update(uint, ReadOnlySpan{byte})"/> from it, then <see cref="Finish"/>.</summary>
    public const uint Initial = 0xFFFFFFFFu;

    /// <summary>The CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Finish(Update(Initial, data));

    /// <summary>The CRC-32C of <paramref name="data"/>, which may be made of several pieces.</summary>
    public static uint Compute(in ReadOnlySequence<byte> data)
    {
        uint state = Initial;
        foreach (var piece in data)
        {
            state = Update(state, piece.Span);
        }
        return Finish(state);
    }

    /// <summary>The CRC value of a running <paramref name="state"/>.</summary>
    public static uint Finish(uint state) => ~state;

    /// <summary>Feeds <paramref name="data"/> into a running <paramref name="state"/> (start from <see cref="Initial"/>).</summary>
    public static uint Update(uint state, ReadOnlySpan<byte> data) =>
        Sse42.X64.IsSupported ? UpdateSse42(state, data) : UpdateSoftware(state, data);

    /// <summary>The table version, whatever the processor (tests compare both).</summary>
    internal static uint UpdateSoftware(uint state, ReadOnlySpan<byte> data)
    {
        var table = Table;
        foreach (byte b in data)
        {
            state = table[(byte)(state ^ b)] ^ (state >> 8);
        }
        return state;
    }

    private static uint UpdateSse42(uint state, ReadOnlySpan<byte> data)
    {
        ulong crc = state;
        var words = MemoryMarshal.Cast<byte, ulong>(data);
        foreach (ulong w in words)
        {
            crc = Sse42.X64.Crc32(crc, BitConverter.IsLittleEndian ? w : BinaryPrimitives.ReverseEndianness(w));
        }
        uint c = (uint)crc;
        foreach (byte b in data[(words.Length * sizeof(ulong))..])
        {
            c = Sse42.Crc32(c, b);
        }
        return c;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? (c >> 1) ^ Polynomial : c >> 1;
            }
            table[i] = c;
        }
        return table;
    }
}
