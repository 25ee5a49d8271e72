using System.Buffers.Binary;
using ProxyFs.Core.Checksums;

namespace ProxyFs.Core.HeadHunter;

/// <summary>
/// The stored record format (docs/FORMAT.md, "HeadHunter records"): a 32-byte header shared by pages and blobs,
/// then for pages a slot array of 16-bit entry offsets and the entries. All integers little-endian.
/// </summary>
internal static class PageFormat
{
    public const byte Version = 1;
    public const int HeaderLength = 32;
    public const int SlotLength = 2;

    /// <summary>Bytes of a leaf entry besides key and value: slot, key-length varint (≤2), kind, value-length varint (≤4).</summary>
    public const int MaxLeafEntryOverhead = SlotLength + 2 + 1 + 4;

    public const byte ValueInline = 0;
    public const byte ValueBlob = 1;

    // Header field offsets.
    public const int MagicOffset = 0;
    public const int CrcOffset = 4;
    public const int LengthOffset = 8;
    public const int NonceOffset = 12;
    public const int SelfOffsetOffset = 20;
    public const int VersionOffset = 24;
    public const int KindOffset = 25;
    public const int LevelOffset = 26;
    public const int CountOffset = 28;

    /// <summary>"HHPG" read as a little-endian u32.</summary>
    public const uint PageMagic = 0x47504848;

    /// <summary>"HHBL" read as a little-endian u32.</summary>
    public const uint BlobMagic = 0x4C424848;

    public static int LeafEntryLength(int keyLength, int inlineValueLength) =>
        Varint.Length(keyLength) + keyLength + 1 + Varint.Length(inlineValueLength) + inlineValueLength;

    public static int LeafBlobEntryLength(int keyLength) =>
        Varint.Length(keyLength) + keyLength + 1 + PageAddress.EncodedLength;

    public static int InternalEntryLength(int keyLength) =>
        Varint.Length(keyLength) + keyLength + PageAddress.EncodedLength;

    public static void WriteHeader(Span<byte> record, RecordKind kind, int length, PageAddress self, int level, int count)
    {
        record[..HeaderLength].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(record, kind == RecordKind.Blob ? BlobMagic : PageMagic);
        BinaryPrimitives.WriteUInt32LittleEndian(record[LengthOffset..], (uint)length);
        BinaryPrimitives.WriteUInt64LittleEndian(record[NonceOffset..], self.SegmentNonce);
        BinaryPrimitives.WriteUInt32LittleEndian(record[SelfOffsetOffset..], self.Offset);
        record[VersionOffset] = Version;
        record[KindOffset] = (byte)kind;
        record[LevelOffset] = (byte)level;
        BinaryPrimitives.WriteUInt16LittleEndian(record[CountOffset..], (ushort)count);
    }

    /// <summary>Writes the CRC-32C of bytes [8, length) into bytes [4, 8).</summary>
    public static void Seal(Span<byte> record) =>
        BinaryPrimitives.WriteUInt32LittleEndian(record[CrcOffset..], Crc32C.Compute(record[LengthOffset..]));

