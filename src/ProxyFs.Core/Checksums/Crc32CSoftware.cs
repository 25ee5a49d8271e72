using System.Buffers.Binary;

namespace ProxyFs.Core.Checksums;

/// <summary>Slicing-by-8 CRC-32C over the raw (non-inverted) register state.</summary>
internal static class Crc32CSoftware
{
    private const uint Polynomial = 0x82F63B78u;

    /// <summary>Eight tables of 256 entries: Table[k * 256 + b] is the CRC of byte b followed by k zero bytes.</summary>
    private static readonly uint[] Table = BuildTable();

    public static uint Update(uint state, ReadOnlySpan<byte> data)
    {
        var table = Table;
        while (data.Length >= 8)
        {
            var low = BinaryPrimitives.ReadUInt32LittleEndian(data) ^ state;
            var high = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            state = table[(7 * 256) + (low & 0xFF)]
                ^ table[(6 * 256) + ((low >> 8) & 0xFF)]
                ^ table[(5 * 256) + ((low >> 16) & 0xFF)]
                ^ table[(4 * 256) + (low >> 24)]
                ^ table[(3 * 256) + (high & 0xFF)]
                ^ table[(2 * 256) + ((high >> 8) & 0xFF)]
                ^ table[256 + ((high >> 16) & 0xFF)]
                ^ table[high >> 24];
            data = data[8..];
        }
        foreach (var b in data)
        {
            state = table[(state ^ b) & 0xFF] ^ (state >> 8);
        }
        return state;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[8 * 256];
        for (uint b = 0; b < 256; b++)
        {
            var crc = b;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ Polynomial : crc >> 1;
            }
            table[b] = crc;
        }
        for (var k = 1; k < 8; k++)
        {
            for (var b = 0; b < 256; b++)
            {
                var previous = table[((k - 1) * 256) + b];
                table[(k * 256) + b] = table[previous & 0xFF] ^ (previous >> 8);
            }
        }
        return table;
    }
}
