using ProxyFs.Core.LogSegments;

namespace ProxyFs.Core.Volume;

/// <summary>
/// The objects of a volume under its store's prefix (docs/FORMAT.md, "Volume"):
/// <c>volume</c> (the descriptor, written once), <c>root</c> (the root pointer, the one object replaced in place,
/// always with a conditional write), <c>segments/xx/nonce</c> (file data) and <c>meta/xx/nonce</c> (B+tree pages of
/// one checkpoint each).
/// </summary>
public static class VolumeLayout
{
    public const string DescriptorKey = "volume";
    public const string RootPointerKey = "root";

    public static SegmentKeys DataSegments { get; } = new("segments/");

    public static SegmentKeys MetadataSegments { get; } = new("meta/");
}

/// <summary>A stored object of a volume is not what it should be: wrong magic, version, volume, length or checksum.</summary>
public sealed class VolumeFormatException(string message) : IOException(message);
