namespace ProxyFs.Core.LogSegments;

/// <summary>
/// Where appended bytes are: <paramref name="Length"/> bytes at <paramref name="Offset"/> in the data area of segment
/// <paramref name="Nonce"/> (the offset counts from the first data byte, not from the start of the object). The volume
/// records it as an extent.
/// </summary>
public readonly record struct SegmentLocation(ulong Nonce, long Offset, int Length)
{
    /// <summary>The offset just past the bytes.</summary>
    public long End => Offset + Length;

    /// <inheritdoc />
    public override string ToString() => $"segment {Nonce:x16} [{Offset}, {End})";
}
