using ProxyFs.Core.HeadHunter;
using ProxyFs.ObjectStore;

namespace ProxyFs.Core.Volume.Maintenance;

/// <summary>
/// Serves tree records from whole metadata segment objects, each fetched once and checked as a whole
/// (<see cref="SegmentFormat.Validate"/>: header, trailer, segment checksum). For fsck, which reads every page anyway.
/// </summary>
internal sealed class WholeSegmentPageSource(IObjectStore store) : IPageSource
{
    private readonly Dictionary<ulong, byte[]> _segments = [];

    /// <summary>Metadata segments whose whole-object check failed, with why.</summary>
    public Dictionary<ulong, string> BadSegments { get; } = [];

    public byte[] ReadPage(PageAddress address)
    {
        if (!_segments.TryGetValue(address.SegmentNonce, out byte[]? segment))
        {
            segment = store.GetBytesAsync(VolumeLayout.MetadataSegments.KeyOf(address.SegmentNonce)).GetAwaiter().GetResult();
            _segments[address.SegmentNonce] = segment;
            try
            {
                SegmentFormat.Validate(segment, address.SegmentNonce);
            }
            catch (HeadHunterCorruptionException e)
            {
                BadSegments[address.SegmentNonce] = e.Message;
            }
        }
        if ((long)address.Offset + address.Length > segment.Length)
        {
            return segment.AsSpan((int)Math.Min(address.Offset, (uint)segment.Length)).ToArray();
        }
        return segment.AsSpan((int)address.Offset, (int)address.Length).ToArray();
    }

    public IReadOnlyList<byte[]> ReadPages(IReadOnlyList<PageAddress> addresses) => [.. addresses.Select(ReadPage)];
}
