namespace ProxyFs.Core.HeadHunter;

/// <summary>
/// Where a stored page or blob lives: a byte range of the metadata segment object named by
/// <paramref name="SegmentNonce"/>. Every record is written once and never changes, so an address names
/// immutable bytes.
/// </summary>
/// <param name="SegmentNonce">The nonce naming the metadata segment object (never reused by a volume).</param>
/// <param name="Offset">Offset of the record from the start of the segment object.</param>
/// <param name="Length">Length of the record in bytes, header included.</param>
public readonly record struct PageAddress(ulong SegmentNonce, uint Offset, uint Length)
{
    /// <summary>Encoded size of an address inside a page: nonce u64, offset u32, length u32, little-endian.</summary>
    public const int EncodedLength = 16;

    /// <summary>The absent address (length 0): an empty tree that has never been checkpointed has no root.</summary>
    public static PageAddress None => default;

    /// <summary>True for <see cref="None"/>.</summary>
    public bool IsNone => Length == 0;

    public override string ToString() => $"segment {SegmentNonce:x16} @{Offset}+{Length}";
}
