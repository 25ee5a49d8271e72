using System.Buffers.Binary;
using ProxyFs.Core.Checksums;

namespace ProxyFs.Core.LogSegments;

/// <summary>
/// The footer of one segment: where its data is, how long, and one CRC-32C per block of <see cref="BlockSize"/> data
/// bytes. A reader fetches it once per segment (the writer hands it over when the upload completes) and checks every
/// data block it reads from the store against it.
/// </summary>
public sealed class SegmentFooter
{
    private readonly uint[] _blockCrcs;

    /// <summary>A footer; <paramref name="blockCrcs"/> is not copied.</summary>
    public SegmentFooter(ulong nonce, int dataOffset, long dataLength, int blockSize, uint volumeIdCrc, uint[] blockCrcs)
    {
        ArgumentNullException.ThrowIfNull(blockCrcs);
        SegmentFormat.ValidateBlockSize(blockSize);
        ArgumentOutOfRangeException.ThrowIfNegative(dataLength);
        if (blockCrcs.Length != SegmentFormat.BlockCount(dataLength, blockSize))
        {
            throw new ArgumentException($"{dataLength} data bytes in blocks of {blockSize} need {SegmentFormat.BlockCount(dataLength, blockSize)} CRCs, not {blockCrcs.Length}", nameof(blockCrcs));
        }
        Nonce = nonce;
        DataOffset = dataOffset;
        DataLength = dataLength;
        BlockSize = blockSize;
        VolumeIdCrc = volumeIdCrc;
        _blockCrcs = blockCrcs;
    }

    /// <summary>The segment's nonce.</summary>
    public ulong Nonce { get; }

    /// <summary>Offset in the object of the first data byte (the header length H).</summary>
    public int DataOffset { get; }

    /// <summary>The number of data bytes D.</summary>
    public long DataLength { get; }

    /// <summary>The CRC block size B.</summary>
    public int BlockSize { get; }

    /// <summary>CRC-32C of the volume id, to tell a segment of another volume.</summary>
    public uint VolumeIdCrc { get; }

    /// <summary>The number of blocks N.</summary>
    public int BlockCount => _blockCrcs.Length;

    /// <summary>The footer length F (without the trailer).</summary>
    public int EncodedLength => SegmentFormat.FooterFixedLength + (4 * _blockCrcs.Length);

    /// <summary>The whole object's length: H + D + F + 16.</summary>
    public long ObjectLength => DataOffset + DataLength + EncodedLength + SegmentFormat.TrailerLength;

    /// <summary>The CRC-32C of data block <paramref name="block"/>.</summary>
    public uint BlockCrc(int block) => _blockCrcs[block];

