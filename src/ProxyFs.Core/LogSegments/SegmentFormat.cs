using System.Buffers.Binary;
using ProxyFs.Core.Checksums;

namespace ProxyFs.Core.LogSegments;

/// <summary>
/// The bytes of a segment object, format version 1 (docs/FORMAT.md, "Log segments", is the reference):
/// <code>
/// header  (H = 28 + V bytes)  magic "PFSSEGHD", version, H, V, reserved, nonce, volume id (V bytes), CRC-32C of the header
/// data    (D bytes)           the appended bytes; extents address them by offset from the first data byte
/// footer  (F = 48 + 4N bytes) magic "PFSSEGFT", version, block size B, nonce, H, CRC-32C of the volume id, D, N, one CRC-32C per block of B data bytes
/// trailer (16 bytes)          F, CRC-32C of the footer, magic "PFSSEGTR"
/// </code>
/// All integers are little-endian. A reader finds the footer with one suffix-range GET (the trailer is at a fixed
/// distance from the end) and verifies every data block it reads against it.
/// </summary>
public static class SegmentFormat
{
    /// <summary>The format version this code writes and reads.</summary>
    public const ushort Version = 1;

    /// <summary>The fixed part of the header (the volume id and nothing else varies).</summary>
    public const int HeaderFixedLength = 28;

    /// <summary>The fixed part of the footer, before the block CRCs.</summary>
    public const int FooterFixedLength = 48;

    /// <summary>The trailer at the very end of the object.</summary>
    public const int TrailerLength = 16;

    /// <summary>The longest volume id.</summary>
    public const int MaxVolumeIdLength = 1024;

    /// <summary>ASCII <c>PFSSEGHD</c>, the first 8 bytes of a segment.</summary>
    public static ReadOnlySpan<byte> HeaderMagic => "PFSSEGHD"u8;

    /// <summary>ASCII <c>PFSSEGFT</c>, the first 8 bytes of the footer.</summary>
    public static ReadOnlySpan<byte> FooterMagic => "PFSSEGFT"u8;

    /// <summary>ASCII <c>PFSSEGTR</c>, the last 8 bytes of a segment.</summary>
    public static ReadOnlySpan<byte> TrailerMagic => "PFSSEGTR"u8;

    /// <summary>The header length H for a volume id of <paramref name="volumeIdLength"/> bytes: where the data starts.</summary>
    public static int HeaderLength(int volumeIdLength) => HeaderFixedLength + volumeIdLength;

    /// <summary>The footer length F (without the trailer) for <paramref name="dataLength"/> bytes in blocks of <paramref name="blockSize"/>.</summary>
    public static int FooterLength(long dataLength, int blockSize) => FooterFixedLength + (4 * BlockCount(dataLength, blockSize));

    /// <summary>The number of CRC blocks of <paramref name="dataLength"/> bytes (the last one may be shorter).</summary>
    public static int BlockCount(long dataLength, int blockSize) => checked((int)((dataLength + blockSize - 1) / blockSize));

