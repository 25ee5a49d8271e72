namespace ProxyFs.Core.Checksums;

/// <summary>
/// Moves a raw CRC-32C register across a run of zero bytes in four table lookups. The register update is linear
/// over GF(2), so CRC(A ‖ B) = Shift(CRC(A), |B|) ⊕ CRC₀(B), where CRC₀ starts from a zero register: this joins
/// lanes computed in parallel.
/// </summary>
internal static class Crc32CShift
{
    /// <summary>Bytes per lane of the long three-lane loop (12 KiB blocks).</summary>
    public const int LongLane = 4096;

    /// <summary>Bytes per lane of the short three-lane loop (768-byte blocks).</summary>
    public const int ShortLane = 256;

    public static readonly uint[] Long = Build(LongLane);
    public static readonly uint[] Short = Build(ShortLane);

    public static uint Apply(uint[] table, uint crc) =>
        table[crc & 0xFF] ^ table[256 + ((crc >> 8) & 0xFF)] ^ table[512 + ((crc >> 16) & 0xFF)] ^ table[768 + (crc >> 24)];

    /// <summary>Table[k * 256 + b] = the register (b &lt;&lt; 8k) moved over <paramref name="zeros"/> zero bytes.</summary>
    private static uint[] Build(int zeros)
    {
        var table = new uint[4 * 256];
        var zeroBytes = new byte[zeros];
        for (var k = 0; k < 4; k++)
        {
            for (uint b = 0; b < 256; b++)
            {
                table[(k * 256) + b] = Crc32CSoftware.Update(b << (8 * k), zeroBytes);
            }
        }
        return table;
    }
}
