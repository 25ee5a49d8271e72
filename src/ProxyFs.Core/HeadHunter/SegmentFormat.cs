using System.Buffers.Binary;
using ProxyFs.Core.Checksums;

namespace ProxyFs.Core.HeadHunter;

/// <summary>
/// A metadata segment object: a 32-byte header, the records of one checkpoint (pages and blobs, children before
/// parents), and a 40-byte trailer naming the root page and checksumming the whole object (docs/FORMAT.md).
/// </summary>
public static class SegmentFormat
{
    /// <summary>Format version of segment headers and trailers.</summary>
    public const byte Version = 1;

    /// <summary>Length of the segment header.</summary>
    public const int HeaderLength = 32;

    /// <summary>Length of the segment trailer.</summary>
    public const int TrailerLength = 40;

    /// <summary>"HHSG" read as a little-endian u32.</summary>
    public const uint HeaderMagic = 0x47534848;

    /// <summary>"HHSE" read as a little-endian u32.</summary>
    public const uint TrailerMagic = 0x45534848;

    internal static void WriteHeader(Span<byte> destination, ulong nonce, int pageSize)
    {
        var header = destination[..HeaderLength];
        header.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(header, HeaderMagic);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], HeaderLength);
        BinaryPrimitives.WriteUInt64LittleEndian(header[12..], nonce);
        header[20] = Version;
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], (uint)pageSize);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], Crc32C.Compute(header[8..]));
    }

    internal static void WriteTrailer(Span<byte> segment, PageAddress root, int pages, int blobs)
    {
        var trailer = segment[^TrailerLength..];
        trailer.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(trailer, TrailerMagic);
        trailer[4] = Version;
        PageFormat.WriteAddress(trailer[8..], root);
        BinaryPrimitives.WriteUInt32LittleEndian(trailer[24..], (uint)pages);
        BinaryPrimitives.WriteUInt32LittleEndian(trailer[28..], (uint)blobs);
        BinaryPrimitives.WriteUInt32LittleEndian(trailer[32..], (uint)segment.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(trailer[36..], Crc32C.Compute(segment[..^4]));
    }

    /// <summary>
    /// Checks a whole segment object (header, trailer, whole-object CRC-32C) and returns the root page address
    /// its checkpoint recorded. Used by fsck and by recovery to find a checkpoint's root without the root pointer.
    /// </summary>
    public static PageAddress Validate(ReadOnlySpan<byte> segment, ulong expectedNonce)
    {
        var where = $"metadata segment {expectedNonce:x16}";
        if (segment.Length < HeaderLength + TrailerLength)
        {
            throw new HeadHunterCorruptionException($"{where} is corrupt: {segment.Length} bytes is too short");
        }
        if (BinaryPrimitives.ReadUInt32LittleEndian(segment) != HeaderMagic
            || BinaryPrimitives.ReadUInt32LittleEndian(segment[4..]) != Crc32C.Compute(segment[8..HeaderLength]))
        {
            throw new HeadHunterCorruptionException($"{where} is corrupt: bad header magic or checksum");
        }
        if (segment[20] != Version)
        {
            throw new HeadHunterCorruptionException($"{where} has unsupported format version {segment[20]}");
        }
        if (BinaryPrimitives.ReadUInt64LittleEndian(segment[12..]) != expectedNonce)
        {
            throw new HeadHunterCorruptionException($"{where} is corrupt: its header names segment {BinaryPrimitives.ReadUInt64LittleEndian(segment[12..]):x16}");
        }
        var trailer = segment[^TrailerLength..];
        if (BinaryPrimitives.ReadUInt32LittleEndian(trailer) != TrailerMagic)
        {
            throw new HeadHunterCorruptionException($"{where} is corrupt: bad trailer magic (truncated?)");
        }
        if (BinaryPrimitives.ReadUInt32LittleEndian(trailer[32..]) != (uint)segment.Length)
        {
            throw new HeadHunterCorruptionException($"{where} is corrupt: trailer length {BinaryPrimitives.ReadUInt32LittleEndian(trailer[32..])} differs from {segment.Length}");
        }
        var stored = BinaryPrimitives.ReadUInt32LittleEndian(trailer[36..]);
        var actual = Crc32C.Compute(segment[..^4]);
        if (stored != actual)
        {
            throw new HeadHunterCorruptionException($"{where} is corrupt: CRC-32C mismatch (stored 0x{stored:x8}, computed 0x{actual:x8})");
        }
        return PageFormat.ReadAddress(trailer[8..]);
    }
}