    public static void WriteAddress(Span<byte> destination, PageAddress address)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, address.SegmentNonce);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], address.Offset);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], address.Length);
    }

    public static PageAddress ReadAddress(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(source),
        BinaryPrimitives.ReadUInt32LittleEndian(source[8..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[12..]));

    public static RecordKind KindOf(byte[] record) => (RecordKind)record[KindOffset];

    public static int LevelOf(byte[] record) => record[LevelOffset];

    /// <summary>True when <see cref="Validate"/> would accept the record.</summary>
    public static bool IsValid(byte[] record, PageAddress address)
    {
        try
        {
            Validate(record, address);
            return true;
        }
        catch (HeadHunterCorruptionException)
        {
            return false;
        }
    }

    /// <summary>
    /// Checks everything a reader relies on: length, magic, checksum, version, that the record says it lives at
    /// <paramref name="address"/>, and for pages that every slot and entry lies inside the page with keys in
    /// strictly increasing order. Throws <see cref="HeadHunterCorruptionException"/> naming the address.
    /// </summary>
    public static void Validate(byte[] record, PageAddress address)
    {
        if (record.Length != address.Length)
        {
            throw new HeadHunterCorruptionException(address, $"read {record.Length} bytes, expected {address.Length} (truncated or misdirected read)");
        }
        if (record.Length < HeaderLength)
        {
            throw new HeadHunterCorruptionException(address, $"record of {record.Length} bytes is shorter than its {HeaderLength}-byte header");
        }
        var span = record.AsSpan();
        var magic = BinaryPrimitives.ReadUInt32LittleEndian(span);
        if (magic != PageMagic && magic != BlobMagic)
        {
            throw new HeadHunterCorruptionException(address, $"bad magic 0x{magic:x8}");
        }
        var storedLength = BinaryPrimitives.ReadUInt32LittleEndian(span[LengthOffset..]);
        if (storedLength != address.Length)
        {
            throw new HeadHunterCorruptionException(address, $"header length {storedLength} differs from the address length");
        }
        var storedCrc = BinaryPrimitives.ReadUInt32LittleEndian(span[CrcOffset..]);
        var actualCrc = Crc32C.Compute(span[LengthOffset..]);
        if (storedCrc != actualCrc)
        {
            throw new HeadHunterCorruptionException(address, $"CRC-32C mismatch (stored 0x{storedCrc:x8}, computed 0x{actualCrc:x8})");
        }
        if (span[VersionOffset] != Version)
        {
            throw new HeadHunterCorruptionException(address, $"unsupported record format version {span[VersionOffset]} (this build reads {Version})");
        }
        var nonce = BinaryPrimitives.ReadUInt64LittleEndian(span[NonceOffset..]);
        var offset = BinaryPrimitives.ReadUInt32LittleEndian(span[SelfOffsetOffset..]);
        if (nonce != address.SegmentNonce || offset != address.Offset)
        {
            throw new HeadHunterCorruptionException(address, $"record says it lives in segment {nonce:x16} @{offset} (misdirected read)");
        }
        var kind = (RecordKind)span[KindOffset];
        if (magic == BlobMagic)
        {
            if (kind != RecordKind.Blob)
            {
                throw new HeadHunterCorruptionException(address, $"blob magic with kind {(byte)kind}");
            }
            return;
        }
        if (kind is not (RecordKind.Leaf or RecordKind.Internal))
        {
            throw new HeadHunterCorruptionException(address, $"page magic with kind {(byte)kind}");
        }
        ValidatePageBody(span, address, kind);
    }

    private static void ValidatePageBody(ReadOnlySpan<byte> page, PageAddress address, RecordKind kind)
    {
        var level = page[LevelOffset];
        if ((kind == RecordKind.Leaf) != (level == 0))
        {
            throw new HeadHunterCorruptionException(address, $"{kind} page at level {level}");
        }
        int count = BinaryPrimitives.ReadUInt16LittleEndian(page[CountOffset..]);
        var entriesStart = HeaderLength + (count * SlotLength);
        if (entriesStart > page.Length || (kind == RecordKind.Internal && count == 0))
        {
            throw new HeadHunterCorruptionException(address, $"entry count {count} does not fit a {kind} page of {page.Length} bytes");
        }
        ReadOnlySpan<byte> previousKey = default;
        for (var i = 0; i < count; i++)
        {
            int entry = BinaryPrimitives.ReadUInt16LittleEndian(page[(HeaderLength + (i * SlotLength))..]);
            if (entry < entriesStart || entry >= page.Length)
            {
                throw new HeadHunterCorruptionException(address, $"slot {i} points at {entry}, outside the entry area");
            }
            var rest = page[entry..];
            if (!Varint.TryRead(rest, out var keyLength, out var used) || keyLength > rest.Length - used)
            {
                throw new HeadHunterCorruptionException(address, $"entry {i}: key length runs past the page");
            }
            var key = rest.Slice(used, keyLength);
            rest = rest[(used + keyLength)..];
            var keyRequired = kind == RecordKind.Leaf || i > 0;
            if (keyRequired && (keyLength == 0 || keyLength > HeadHunterTree.MaxKeyLength))
            {
                throw new HeadHunterCorruptionException(address, $"entry {i}: key length {keyLength}");
            }
            if (!keyRequired && keyLength != 0)
            {
                throw new HeadHunterCorruptionException(address, "internal entry 0 carries a key");
            }
            if (keyRequired && previousKey.Length > 0 && previousKey.SequenceCompareTo(key) >= 0)
            {
                throw new HeadHunterCorruptionException(address, $"entry {i}: keys out of order");
            }
            if (keyRequired)
            {
                previousKey = key;
            }
            var payloadOk = kind == RecordKind.Internal
                ? rest.Length >= PageAddress.EncodedLength && ReadAddress(rest).Length >= HeaderLength
                : ValidLeafValue(rest);
            if (!payloadOk)
            {
                throw new HeadHunterCorruptionException(address, $"entry {i}: value or child address runs past the page or is malformed");
            }
        }
    }

    private static bool ValidLeafValue(ReadOnlySpan<byte> rest)
    {
        if (rest.IsEmpty)
        {
            return false;
        }
        var valueKind = rest[0];
        rest = rest[1..];
        if (valueKind == ValueBlob)
        {
            return rest.Length >= PageAddress.EncodedLength && ReadAddress(rest).Length >= HeaderLength;
        }
        return valueKind == ValueInline && Varint.TryRead(rest, out var valueLength, out var used) && valueLength <= rest.Length - used;
    }
}
