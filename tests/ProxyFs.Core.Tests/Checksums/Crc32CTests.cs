using System.Text;
using ProxyFs.Core.Checksums;

namespace ProxyFs.Core.Tests.Checksums;

public sealed class Crc32CTests
{
    public static TheoryData<string, uint> TextVectors => new()
    {
        { "", 0x00000000u },
        { "a", 0xC1D04330u },
        { "abc", 0x364B3FB7u },
        { "123456789", 0xE3069283u },
        { "The quick brown fox jumps over the lazy dog", 0x22620404u },
    };

    [Theory]
    [MemberData(nameof(TextVectors))]
    public void Known_text_vectors(string text, uint expected)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        Assert.Equal(expected, Crc32C.Compute(bytes));
        Assert.Equal(expected, Crc32C.AppendSoftware(0, bytes));
    }

    [Fact]
    public void Rfc3720_iscsi_vectors()
    {
        // RFC 3720, B.4: 32 bytes of zeros, of ones, incrementing, decrementing; and an iSCSI read PDU.
        var zeros = new byte[32];
        var ones = Enumerable.Repeat((byte)0xFF, 32).ToArray();
        var incrementing = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var decrementing = Enumerable.Range(0, 32).Select(i => (byte)(31 - i)).ToArray();
        byte[] readPdu =
        [
            0x01, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
            0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        foreach (var (data, expected) in new[]
        {
            (zeros, 0x8A9136AAu), (ones, 0x62A8AB43u), (incrementing, 0x46DD794Eu),
            (decrementing, 0x113FDB5Cu), (readPdu, 0xD9963A56u),
        })
        {
            Assert.Equal(expected, Crc32C.Compute(data));
            Assert.Equal(expected, Crc32C.AppendSoftware(0, data));
        }
    }

    [Fact]
    public void Hardware_equals_software_for_every_length_and_offset()
    {
        var random = new Random(3720);
        var buffer = new byte[1000 + 16];
        random.NextBytes(buffer);
        for (var offset = 0; offset < 8; offset++)
        {
            for (var length = 0; length + offset <= 1000; length++)
            {
                var span = buffer.AsSpan(offset, length);
                Assert.Equal(Crc32C.AppendSoftware(0x12345678, span), Crc32C.Append(0x12345678, span));
                Assert.Equal(Crc32C.AppendSoftware(0, span), Crc32C.Compute(span));
            }
        }
    }

    [Fact]
    public void Hardware_equals_software_across_the_three_lane_block_sizes()
    {
        var random = new Random(768);
        var buffer = new byte[200_000];
        random.NextBytes(buffer);
        int[] edges = [767, 768, 769, 775, 776, 1535, 1536, 12_287, 12_288, 12_289, 13_056, 16_384, 16_416, 65_536, 199_999];
        foreach (var length in edges.Concat(Enumerable.Range(0, 200).Select(_ => random.Next(200_000))))
        {
            var offset = random.Next(0, 8);
            var span = buffer.AsSpan(offset, Math.Min(length, buffer.Length - offset));
            Assert.Equal(Crc32C.AppendSoftware(0xDEADBEEF, span), Crc32C.Append(0xDEADBEEF, span));
        }
    }

    [Fact]
    public void Appending_in_pieces_equals_one_shot()
    {
        var random = new Random(17);
        var data = new byte[4099];
        random.NextBytes(data);
        var whole = Crc32C.Compute(data);
        for (var split = 0; split <= data.Length; split += 37)
        {
            var first = Crc32C.Compute(data.AsSpan(0, split));
            Assert.Equal(whole, Crc32C.Append(first, data.AsSpan(split)));
            Assert.Equal(whole, Crc32C.AppendSoftware(Crc32C.AppendSoftware(0, data.AsSpan(0, split)), data.AsSpan(split)));
        }
    }

    [Fact]
    public void Hardware_path_is_used_on_this_cpu_when_the_instruction_exists()
    {
        var expected = System.Runtime.Intrinsics.X86.Sse42.X64.IsSupported
            || System.Runtime.Intrinsics.Arm.Crc32.Arm64.IsSupported;
        Assert.Equal(expected, Crc32C.IsHardwareAccelerated);
    }
}
