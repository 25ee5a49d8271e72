using ProxyFs.Core.LogSegments;
using ProxyFs.ObjectStore;
using ProxyFs.ObjectStore.Memory;

namespace ProxyFs.Core.Tests.LogSegments;

/// <summary>The segment object format of docs/FORMAT.md ("Log segments"), pinned byte by byte.</summary>
public class SegmentFormatTests
{
    private static readonly byte[] VolumeId = [0xAA, 0xBB, 0xCC, 0xDD];

    // Volume id AA BB CC DD, nonce 0x0123456789ABCDEF, data bytes 0..39, CRC blocks of 16 bytes.
    // The CRCs were computed with an independent bit-by-bit CRC-32C (docs/FORMAT.md shows the same dump).
    private const string GoldenHex =
        // header: magic, version 1, H = 32, V = 4, reserved, nonce, volume id, header CRC
        "50 46 53 53 45 47 48 44 01 00 20 00 04 00 00 00" +
        "ef cd ab 89 67 45 23 01 aa bb cc dd a0 a1 5a 63" +
        // data
        "00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f" +
        "10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f" +
        "20 21 22 23 24 25 26 27" +
        // footer: magic, version 1, reserved, B = 16, nonce, H = 32, volume id CRC, D = 40, N = 3, reserved, 3 block CRCs
        "50 46 53 53 45 47 46 54 01 00 00 00 10 00 00 00" +
        "ef cd ab 89 67 45 23 01 20 00 00 00 9e ea ce f7" +
        "28 00 00 00 00 00 00 00 03 00 00 00 00 00 00 00" +
        "eb 08 c9 d9 6b 5a 0f a7 86 7b 7c 4d" +
        // trailer: F = 60, footer CRC, magic
        "3c 00 00 00 57 f7 c3 01 50 46 53 53 45 47 54 52";

    private static byte[] Golden => Convert.FromHexString(GoldenHex.Replace(" ", "", StringComparison.Ordinal));

    [Fact]
    public async Task Writer_produces_the_golden_bytes()
    {
        await using var store = new MemoryObjectStore();
        var options = new SegmentWriterOptions { BlockSize = 16, ChunkSize = 4096, MaxFlushSize = 4096, MaxDirtyBytes = 8192 };
        await using (var writer = new SegmentWriter(store, new CountingNonceSource(0x0123456789ABCDEF), VolumeId, options))
        {
            var location = writer.Append([.. Enumerable.Range(0, 40).Select(i => (byte)i)]);
            Assert.Equal(new SegmentLocation(0x0123456789ABCDEF, 0, 40), location);
            await writer.FlushAsync();
        }
        byte[] stored = await store.GetBytesAsync("segments/ef/0123456789abcdef");
        Assert.Equal(Convert.ToHexString(Golden), Convert.ToHexString(stored));
    }

