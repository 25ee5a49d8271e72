using System.Buffers.Binary;

namespace ProxyFs.Core.Volume;

/// <summary>
/// Keys of the volume's records in its HeadHunter tree (docs/FORMAT.md "Volume records"). One byte of record kind,
/// then big-endian integers so that byte order is numeric order, then raw names:
/// <code>
/// 'I' ino                 inode record
/// 'D' dir name            directory entry by name   → cookie, ino, type
/// 'C' dir cookie          directory entry by cookie → ino, type, name   (readdir order)
/// 'E' ino offset          extent starting at a file offset
/// 'X' ino name            extended attribute
/// 'S' nonce               live bytes of a data segment
/// 'O' ino                 an inode with no links that was still open (freed at the next mount)
/// 'P' nonce               a data segment no extent references, waiting to be deleted from the store
/// </code>
/// Builders write into a caller's span (stackalloc) and return the key's length: no allocation.
/// </summary>
public static class VolumeKeys
{
    public const byte Inode = (byte)'I';
    public const byte DirentByName = (byte)'D';
    public const byte DirentByCookie = (byte)'C';
    public const byte Extent = (byte)'E';
    public const byte Xattr = (byte)'X';
    public const byte SegmentUsage = (byte)'S';
    public const byte Orphan = (byte)'O';
    public const byte PendingDeletion = (byte)'P';

    /// <summary>Longest key: kind, dir, a 255-byte name.</summary>
    public const int MaxLength = 1 + 8 + 255;

    public static int OfInode(Span<byte> key, ulong ino) => KindAndNumber(key, Inode, ino);

    public static int OfOrphan(Span<byte> key, ulong ino) => KindAndNumber(key, Orphan, ino);

    public static int OfSegmentUsage(Span<byte> key, ulong nonce) => KindAndNumber(key, SegmentUsage, nonce);

    public static int OfPendingDeletion(Span<byte> key, ulong nonce) => KindAndNumber(key, PendingDeletion, nonce);

    public static int OfDirentByName(Span<byte> key, ulong dir, ReadOnlySpan<byte> name) => KindNumberName(key, DirentByName, dir, name);

    public static int OfXattr(Span<byte> key, ulong ino, ReadOnlySpan<byte> name) => KindNumberName(key, Xattr, ino, name);

    public static int OfDirentByCookie(Span<byte> key, ulong dir, ulong cookie) => KindAndTwoNumbers(key, DirentByCookie, dir, cookie);

    public static int OfExtent(Span<byte> key, ulong ino, ulong offset) => KindAndTwoNumbers(key, Extent, ino, offset);

    /// <summary>The prefix shared by every record of one kind about one inode or directory ('E' ino, 'X' ino, 'D'/'C' dir).</summary>
    public static int PrefixOf(Span<byte> key, byte kind, ulong number) => KindAndNumber(key, kind, number);

    /// <summary>The second number of a two-number key ('C' cookie, 'E' offset).</summary>
    public static ulong SecondNumber(ReadOnlySpan<byte> key) => BinaryPrimitives.ReadUInt64BigEndian(key[9..]);

    /// <summary>The first number of a key (the ino, dir or nonce).</summary>
    public static ulong FirstNumber(ReadOnlySpan<byte> key) => BinaryPrimitives.ReadUInt64BigEndian(key[1..]);

    /// <summary>The name of a 'D' or 'X' key.</summary>
    public static ReadOnlySpan<byte> NameOf(ReadOnlySpan<byte> key) => key[9..];

    private static int KindAndNumber(Span<byte> key, byte kind, ulong n)
    {
        key[0] = kind;
        BinaryPrimitives.WriteUInt64BigEndian(key[1..], n);
        return 9;
    }

    private static int KindAndTwoNumbers(Span<byte> key, byte kind, ulong a, ulong b)
    {
        key[0] = kind;
        BinaryPrimitives.WriteUInt64BigEndian(key[1..], a);
        BinaryPrimitives.WriteUInt64BigEndian(key[9..], b);
        return 17;
    }

    private static int KindNumberName(Span<byte> key, byte kind, ulong n, ReadOnlySpan<byte> name)
    {
        key[0] = kind;
        BinaryPrimitives.WriteUInt64BigEndian(key[1..], n);
        name.CopyTo(key[9..]);
        return 9 + name.Length;
    }
}
