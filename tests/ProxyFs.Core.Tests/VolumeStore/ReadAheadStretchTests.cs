using ProxyFs.Core.Volume;
using ProxyFs.Core.Volume.Inodes;
using Extent = ProxyFs.Core.Volume.Inodes.VolumeFileData.Extent;

namespace ProxyFs.Core.Tests.VolumeStore;

/// <summary>A read-ahead range that ends inside a segment goes on to where the file stops reading that segment, when that is near.</summary>
public sealed class ReadAheadStretchTests
{
    private const long M = 1 << 20;

    private static Extent Data(long start, long length, ulong nonce, long segmentOffset) =>
        new(start, new ExtentValue(ExtentKind.Data, (ulong)length, nonce, (ulong)segmentOffset));

    [Fact]
    public void A_range_ending_inside_a_segment_goes_on_to_the_segment_the_file_reads_next()
    {
        List<Extent> extents = [Data(0, 10 * M, 0xA, 0), Data(10 * M, 10 * M, 0xB, 0), Data(20 * M, 10 * M, 0xC, 0)];
        Assert.Equal(20 * M, VolumeFileData.SegmentRunEnd(extents, 12 * M, 24 * M));
        Assert.Equal(20 * M, VolumeFileData.SegmentRunEnd(extents, 20 * M, 30 * M)); // ends on the boundary already
    }

    [Fact]
    public void Adjacent_extents_of_one_segment_are_one_run_and_the_run_ends_at_a_gap_in_the_segment()
    {
        List<Extent> extents =
        [
            Data(10 * M, M, 0xB, 0), Data(11 * M, M, 0xB, M), Data(12 * M, M, 0xB, 2 * M), // written in pieces, one segment
            Data(13 * M, M, 0xB, 5 * M), // the same segment, further on (another file's bytes between)
        ];
        Assert.Equal(13 * M, VolumeFileData.SegmentRunEnd(extents, (11 * M) + 5, 20 * M));
    }

    [Fact]
    public void A_segment_the_file_reads_past_the_limit_or_a_hole_is_not_stretched()
    {
        List<Extent> big = [Data(0, 64 * M, 0xA, 0)];
        Assert.Equal(8 * M, VolumeFileData.SegmentRunEnd(big, 8 * M, 24 * M)); // 56 MiB more of it: the next read-ahead's
        List<Extent> hole = [Data(0, 4 * M, 0xA, 0), new(6 * M, new ExtentValue(ExtentKind.Unwritten, 2 * (ulong)M, 0, 0))];
        Assert.Equal(5 * M, VolumeFileData.SegmentRunEnd(hole, 5 * M, 10 * M)); // no data before the end
        Assert.Equal(4 * M, VolumeFileData.SegmentRunEnd(hole, 3 * M, 10 * M));
    }
}
