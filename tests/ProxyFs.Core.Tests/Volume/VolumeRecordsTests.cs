using ProxyFs.Core.HeadHunter;
using ProxyFs.Core.Volume;

namespace ProxyFs.Core.Tests.Volume;

/// <summary>The descriptor and root pointer formats, pinned by golden bytes (docs/FORMAT.md).</summary>
public sealed class VolumeRecordsTests
{
    private static readonly Guid Id = new("00112233-4455-6677-8899-aabbccddeeff");

    private static VolumeDescriptor Descriptor => new(Id, 1_700_000_000_123_456_789, 10 << 20, 16384, 65536, "demo");

    private static RootPointer Root => new(
        Id, 3, 1_700_000_010_000_000_000, new PageAddress(0x1234, 64, 16384), 1001, 2_000_000, 7, CleanUnmount: true,
        [new CheckpointGeneration(2, 1_700_000_005_000_000_000, new PageAddress(0x1233, 64, 8000))]);

    // Golden bytes computed by an independent encoder (Python struct + bitwise CRC-32C), not by the code under test.
    private const string DescriptorHex =
        "50584653564f4c31" + "01000000" + "3e000000" + "33221100554477668899aabbccddeeff" + "15cd853dfe9c9717"
        + "0000a000" + "00400000" + "00000100" + "0400" + "64656d6f" + "426d895c";

    private const string RootHex =
        "50584653524f4f54" + "01000000" + "86000000" + "33221100554477668899aabbccddeeff" + "0300000000000000"
        + "00e4358a009d9717" + "3412000000000000" + "40000000" + "00400000" + "e903000000000000" + "80841e0000000000"
        + "0700000000000000" + "0100000000000000" + "0100" + "0200000000000000" + "00f22f60ff9c9717" + "3312000000000000"
        + "40000000" + "401f0000" + "a91fa91c";

    [Fact]
    public void Descriptor_golden_bytes() => Assert.Equal(DescriptorHex, Convert.ToHexStringLower(Descriptor.Encode()));

    [Fact]
    public void Descriptor_round_trips() => Assert.Equal(Descriptor, VolumeDescriptor.Decode(Convert.FromHexString(DescriptorHex), "test"));

    [Fact]
    public void Root_pointer_golden_bytes() => Assert.Equal(RootHex, Convert.ToHexStringLower(Root.Encode()));

    [Fact]
    public void Root_pointer_round_trips_with_history()
    {
        RootPointer r = RootPointer.Decode(Root.Encode(), "test");
        Assert.Equal(Root.Generation, r.Generation);
        Assert.Equal(Root.TreeRoot, r.TreeRoot);
        Assert.Equal(Root.NextInode, r.NextInode);
        Assert.Equal(Root.NoncesReservedUpTo, r.NoncesReservedUpTo);
        Assert.Equal(Root.ReplayLogEpoch, r.ReplayLogEpoch);
        Assert.True(r.CleanUnmount);
        Assert.Equal(Root.History, r.History);
    }

    [Fact]
    public void Next_pushes_history_newest_first_and_keeps_at_most_n()
    {
        RootPointer r = Root;
        for (int i = 0; i < 5; i++)
        {
            r = r.Next(new PageAddress(0x2000 + (ulong)i, 0, 100), 1, 5000, 3_000_000, cleanUnmount: false, keep: 3);
        }
        Assert.Equal(8ul, r.Generation);
        Assert.Equal([7ul, 6ul, 5ul], r.History.Select(g => g.Generation));
        Assert.Equal(new PageAddress(0x2003, 0, 100), r.History[0].TreeRoot);
        Assert.False(r.CleanUnmount);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(20)]
    [InlineData(60)]
    public void A_flipped_byte_is_reported_not_decoded(int offset)
    {
        byte[] d = Descriptor.Encode();
        d[offset] ^= 0x40;
        Assert.Throws<VolumeFormatException>(() => VolumeDescriptor.Decode(d, "volume"));
        byte[] r = Root.Encode();
        r[offset] ^= 0x40;
        Assert.Throws<VolumeFormatException>(() => RootPointer.Decode(r, "root"));
    }

    [Fact]
    public void Truncated_or_foreign_objects_are_reported()
    {
        var e = Assert.Throws<VolumeFormatException>(() => VolumeDescriptor.Decode("{\"json\":1}"u8, "s3://b/v/volume"));
        Assert.Contains("s3://b/v/volume is not a proxyfs volume descriptor", e.Message, StringComparison.Ordinal);
        byte[] r = Root.Encode();
        Assert.Throws<VolumeFormatException>(() => RootPointer.Decode(r.AsSpan(0, r.Length - 8), "root"));
    }
}
