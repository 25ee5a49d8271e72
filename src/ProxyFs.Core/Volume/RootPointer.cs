using System.Buffers.Binary;
using ProxyFs.Core.Checksums;
using ProxyFs.Core.HeadHunter;

namespace ProxyFs.Core.Volume;

/// <summary>One earlier checkpoint a volume keeps so it can be mounted if the newest is damaged.</summary>
public readonly record struct CheckpointGeneration(ulong Generation, long CreatedNanoseconds, PageAddress TreeRoot);

/// <summary>
/// The root pointer (object <c>root</c>): the newest checkpoint of a volume. It is the one object replaced in
/// place, always with a conditional write (If-Match the ETag last read or written), which is also what fences a
/// second writer. Layout (little-endian), docs/FORMAT.md "Root pointer":
/// <code>
///  0  8  magic "PXFSROOT"
///  8  4  format version (1)
/// 12  4  encoded length, CRC included
/// 16 16  volume id
/// 32  8  generation (1 for the checkpoint written by format, +1 each checkpoint)
/// 40  8  creation time of this checkpoint, ns since the Unix epoch
/// 48 16  B+tree root: segment nonce u64, offset u32, length u32 (length 0: empty tree)
/// 64  8  next inode number
/// 72  8  nonces reserved up to (exclusive): no nonce below it may be used again
/// 80  8  replay log epoch
/// 88  8  flags: bit 0 = written by a clean unmount
/// 96  2  H, the number of earlier generations kept
/// 98  32×H  earlier generations, newest first: generation u64, created i64, root (16 bytes as above)
/// 98+32H 4  CRC-32C of everything before it
/// </code>
/// </summary>
public sealed record RootPointer(
    Guid VolumeId,
    ulong Generation,
    long CreatedNanoseconds,
    PageAddress TreeRoot,
    ulong NextInode,
    ulong NoncesReservedUpTo,
    ulong ReplayLogEpoch,
    bool CleanUnmount,
    IReadOnlyList<CheckpointGeneration> History)
{
    public const int FormatVersion = 1;
    private const int FixedLength = 98;
    private const int GenerationLength = 32;
    private static ReadOnlySpan<byte> Magic => "PXFSROOT"u8;

    public byte[] Encode()
    {
        int length = FixedLength + (History.Count * GenerationLength) + 4;
        byte[] b = new byte[length];
        Span<byte> s = b;
        Magic.CopyTo(s);
        BinaryPrimitives.WriteInt32LittleEndian(s[8..], FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(s[12..], length);
        VolumeId.TryWriteBytes(s.Slice(16, 16));
        BinaryPrimitives.WriteUInt64LittleEndian(s[32..], Generation);
        BinaryPrimitives.WriteInt64LittleEndian(s[40..], CreatedNanoseconds);
        WriteAddress(s[48..], TreeRoot);
        BinaryPrimitives.WriteUInt64LittleEndian(s[64..], NextInode);
        BinaryPrimitives.WriteUInt64LittleEndian(s[72..], NoncesReservedUpTo);
        BinaryPrimitives.WriteUInt64LittleEndian(s[80..], ReplayLogEpoch);
        BinaryPrimitives.WriteUInt64LittleEndian(s[88..], CleanUnmount ? 1UL : 0UL);
        BinaryPrimitives.WriteUInt16LittleEndian(s[96..], checked((ushort)History.Count));
        int at = FixedLength;
        foreach (CheckpointGeneration g in History)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(s[at..], g.Generation);
            BinaryPrimitives.WriteInt64LittleEndian(s[(at + 8)..], g.CreatedNanoseconds);
            WriteAddress(s[(at + 16)..], g.TreeRoot);
            at += GenerationLength;
        }
        BinaryPrimitives.WriteUInt32LittleEndian(s[at..], Crc32C.Compute(s[..at]));
        return b;
    }

    public static RootPointer Decode(ReadOnlySpan<byte> b, string where)
    {
        if (b.Length < FixedLength + 4 || !b[..8].SequenceEqual(Magic))
        {
            throw new VolumeFormatException($"{where} is not a proxyfs root pointer (bad magic or too short: {b.Length} bytes)");
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
        int count = BinaryPrimitives.ReadUInt16LittleEndian(b[96..]);
        if (FixedLength + (count * GenerationLength) + 4 != length)
        {
            throw new VolumeFormatException($"{where}: {count} earlier generations do not fit its length {length}");
        }
        var history = new CheckpointGeneration[count];
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> g = b.Slice(FixedLength + (i * GenerationLength), GenerationLength);
            history[i] = new CheckpointGeneration(
                BinaryPrimitives.ReadUInt64LittleEndian(g),
                BinaryPrimitives.ReadInt64LittleEndian(g[8..]),
                ReadAddress(g[16..]));
        }
        return new RootPointer(
            new Guid(b.Slice(16, 16)),
            BinaryPrimitives.ReadUInt64LittleEndian(b[32..]),
            BinaryPrimitives.ReadInt64LittleEndian(b[40..]),
            ReadAddress(b[48..]),
            BinaryPrimitives.ReadUInt64LittleEndian(b[64..]),
            BinaryPrimitives.ReadUInt64LittleEndian(b[72..]),
            BinaryPrimitives.ReadUInt64LittleEndian(b[80..]),
            (BinaryPrimitives.ReadUInt64LittleEndian(b[88..]) & 1) != 0,
            history);
    }

    /// <summary>
    /// The next root pointer: generation + 1 with a new tree root, this one pushed onto the history (newest first,
    /// at most <paramref name="keep"/> kept).
    /// </summary>
    public RootPointer Next(PageAddress treeRoot, long createdNanoseconds, ulong nextInode, ulong noncesReservedUpTo, bool cleanUnmount, int keep)
    {
        var history = new List<CheckpointGeneration>(Math.Min(keep, History.Count + 1));
        if (keep > 0)
        {
            history.Add(new CheckpointGeneration(Generation, CreatedNanoseconds, TreeRoot));
            history.AddRange(History.Take(keep - 1));
        }
        return this with
        {
            Generation = Generation + 1,
            CreatedNanoseconds = createdNanoseconds,
            TreeRoot = treeRoot,
            NextInode = nextInode,
            NoncesReservedUpTo = noncesReservedUpTo,
            CleanUnmount = cleanUnmount,
            History = history,
        };
    }

    private static void WriteAddress(Span<byte> s, PageAddress a)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(s, a.SegmentNonce);
        BinaryPrimitives.WriteUInt32LittleEndian(s[8..], a.Offset);
        BinaryPrimitives.WriteUInt32LittleEndian(s[12..], a.Length);
    }

    private static PageAddress ReadAddress(ReadOnlySpan<byte> s) =>
        new(BinaryPrimitives.ReadUInt64LittleEndian(s), BinaryPrimitives.ReadUInt32LittleEndian(s[8..]), BinaryPrimitives.ReadUInt32LittleEndian(s[12..]));
}