    /// <summary>Writes the footer and the trailer (F + 16 bytes) into <paramref name="destination"/>.</summary>
    public void WriteTo(Span<byte> destination)
    {
        int f = EncodedLength;
        if (destination.Length != f + SegmentFormat.TrailerLength)
        {
            throw new ArgumentException($"the footer and trailer are {f + SegmentFormat.TrailerLength} bytes, not {destination.Length}", nameof(destination));
        }
        SegmentFormat.FooterMagic.CopyTo(destination);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[8..], SegmentFormat.Version);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[10..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], (uint)BlockSize);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], Nonce);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[24..], (uint)DataOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[28..], VolumeIdCrc);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[32..], (ulong)DataLength);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[40..], (uint)_blockCrcs.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[44..], 0);
        for (int i = 0; i < _blockCrcs.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(destination[(SegmentFormat.FooterFixedLength + (4 * i))..], _blockCrcs[i]);
        }
        var trailer = destination[f..];
        BinaryPrimitives.WriteUInt32LittleEndian(trailer, (uint)f);
        BinaryPrimitives.WriteUInt32LittleEndian(trailer[4..], Crc32C.Compute(destination[..f]));
        SegmentFormat.TrailerMagic.CopyTo(trailer[8..]);
    }

    /// <summary>
    /// Reads the footer length F from the trailer (the last 16 bytes of the object), checking its magic. Throws
    /// <see cref="FormatException"/> when the bytes are not a segment trailer.
    /// </summary>
    public static int ReadFooterLength(ReadOnlySpan<byte> trailer)
    {
        if (trailer.Length != SegmentFormat.TrailerLength || !trailer[8..].SequenceEqual(SegmentFormat.TrailerMagic))
        {
            throw new FormatException("the object does not end with a segment trailer (the magic PFSSEGTR is missing)");
        }
        uint f = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        if (f < SegmentFormat.FooterFixedLength || (f - SegmentFormat.FooterFixedLength) % 4 != 0 || f > (1 << 28))
        {
            throw new FormatException($"the trailer gives an impossible footer length {f}");
        }
        return (int)f;
    }

    /// <summary>
    /// Parses the footer (<paramref name="footerAndTrailer"/>: F + 16 bytes, the end of the object) of a segment whose
    /// object is <paramref name="objectLength"/> bytes, checking its CRC, magic, version and that its lengths add up to
    /// the object's. Throws <see cref="FormatException"/> saying what is wrong.
    /// </summary>
    public static SegmentFooter Parse(ReadOnlySpan<byte> footerAndTrailer, long objectLength)
    {
        int f = ReadFooterLength(footerAndTrailer[^SegmentFormat.TrailerLength..]);
        if (footerAndTrailer.Length != f + SegmentFormat.TrailerLength)
        {
            throw new ArgumentException($"expected the last {f + SegmentFormat.TrailerLength} bytes of the object, got {footerAndTrailer.Length}", nameof(footerAndTrailer));
        }
        var footer = footerAndTrailer[..f];
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(footerAndTrailer[(f + 4)..]);
        uint actual = Crc32C.Compute(footer);
        if (stored != actual)
        {
            throw new FormatException($"footer CRC-32C mismatch: stored 0x{stored:x8}, computed 0x{actual:x8}");
        }
        if (!footer[..8].SequenceEqual(SegmentFormat.FooterMagic))
        {
            throw new FormatException("the footer magic PFSSEGFT is missing");
        }
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(footer[8..]);
        if (version != SegmentFormat.Version)
        {
            throw new FormatException($"segment format version {version} is not supported (this build reads version {SegmentFormat.Version})");
        }
        uint blockSize = BinaryPrimitives.ReadUInt32LittleEndian(footer[12..]);
        ulong nonce = BinaryPrimitives.ReadUInt64LittleEndian(footer[16..]);
        uint dataOffset = BinaryPrimitives.ReadUInt32LittleEndian(footer[24..]);
        uint volumeIdCrc = BinaryPrimitives.ReadUInt32LittleEndian(footer[28..]);
        ulong dataLength = BinaryPrimitives.ReadUInt64LittleEndian(footer[32..]);
        uint blocks = BinaryPrimitives.ReadUInt32LittleEndian(footer[40..]);
        if (blockSize < 16 || blockSize > (16 << 20) || !uint.IsPow2(blockSize))
        {
            throw new FormatException($"impossible block size {blockSize}");
        }
        if (dataLength > long.MaxValue / 2 || blocks != (ulong)SegmentFormat.BlockCount((long)dataLength, (int)blockSize) || f != SegmentFormat.FooterFixedLength + (4 * (long)blocks))
        {
            throw new FormatException($"the footer's data length {dataLength}, block size {blockSize}, block count {blocks} and length {f} do not agree");
        }
        long expected = dataOffset + (long)dataLength + f + SegmentFormat.TrailerLength;
        if (dataOffset < SegmentFormat.HeaderFixedLength + 1 || expected != objectLength)
        {
            throw new FormatException($"the footer describes an object of {expected} bytes (header {dataOffset}, data {dataLength}, footer {f}, trailer 16) but the object has {objectLength}");
        }
        var crcs = new uint[blocks];
        for (int i = 0; i < crcs.Length; i++)
        {
            crcs[i] = BinaryPrimitives.ReadUInt32LittleEndian(footer[(SegmentFormat.FooterFixedLength + (4 * i))..]);
        }
        return new SegmentFooter(nonce, (int)dataOffset, (long)dataLength, (int)blockSize, volumeIdCrc, crcs);
    }
}
