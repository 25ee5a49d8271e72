using System.Buffers;
using ProxyFs.Core.LogSegments;

namespace ProxyFs.Core.Tests.LogSegments;

public class SegmentCrcTests
{
    [Fact]
    public void Check_value_of_123456789_is_E3069283()
    {
        Assert.Equal(0xE3069283u, SegmentCrc.Compute("123456789"u8));
        Assert.Equal(0xE3069283u, SegmentCrc.Finish(SegmentCrc.UpdateSoftware(SegmentCrc.Initial, "123456789"u8)));
    }

    [Fact]
    public void Known_vectors_of_RFC_3720()
    {
        Assert.Equal(0x8A9136AAu, SegmentCrc.Compute(new byte[32]));
        Assert.Equal(0x62A8AB43u, SegmentCrc.Compute(Enumerable.Repeat((byte)0xFF, 32).ToArray()));
        Assert.Equal(0x46DD794Eu, SegmentCrc.Compute(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(4095)]
    [InlineData(65536)]
    public void Hardware_and_table_agree_and_pieces_add_up(int length)
    {
        byte[] data = TestBytes.Make(length, length);
        uint whole = SegmentCrc.Compute(data);
        Assert.Equal(whole, SegmentCrc.Finish(SegmentCrc.UpdateSoftware(SegmentCrc.Initial, data)));
        int cut = length / 3;
        uint pieces = SegmentCrc.Finish(SegmentCrc.Update(SegmentCrc.Update(SegmentCrc.Initial, data.AsSpan(0, cut)), data.AsSpan(cut)));
        Assert.Equal(whole, pieces);
        var first = new Piece(data.AsMemory(0, cut));
        var second = first.Append(data.AsMemory(cut));
        Assert.Equal(whole, SegmentCrc.Compute(new ReadOnlySequence<byte>(first, 0, second, second.Memory.Length)));
    }

    private sealed class Piece : ReadOnlySequenceSegment<byte>
    {
        public Piece(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Piece Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Piece(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
