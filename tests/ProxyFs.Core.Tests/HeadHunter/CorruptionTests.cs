using System.Buffers.Binary;
using ProxyFs.Core.Checksums;
using ProxyFs.Core.HeadHunter;
using static ProxyFs.Core.Tests.HeadHunter.TreeTestKit;

namespace ProxyFs.Core.Tests.HeadHunter;

public sealed class CorruptionTests
{
    private static readonly HeadHunterOptions NoCache = new() { PageSize = 4096, CacheBudgetBytes = 0 };

    /// <summary>A stored three-level-or-so tree with a blob, and the addresses of its records by kind.</summary>
    private static (MemoryPageStore Store, PageAddress Root, List<(PageAddress Address, RecordKind Kind)> Records) BuildStored()
    {
        var store = new MemoryPageStore();
        using var tree = HeadHunterTree.Create(store, NoCache);
        for (long n = 0; n < 3000; n++)
        {
            tree.Put(NumberKey(n), Value(n, 50));
        }
        tree.Put(Bytes("blob"), Value(7, 10_000));
        var checkpoint = store.Checkpoint(tree);
        var records = new List<(PageAddress, RecordKind)>();
        tree.Verify((address, kind) => records.Add((address, kind)));
        return (store, checkpoint.RootAddress, records);
    }

    private static void Mutate(MemoryPageStore store, PageAddress address, Action<byte[]> change)
    {
        var segment = store.Segment(address.SegmentNonce).ToArray();
        var record = segment.AsSpan((int)address.Offset, (int)address.Length).ToArray();
        change(record);
        record.CopyTo(segment.AsSpan((int)address.Offset));
        store.Overwrite(address.SegmentNonce, segment);
    }

    private static void Reseal(byte[] record) =>
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(4), Crc32C.Compute(record.AsSpan(8)));

    [Fact]
    public void A_flipped_byte_in_a_leaf_is_a_clear_error_naming_the_page()
    {
        var (store, root, records) = BuildStored();
        var leaf = records.First(r => r.Kind == RecordKind.Leaf).Address;
        Mutate(store, leaf, record => record[record.Length / 2] ^= 0x01);

        using var tree = HeadHunterTree.Open(store, root, NoCache);
        var error = Assert.Throws<HeadHunterCorruptionException>(() => TreeTestKit.All(tree));
        Assert.Equal(leaf, error.Address);
        Assert.Contains("CRC-32C mismatch", error.Message);
        Assert.Contains(leaf.ToString(), error.Message);

        // The error is not cached: keys elsewhere still read, and the bad page fails again.
        Assert.NotNull(tree.Get(NumberKey(2999)));
        Assert.Throws<HeadHunterCorruptionException>(() => TreeTestKit.All(tree));
    }

    [Fact]
    public void A_corrupt_root_fails_at_open()
    {
        var (store, root, _) = BuildStored();
        Mutate(store, root, record => record[^1] ^= 0x80);
        var error = Assert.Throws<HeadHunterCorruptionException>(() => HeadHunterTree.Open(store, root, NoCache));
        Assert.Equal(root, error.Address);
    }

    [Fact]
    public void A_truncated_segment_is_a_clear_error()
    {
        var (store, root, records) = BuildStored();
        var last = records.MaxBy(r => r.Address.Offset).Address;
        var segment = store.Segment(root.SegmentNonce);
        store.Overwrite(root.SegmentNonce, segment[..(int)(last.Offset + (last.Length / 2))]);
        Assert.Throws<HeadHunterCorruptionException>(() => SegmentFormat.Validate(store.Segment(root.SegmentNonce), root.SegmentNonce));

        // The root is written last, so it is the record cut in half.
        var error = Assert.Throws<HeadHunterCorruptionException>(() => HeadHunterTree.Open(store, root, NoCache));
        Assert.Equal(root, error.Address);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void A_corrupt_blob_fails_the_lookup_of_its_key_only()
    {
        var (store, root, records) = BuildStored();
        var blob = records.Single(r => r.Kind == RecordKind.Blob).Address;
        Mutate(store, blob, record => record[100] ^= 0xFF);
        using var tree = HeadHunterTree.Open(store, root, NoCache);
        var error = Assert.Throws<HeadHunterCorruptionException>(() => tree.Get(Bytes("blob")));
        Assert.Equal(blob, error.Address);
        Assert.Equal(Value(5, 50), tree.Get(NumberKey(5)));
        Assert.True(tree.ContainsKey(Bytes("blob")));
    }

    [Fact]
    public void A_page_with_a_valid_checksum_from_another_segment_is_detected()
    {
        // Two identical trees checkpointed into segments 1 and 2: same offsets and lengths, valid checksums.
        var store = new MemoryPageStore();
        PageAddress root = default;
        for (var copy = 0; copy < 2; copy++)
        {
            using var tree = HeadHunterTree.Create(store, NoCache);
            tree.Put(Bytes("a"), Bytes("1"));
            root = copy == 0 ? store.Checkpoint(tree).RootAddress : root;
            if (copy == 1)
            {
                store.Checkpoint(tree);
            }
        }
        var misdirecting = new RedirectingSource(store, root.SegmentNonce, root.SegmentNonce + 1);
        var error = Assert.Throws<HeadHunterCorruptionException>(() => HeadHunterTree.Open(misdirecting, root, NoCache));
        Assert.Equal(root, error.Address);
        Assert.Contains("misdirected", error.Message);
    }

    [Fact]
    public void A_newer_format_version_is_refused_by_name()
    {
        var (store, root, _) = BuildStored();
        Mutate(store, root, record =>
        {
            record[24] = 2;
            Reseal(record);
        });
        var error = Assert.Throws<HeadHunterCorruptionException>(() => HeadHunterTree.Open(store, root, NoCache));
        Assert.Contains("unsupported record format version 2", error.Message);
    }

    [Fact]
    public void Structural_damage_under_a_valid_checksum_is_caught_by_validation()
    {
        var (store, root, records) = BuildStored();
        var leaf = records.First(r => r.Kind == RecordKind.Leaf).Address;
        Mutate(store, leaf, record =>
        {
            BinaryPrimitives.WriteUInt16LittleEndian(record.AsSpan(32), 0xFFF0);
            Reseal(record);
        });
        using var tree = HeadHunterTree.Open(store, root, NoCache);
        var error = Assert.Throws<HeadHunterCorruptionException>(() => TreeTestKit.All(tree));
        Assert.Equal(leaf, error.Address);
        Assert.Contains("slot 0", error.Message);
    }

    [Fact]
    public void A_whole_segment_checksum_catches_any_flip()
    {
        var (store, root, _) = BuildStored();
        var segment = store.Segment(root.SegmentNonce);
        Assert.Equal(root, SegmentFormat.Validate(segment, root.SegmentNonce));
        var random = new Random(5);
        for (var i = 0; i < 50; i++)
        {
            var copy = segment.ToArray();
            copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
            Assert.Throws<HeadHunterCorruptionException>(() => SegmentFormat.Validate(copy, root.SegmentNonce));
        }
        Assert.Throws<HeadHunterCorruptionException>(() => SegmentFormat.Validate(segment, root.SegmentNonce + 1));
    }

    /// <summary>Serves one segment's bytes when asked for another (a store that mixes up objects).</summary>
    private sealed class RedirectingSource(IPageSource inner, ulong from, ulong to) : IPageSource
    {
        public byte[] ReadPage(PageAddress address) =>
            inner.ReadPage(address.SegmentNonce == from ? address with { SegmentNonce = to } : address);
    }
}
