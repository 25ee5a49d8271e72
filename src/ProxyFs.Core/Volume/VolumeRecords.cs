using System.Buffers.Binary;
using ProxyFs.Core.FileSystem;

namespace ProxyFs.Core.Volume;

/// <summary>Flags of an inode record.</summary>
[Flags]
public enum InodeRecordFlags : byte
{
    None = 0,
    /// <summary>Made by O_TMPFILE and never linked: the one inode with no links that may be linked.</summary>
    Linkable = 1,
}

/// <summary>
/// The value of an 'I' record: everything stat(2) shows plus what the volume needs (docs/FORMAT.md).
/// <code>
///  0 1 version (1)      1 1 flags           2 4 mode          6 4 uid          10 4 gid
/// 14 4 nlink           18 4 rdev          22 8 size         30 12 atime (i64 s, u32 ns)
/// 42 12 mtime          54 12 ctime        66 8 generation   74 8 next directory cookie
/// 82 8 parent (a directory's; 0 otherwise)                    90 8 allocated 512-byte blocks (st_blocks)
/// 98 2 symlink target length L          100 L symlink target
/// </code>
/// All integers little-endian.
/// </summary>
public struct VolumeInodeRecord
{
    public const byte Version = 1;
    public const int FixedLength = 100;

    public InodeRecordFlags Flags;
    public uint Mode;
    public uint Uid;
    public uint Gid;
    public uint Nlink;
    public uint Rdev;
    public ulong Size;
    public Timespec Atime;
    public Timespec Mtime;
    public Timespec Ctime;
    public ulong Generation;
    public ulong NextCookie;
    public ulong Parent;
    public ulong Blocks;
    public byte[]? SymlinkTarget;

    public readonly int EncodedLength => FixedLength + (SymlinkTarget?.Length ?? 0);

    /// <summary>The stored form of an inode's record and the volume's own fields.</summary>
    public static VolumeInodeRecord From(in FileSystem.Inodes.InodeRecord record, ulong generation, ulong nextCookie, ulong blocks, byte[]? symlinkTarget) => new()
    {
        Mode = record.Mode,
        Uid = record.Uid,
        Gid = record.Gid,
        Nlink = record.Nlink,
        Rdev = record.Rdev,
        Size = (ulong)record.Size,
        Atime = record.Atime,
        Mtime = record.Mtime,
        Ctime = record.Ctime,
        Generation = generation,
        NextCookie = nextCookie,
        Parent = record.Parent,
        Blocks = blocks,
        SymlinkTarget = symlinkTarget,
    };

    /// <summary>The record fields the POSIX layer works with.</summary>
    public readonly FileSystem.Inodes.InodeRecord ToInodeRecord() => new()
    {
        Mode = Mode,
        Uid = Uid,
        Gid = Gid,
        Nlink = Nlink,
        Rdev = Rdev,
        Size = (long)Size,
        Atime = Atime,
        Mtime = Mtime,
        Ctime = Ctime,
        Parent = Parent,
    };

    public readonly int Encode(Span<byte> b)
    {
        b[0] = Version;
        b[1] = (byte)Flags;
        BinaryPrimitives.WriteUInt32LittleEndian(b[2..], Mode);
        BinaryPrimitives.WriteUInt32LittleEndian(b[6..], Uid);
        BinaryPrimitives.WriteUInt32LittleEndian(b[10..], Gid);
        BinaryPrimitives.WriteUInt32LittleEndian(b[14..], Nlink);
        BinaryPrimitives.WriteUInt32LittleEndian(b[18..], Rdev);
        BinaryPrimitives.WriteUInt64LittleEndian(b[22..], Size);
        WriteTime(b[30..], Atime);
        WriteTime(b[42..], Mtime);
        WriteTime(b[54..], Ctime);
        BinaryPrimitives.WriteUInt64LittleEndian(b[66..], Generation);
        BinaryPrimitives.WriteUInt64LittleEndian(b[74..], NextCookie);
        BinaryPrimitives.WriteUInt64LittleEndian(b[82..], Parent);
        BinaryPrimitives.WriteUInt64LittleEndian(b[90..], Blocks);
        int l = SymlinkTarget?.Length ?? 0;
        BinaryPrimitives.WriteUInt16LittleEndian(b[98..], checked((ushort)l));
        SymlinkTarget?.CopyTo(b[FixedLength..]);
        return FixedLength + l;
    }

    public static VolumeInodeRecord Decode(ReadOnlySpan<byte> b, ulong ino)
    {
        if (b.Length < FixedLength || b[0] != Version)
        {
            throw new VolumeFormatException($"inode {ino}: record of {b.Length} bytes, version {(b.Length > 0 ? b[0] : 0)}; expected version {Version}");
        }
        int l = BinaryPrimitives.ReadUInt16LittleEndian(b[98..]);
        if (b.Length != FixedLength + l)
        {
            throw new VolumeFormatException($"inode {ino}: record of {b.Length} bytes with a {l}-byte symlink target");
        }
        return new VolumeInodeRecord
        {
            Flags = (InodeRecordFlags)b[1],
            Mode = BinaryPrimitives.ReadUInt32LittleEndian(b[2..]),
            Uid = BinaryPrimitives.ReadUInt32LittleEndian(b[6..]),
            Gid = BinaryPrimitives.ReadUInt32LittleEndian(b[10..]),
            Nlink = BinaryPrimitives.ReadUInt32LittleEndian(b[14..]),
            Rdev = BinaryPrimitives.ReadUInt32LittleEndian(b[18..]),
            Size = BinaryPrimitives.ReadUInt64LittleEndian(b[22..]),
            Atime = ReadTime(b[30..]),
            Mtime = ReadTime(b[42..]),
            Ctime = ReadTime(b[54..]),
            Generation = BinaryPrimitives.ReadUInt64LittleEndian(b[66..]),
            NextCookie = BinaryPrimitives.ReadUInt64LittleEndian(b[74..]),
            Parent = BinaryPrimitives.ReadUInt64LittleEndian(b[82..]),
            Blocks = BinaryPrimitives.ReadUInt64LittleEndian(b[90..]),
            SymlinkTarget = l == 0 ? null : b.Slice(FixedLength, l).ToArray(),
        };
    }

