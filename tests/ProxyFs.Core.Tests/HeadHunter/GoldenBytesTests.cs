using System.Security.Cryptography;
using ProxyFs.Core.HeadHunter;
using static ProxyFs.Core.Tests.HeadHunter.TreeTestKit;

namespace ProxyFs.Core.Tests.HeadHunter;

/// <summary>
/// Pins the stored format (docs/FORMAT.md): fixed trees must serialize to exactly these bytes. A failure here
/// means the format changed: bump the version and write the reading of the old one, don't just update the hex.
/// </summary>
public sealed class GoldenBytesTests
{
    private const ulong Nonce = 0x0102030405060708;

    /// <summary>The worked example of docs/FORMAT.md: "a"→"1", "b"→"", "c"→bytes 0..19 (a blob: inline limit 16).</summary>
    private const string SmallSegmentHex =
        "48485347E9E4AA492000000008070605040302010100000000100000000000004848424C84F688C03400000008070605"
        + "04030201200000000103000000000000000102030405060708090A0B0C0D0E0F101112134848504791D1FDDF42000000"
        + "080706050403020154000000010100000300000026002B002F0001610001310162000001630108070605040302012000"
        + "0000340000004848534501000000080706050403020154000000420000000100000001000000BE000000E5C823D2";

    /// <summary>Root (internal) page of 200 keys "k"+n(8 BE) → Value(n, 24) with 4 KiB pages.</summary>
    private const string TwoLevelRootHex =
        "4848504795286DF04F0000000807060504030201101E0000010201000200000024003500000807060504030201200000"
        + "00DC0F0000096B000000000000006A0807060504030201FC0F0000140E0000";

    /// <summary>SHA-256 of that whole segment.</summary>
    private const string TwoLevelSegmentSha256 = "DE859B85B4ACF238887ED357CB990594D135F6E27509C32AC351E09305CCF38D";

    [Fact]
    public void A_single_leaf_with_a_blob_serializes_to_the_documented_bytes()
    {
        using var tree = HeadHunterTree.Create(new MemoryPageStore(), new HeadHunterOptions { PageSize = 4096, MaxInlineValueLength = 16 });
        tree.Put(Bytes("b"), []);
        tree.Put(Bytes("c"), Enumerable.Range(0, 20).Select(i => (byte)i).ToArray());
        tree.Put(Bytes("a"), Bytes("1"));
        var checkpoint = tree.BeginCheckpoint(Nonce);
        Assert.Equal(SmallSegmentHex, Convert.ToHexString(checkpoint.Segment.Span));
        Assert.Equal(new PageAddress(Nonce, 84, 66), checkpoint.RootAddress);
        Assert.Equal([new PageAddress(Nonce, 32, 52), new PageAddress(Nonce, 84, 66)], checkpoint.Written);
    }

    [Fact]
    public void The_documented_bytes_read_back_as_the_tree()
    {
        var store = new MemoryPageStore();
        var segment = Convert.FromHexString(SmallSegmentHex);
        store.Overwrite(Nonce, segment);
        var root = SegmentFormat.Validate(segment, Nonce);
        Assert.Equal(new PageAddress(Nonce, 84, 66), root);
        using var tree = HeadHunterTree.Open(store, root, new HeadHunterOptions { PageSize = 4096, MaxInlineValueLength = 16 });
        Assert.Equal(
            [("a", "31"), ("b", ""), ("c", "000102030405060708090A0B0C0D0E0F10111213")],
            All(tree).Select(e => (Text(e.Key), Convert.ToHexString(e.Value))).ToList());
    }

    [Fact]
    public void A_two_level_tree_serializes_to_the_pinned_bytes()
    {
        using var tree = HeadHunterTree.Create(new MemoryPageStore(), new HeadHunterOptions { PageSize = 4096 });
        for (long n = 0; n < 200; n++)
        {
            tree.Put(NumberKey(n), Value(n, 24));
        }
        var checkpoint = tree.BeginCheckpoint(Nonce);
        Assert.Equal(2, tree.Verify().Height);
        var segment = checkpoint.Segment.Span;
        var root = checkpoint.RootAddress;
        Assert.Equal(TwoLevelRootHex, Convert.ToHexString(segment.Slice((int)root.Offset, (int)root.Length)));
        Assert.Equal(TwoLevelSegmentSha256, Convert.ToHexString(SHA256.HashData(segment)));
    }
}