    /// <summary>Writes the header of segment <paramref name="nonce"/> of the volume <paramref name="volumeId"/> into <paramref name="destination"/> (exactly H bytes).</summary>
    public static void WriteHeader(Span<byte> destination, ulong nonce, ReadOnlySpan<byte> volumeId)
    {
        ValidateVolumeId(volumeId.Length);
        int h = HeaderLength(volumeId.Length);
        if (destination.Length != h)
        {
            throw new ArgumentException($"the header of a segment with a {volumeId.Length}-byte volume id is {h} bytes, not {destination.Length}", nameof(destination));
        }
        HeaderMagic.CopyTo(destination);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[8..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[10..], (ushort)h);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[12..], (ushort)volumeId.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[14..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], nonce);
        volumeId.CopyTo(destination[24..]);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[(24 + volumeId.Length)..], Crc32C.Compute(destination[..(24 + volumeId.Length)]));
    }

    /// <summary>Parses and checks a header; returns the nonce and the volume id, or throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static (ulong Nonce, byte[] VolumeId) ReadHeader(ReadOnlySpan<byte> header)
    {
        if (header.Length < HeaderFixedLength || !header[..8].SequenceEqual(HeaderMagic))
        {
            throw new FormatException("not a segment header (the magic PFSSEGHD is missing)");
        }
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(header[8..]);
        if (version != Version)
        {
            throw new FormatException($"segment format version {version} is not supported (this build reads version {Version})");
        }
        int h = BinaryPrimitives.ReadUInt16LittleEndian(header[10..]);
        int v = BinaryPrimitives.ReadUInt16LittleEndian(header[12..]);
        if (h != HeaderLength(v) || header.Length < h)
        {
            throw new FormatException($"segment header length {h} does not match its volume id length {v} (or fewer than {h} bytes were given)");
        }
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(header[(24 + v)..]);
        uint actual = Crc32C.Compute(header[..(24 + v)]);
        if (stored != actual)
        {
            throw new FormatException($"segment header CRC-32C mismatch: stored 0x{stored:x8}, computed 0x{actual:x8}");
        }
        return (BinaryPrimitives.ReadUInt64LittleEndian(header[16..]), header.Slice(24, v).ToArray());
    }

    /// <summary>
    /// Checks a whole segment object (<paramref name="bytes"/>): its trailer, footer (CRC, lengths against the object's)
    /// and header (CRC), that both name segment <paramref name="nonce"/> of the volume <paramref name="volumeId"/>, and
    /// every data block against its CRC-32C. Returns the footer; throws <see cref="FormatException"/> saying what is wrong.
    /// </summary>
    public static SegmentFooter Verify(ReadOnlySpan<byte> bytes, ulong nonce, ReadOnlySpan<byte> volumeId)
    {
        SegmentFooter footer = VerifyFooter(bytes, bytes.Length, nonce, Crc32C.Compute(volumeId));
        (ulong headerNonce, byte[] headerVolumeId) = ReadHeader(bytes);
        if (headerNonce != nonce || !headerVolumeId.AsSpan().SequenceEqual(volumeId))
        {
            throw new FormatException("its header names another segment or volume");
        }
        if (footer.DataOffset != HeaderLength(volumeId.Length))
        {
            throw new FormatException($"its footer puts the data at {footer.DataOffset}, but its header is {HeaderLength(volumeId.Length)} bytes long");
        }
        for (int b = 0; b < footer.BlockCount; b++)
        {
            long start = footer.DataOffset + ((long)b * footer.BlockSize);
            int length = (int)Math.Min(footer.BlockSize, footer.DataLength - ((long)b * footer.BlockSize));
            uint crc = Crc32C.Compute(bytes.Slice((int)start, length));
            if (crc != footer.BlockCrc(b))
            {
                throw new FormatException(
                    $"block {b} (data bytes {(long)b * footer.BlockSize}..{((long)b * footer.BlockSize) + length}) fails its checksum (stored 0x{footer.BlockCrc(b):x8}, computed 0x{crc:x8})");
            }
        }
        return footer;
    }

    /// <summary>
    /// Parses the footer at the end of <paramref name="tail"/> (the last bytes of an object of <paramref name="objectLength"/>
    /// bytes, the whole object or a suffix holding at least its footer and trailer) and checks that it names segment
    /// <paramref name="nonce"/> of the volume whose id has the CRC-32C <paramref name="volumeIdCrc"/>. Throws
    /// <see cref="FormatException"/> saying what is wrong.
    /// </summary>
    public static SegmentFooter VerifyFooter(ReadOnlySpan<byte> tail, long objectLength, ulong nonce, uint volumeIdCrc)
    {
        if (tail.Length < TrailerLength)
        {
            throw new FormatException($"{tail.Length} bytes is too short for a segment");
        }
        int f = SegmentFooter.ReadFooterLength(tail[^TrailerLength..]);
        if (f + TrailerLength > tail.Length)
        {
            throw new FormatException($"footer length {f} is longer than the object");
        }
        SegmentFooter footer = SegmentFooter.Parse(tail[^(f + TrailerLength)..], objectLength);
        if (footer.Nonce != nonce)
        {
            throw new FormatException($"its footer names segment {footer.Nonce:x16}");
        }
        if (footer.VolumeIdCrc != volumeIdCrc)
        {
            throw new FormatException("its footer belongs to another volume");
        }
        return footer;
    }

    internal static void ValidateVolumeId(int length)
    {
        if (length is < 1 or > MaxVolumeIdLength)
        {
            throw new ArgumentException($"a volume id is 1 to {MaxVolumeIdLength} bytes, not {length}");
        }
    }

    internal static void ValidateBlockSize(int blockSize)
    {
        if (blockSize < 16 || blockSize > (16 << 20) || !int.IsPow2(blockSize))
        {
            throw new ArgumentException($"the segment block size must be a power of two from 16 bytes to 16 MiB, not {blockSize}");
        }
    }
}
