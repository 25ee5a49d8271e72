using System.Buffers.Binary;
using System.Text;
using ProxyFs.Core.Checksums;

namespace ProxyFs.Core.Volume;

/// <summary>
/// The volume descriptor (object <c>volume</c>): what a volume is, fixed when it is formatted and never rewritten.
/// Layout (little-endian), docs/FORMAT.md "Volume descriptor":
/// <code>
///  0  8  magic "PXFSVOL1"
///  8  4  format version (1)
/// 12  4  encoded length, CRC included
/// 16 16  volume id
/// 32  8  creation time, nanoseconds since the Unix epoch
/// 40  4  largest data segment (MaxFlushSize)
/// 44  4  B+tree page size
/// 48  4  segment checksum block size
/// 52  2  label length L
/// 54  L  label, UTF-8
/// 54+L 4 CRC-32C of bytes [0, 54+L)
/// </code>
/// </summary>
public sealed record VolumeDescriptor(
    Guid VolumeId,
    long CreatedNanoseconds,
    int MaxSegmentSize,
    int PageSize,
    int SegmentBlockSize,
    string Label)
{
    public const int FormatVersion = 1;
    public const int MaxLabelBytes = 255;
    private const int FixedLength = 54;
    private static ReadOnlySpan<byte> Magic => "PXFSVOL1"u8;

    /// <summary>The 16 bytes of the volume id as stored in segment headers and records.</summary>
    public byte[] VolumeIdBytes => VolumeId.ToByteArray();

    public byte[] Encode()
    {
        byte[] label = Encoding.UTF8.GetBytes(Label);
        if (label.Length > MaxLabelBytes)
        {
            throw new ArgumentException($"a volume label is at most {MaxLabelBytes} bytes of UTF-8");
        }
        int length = FixedLength + label.Length + 4;
        byte[] b = new byte[length];
        Magic.CopyTo(b);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(8), FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(12), length);
        VolumeId.TryWriteBytes(b.AsSpan(16, 16));
        BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(32), CreatedNanoseconds);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(40), MaxSegmentSize);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(44), PageSize);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(48), SegmentBlockSize);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(52), (ushort)label.Length);
        label.CopyTo(b.AsSpan(FixedLength));
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(length - 4), Crc32C.Compute(b.AsSpan(0, length - 4)));
        return b;
    }

    /// <summary>Decodes and checks a descriptor; <paramref name="where"/> names it in errors.</summary>
    public static VolumeDescriptor Decode(ReadOnlySpan<byte> b, string where)
    {
        if (b.Length < FixedLength + 4 || !b[..8].SequenceEqual(Magic))
        {
            throw new VolumeFormatException($"{where} is not a proxyfs volume descriptor (bad magic or too short: {b.Length} bytes)");
        }
        int version = BinaryPrimitives.ReadInt32LittleEndian(b[8..]);
        if (version != FormatVersion)
        {
            throw new VolumeFormatException($"{where} has format version {version}; this proxyfs reads version {FormatVersion}");
        }
        int length = BinaryPrimitives.ReadInt32LittleEndian(b[12..]);
        if (length != b.Length)
        {
            throw new VolumeFormatException($"{where} says it is {length} bytes long but is {b.Length}");
        }
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(b[(length - 4)..]);
        uint actual = Crc32C.Compute(b[..(length - 4)]);
        if (stored != actual)
        {
            throw new VolumeFormatException($"{where} is damaged: CRC-32C {actual:x8}, stored {stored:x8}");
        }
        int labelLength = BinaryPrimitives.ReadUInt16LittleEndian(b[52..]);
        if (FixedLength + labelLength + 4 != length)
        {
            throw new VolumeFormatException($"{where}: label length {labelLength} does not fit the descriptor length {length}");
        }
        return new VolumeDescriptor(
            new Guid(b.Slice(16, 16)),
            BinaryPrimitives.ReadInt64LittleEndian(b[32..]),
            BinaryPrimitives.ReadInt32LittleEndian(b[40..]),
            BinaryPrimitives.ReadInt32LittleEndian(b[44..]),
            BinaryPrimitives.ReadInt32LittleEndian(b[48..]),
            Encoding.UTF8.GetString(b.Slice(FixedLength, labelLength)));
    }
}