    private static void WriteTime(Span<byte> b, Timespec t)
    {
        BinaryPrimitives.WriteInt64LittleEndian(b, t.Seconds);
        BinaryPrimitives.WriteUInt32LittleEndian(b[8..], t.Nanoseconds);
    }

    private static Timespec ReadTime(ReadOnlySpan<byte> b) =>
        new(BinaryPrimitives.ReadInt64LittleEndian(b), BinaryPrimitives.ReadUInt32LittleEndian(b[8..]));
}

/// <summary>
/// The values of directory entries. 'D' (by name): cookie u64, ino u64, type u8 (17 bytes). 'C' (by cookie): ino u64,
/// type u8, then the name (9 + name bytes). The type is the st_mode file type shifted down 12 bits (d_type).
/// </summary>
public static class DirentValues
{
    public const int ByNameLength = 17;

    public static void EncodeByName(Span<byte> b, ulong cookie, ulong ino, byte type)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(b, cookie);
        BinaryPrimitives.WriteUInt64LittleEndian(b[8..], ino);
        b[16] = type;
    }

    public static (ulong Cookie, ulong Ino, byte Type) DecodeByName(ReadOnlySpan<byte> b) =>
        b.Length == ByNameLength
            ? (BinaryPrimitives.ReadUInt64LittleEndian(b), BinaryPrimitives.ReadUInt64LittleEndian(b[8..]), b[16])
            : throw new VolumeFormatException($"directory entry value of {b.Length} bytes; expected {ByNameLength}");

    public static int EncodeByCookie(Span<byte> b, ulong ino, byte type, ReadOnlySpan<byte> name)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(b, ino);
        b[8] = type;
        name.CopyTo(b[9..]);
        return 9 + name.Length;
    }

    public static (ulong Ino, byte Type) DecodeByCookie(ReadOnlySpan<byte> b, out ReadOnlySpan<byte> name)
    {
        if (b.Length < 10)
        {
            throw new VolumeFormatException($"directory cookie value of {b.Length} bytes; expected at least 10");
        }
        name = b[9..];
        return (BinaryPrimitives.ReadUInt64LittleEndian(b), b[8]);
    }
}

/// <summary>What an extent's bytes are.</summary>
public enum ExtentKind : byte
{
    /// <summary>Bytes stored in a data segment.</summary>
    Data = 0,
    /// <summary>Allocated but never written (fallocate): reads as zeros, counts in st_blocks, is a hole for SEEK_DATA/SEEK_HOLE (as on tmpfs).</summary>
    Unwritten = 1,
    /// <summary>Written zeros kept as a length only (the zeroed edges of a punched hole): reads as zeros, is data for SEEK_DATA/SEEK_HOLE.</summary>
    Zeroed = 2,
}

/// <summary>
/// The value of an 'E' record (the key holds ino and the file offset where the extent starts):
/// kind u8, length u64, segment nonce u64, offset in the segment's data u64 (25 bytes; nonce and offset 0 unless Data).
/// </summary>
public readonly record struct ExtentValue(ExtentKind Kind, ulong Length, ulong Nonce, ulong SegmentOffset)
{
    public const int EncodedLength = 25;

    public void Encode(Span<byte> b)
    {
        b[0] = (byte)Kind;
        BinaryPrimitives.WriteUInt64LittleEndian(b[1..], Length);
        BinaryPrimitives.WriteUInt64LittleEndian(b[9..], Nonce);
        BinaryPrimitives.WriteUInt64LittleEndian(b[17..], SegmentOffset);
    }

    public static ExtentValue Decode(ReadOnlySpan<byte> b) =>
        b.Length == EncodedLength && b[0] <= (byte)ExtentKind.Zeroed
            ? new ExtentValue((ExtentKind)b[0], BinaryPrimitives.ReadUInt64LittleEndian(b[1..]), BinaryPrimitives.ReadUInt64LittleEndian(b[9..]), BinaryPrimitives.ReadUInt64LittleEndian(b[17..]))
            : throw new VolumeFormatException($"extent value of {b.Length} bytes, kind {(b.Length > 0 ? b[0] : 0)}");
}

/// <summary>The value of an 'S' record: live bytes u64 (still referenced by some extent), data bytes u64 (its size).</summary>
public readonly record struct SegmentUsage(ulong LiveBytes, ulong DataBytes)
{
    public const int EncodedLength = 16;

    public void Encode(Span<byte> b)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(b, LiveBytes);
        BinaryPrimitives.WriteUInt64LittleEndian(b[8..], DataBytes);
    }

    public static SegmentUsage Decode(ReadOnlySpan<byte> b) =>
        b.Length == EncodedLength
            ? new SegmentUsage(BinaryPrimitives.ReadUInt64LittleEndian(b), BinaryPrimitives.ReadUInt64LittleEndian(b[8..]))
            : throw new VolumeFormatException($"segment usage value of {b.Length} bytes; expected {EncodedLength}");
}