    [Fact]
    public async Task A_spilled_segment_is_the_golden_object_in_a_file_named_by_its_nonce()
    {
        await using var store = new MemoryObjectStore();
        using var dir = ProxyFs.Testing.TempDirectory.Create();
        var options = new SegmentWriterOptions { BlockSize = 16, ChunkSize = 4096, MaxFlushSize = 4096, MaxDirtyBytes = 8192 };
        var down = new ProxyFs.ObjectStore.Decorators.FaultInjectingObjectStore(store, new ProxyFs.ObjectStore.Decorators.FaultPlan { Down = true });
        await using var writer = new SegmentWriter(down, new CountingNonceSource(0x0123456789ABCDEF), VolumeId, options with { UploadAttempts = 1 });
        writer.Append([.. Enumerable.Range(0, 40).Select(i => (byte)i)]);
        var spill = new SegmentSpill(Path.Combine(dir.Path, "spill"));
        SpilledSegment file = Assert.Single(await writer.SpillAsync(spill));
        Assert.Equal(Path.Combine(spill.Directory, "0123456789abcdef.segment"), file.Path);
        Assert.Equal(Convert.ToHexString(Golden), Convert.ToHexString(File.ReadAllBytes(file.Path)));
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public void The_golden_object_verifies_and_any_flipped_bit_or_other_name_is_reported()
    {
        byte[] golden = Golden;
        Assert.Equal(40, SegmentFormat.Verify(golden, 0x0123456789ABCDEF, VolumeId).DataLength);
        Assert.Contains("footer names segment", Assert.Throws<FormatException>(() => SegmentFormat.Verify(golden, 1, VolumeId)).Message, StringComparison.Ordinal);
        Assert.Contains("another volume", Assert.Throws<FormatException>(() => SegmentFormat.Verify(golden, 0x0123456789ABCDEF, [1, 2, 3, 4])).Message, StringComparison.Ordinal);
        for (int bit = 0; bit < golden.Length * 8; bit++)
        {
            byte[] damaged = [.. golden];
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            Exception e = Assert.ThrowsAny<Exception>(() => SegmentFormat.Verify(damaged, 0x0123456789ABCDEF, VolumeId));
            Assert.True(e is FormatException or ArgumentException, $"bit {bit}: {e}");
        }
    }

    [Fact]
    public void Golden_footer_and_header_parse_back()
    {
        byte[] golden = Golden;
        var (nonce, volumeId) = SegmentFormat.ReadHeader(golden.AsSpan(0, 32));
        Assert.Equal(0x0123456789ABCDEFul, nonce);
        Assert.Equal(VolumeId, volumeId);
        var footer = SegmentFooter.Parse(golden.AsSpan(72), golden.Length);
        Assert.Equal(0x0123456789ABCDEFul, footer.Nonce);
        Assert.Equal(32, footer.DataOffset);
        Assert.Equal(40, footer.DataLength);
        Assert.Equal(16, footer.BlockSize);
        Assert.Equal(3, footer.BlockCount);
        Assert.Equal(0xD9C908EBu, footer.BlockCrc(0));
        Assert.Equal(0x4D7C7B86u, footer.BlockCrc(2));
        Assert.Equal(0xF7CEEA9Eu, footer.VolumeIdCrc);
        Assert.Equal(golden.Length, footer.ObjectLength);
        byte[] again = new byte[footer.EncodedLength + SegmentFormat.TrailerLength];
        footer.WriteTo(again);
        Assert.Equal(golden.AsSpan(72).ToArray(), again);
    }

    [Theory]
    [InlineData(72, "CRC-32C mismatch")] // footer magic
    [InlineData(105, "CRC-32C mismatch")] // data length
    [InlineData(132, "impossible footer length")] // footer length in the trailer
    [InlineData(136, "CRC-32C mismatch")] // footer CRC itself
    [InlineData(147, "PFSSEGTR")] // trailer magic
    public void Damaged_footer_or_trailer_is_refused(int position, string expected)
    {
        byte[] golden = Golden;
        golden[position] ^= 0x01;
        var e = Assert.ThrowsAny<FormatException>(() => SegmentFooter.Parse(golden.AsSpan(72), golden.Length));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Footer_that_disagrees_with_the_object_size_is_refused()
    {
        byte[] golden = Golden;
        var e = Assert.Throws<FormatException>(() => SegmentFooter.Parse(golden.AsSpan(72), golden.Length + 1));
        Assert.Contains("but the object has 149", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Damaged_header_is_refused()
    {
        byte[] golden = Golden;
        golden[20] ^= 0x80;
        var e = Assert.Throws<FormatException>(() => SegmentFormat.ReadHeader(golden.AsSpan(0, 32)));
        Assert.Contains("header CRC-32C mismatch", e.Message, StringComparison.Ordinal);
        golden = Golden;
        golden[8] = 2;
        e = Assert.Throws<FormatException>(() => SegmentFormat.ReadHeader(golden.AsSpan(0, 32)));
        Assert.Contains("version 2 is not supported", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Keys_spread_by_the_low_byte_and_parse_back()
    {
        var keys = new SegmentKeys();
        Assert.Equal("segments/bc/0000000000000abc", keys.KeyOf(0xabc));
        Assert.True(keys.TryParse("segments/bc/0000000000000abc", out ulong nonce));
        Assert.Equal(0xabcul, nonce);
        Assert.False(keys.TryParse("segments/bd/0000000000000abc", out _));
        Assert.False(keys.TryParse("segments/bc/0000000000000ABC", out _));
        Assert.False(keys.TryParse("other/bc/0000000000000abc", out _));
        Assert.Equal("v1/seg/ff/ffffffffffffffff", new SegmentKeys("v1/seg/").KeyOf(ulong.MaxValue));
        Assert.Throws<ArgumentException>(() => new SegmentKeys("no-slash"));
    }

    [Fact]
    public void Footer_length_follows_the_block_count()
    {
        // A 10 MiB segment in 64 KiB blocks: 160 CRCs.
        Assert.Equal(48 + (4 * 160), SegmentFormat.FooterLength(10 << 20, 64 << 10));
        Assert.Equal(48 + 4, SegmentFormat.FooterLength(1, 64 << 10));
        Assert.Equal(28 + 16, SegmentFormat.HeaderLength(16));
    }
}
