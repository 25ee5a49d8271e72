using ProxyFs.Core.HeadHunter;
using static ProxyFs.Core.Tests.HeadHunter.TreeTestKit;

namespace ProxyFs.Core.Tests.HeadHunter;

public sealed class BasicOperationsTests
{
    [Fact]
    public void Empty_tree_has_nothing_and_checkpoints_to_one_empty_leaf()
    {
        var store = new MemoryPageStore();
        using var tree = HeadHunterTree.Create(store);
        Assert.Null(tree.Get(Bytes("a")));
        Assert.False(tree.TryGetFloor(Bytes("zzz"), out _, out _));
        Assert.False(tree.TryGetCeiling(Bytes("a"), out _, out _));
        Assert.Empty(All(tree));
        Assert.False(tree.Delete(Bytes("a")));
        Assert.Equal(new TreeShape(1, 0, 1, 0, 1, 0, 0, 0), tree.Verify());

        var checkpoint = store.Checkpoint(tree);
        Assert.Equal(1, checkpoint.PagesWritten);
        Assert.Empty(checkpoint.Superseded);
        Assert.Equal(checkpoint.RootAddress, tree.RootAddress);

        using var reopened = HeadHunterTree.Open(store, checkpoint.RootAddress);
        Assert.Empty(All(reopened));
        Assert.Equal(1, reopened.Verify().StoredRecords);
    }

    [Fact]
    public void Single_key_put_replace_delete()
    {
        var store = new MemoryPageStore();
        using var tree = HeadHunterTree.Create(store);
        tree.Put(Bytes("inode"), Bytes("one"));
        Assert.Equal("one", Text(tree.Get(Bytes("inode"))));
        tree.Put(Bytes("inode"), Bytes("two"));
        Assert.Equal("two", Text(tree.Get(Bytes("inode"))));
        Assert.True(tree.ContainsKey(Bytes("inode")));
        Assert.False(tree.ContainsKey(Bytes("inod")));
        var first = store.Checkpoint(tree);

        Assert.True(tree.Delete(Bytes("inode")));
        Assert.False(tree.Delete(Bytes("inode")));
        Assert.Null(tree.Get(Bytes("inode")));
        var second = store.Checkpoint(tree);
        Assert.Equal([first.RootAddress], second.Superseded);

        using var reopened = HeadHunterTree.Open(store, second.RootAddress);
        Assert.Empty(All(reopened));
    }

    [Fact]
    public void Empty_values_are_values()
    {
        using var tree = HeadHunterTree.Create(new MemoryPageStore());
        tree.Put(Bytes("k"), []);
        Assert.True(tree.TryGet(Bytes("k"), out var value));
        Assert.Empty(value);
    }

    [Fact]
    public void Key_length_limits_are_enforced()
    {
        using var tree = HeadHunterTree.Create(new MemoryPageStore());
        Assert.Throws<ArgumentException>(() => tree.Put([], Bytes("v")));
        Assert.Throws<ArgumentException>(() => tree.Put(new byte[HeadHunterTree.MaxKeyLength + 1], Bytes("v")));
        Assert.Throws<ArgumentException>(() => tree.Get([]));
        Assert.Throws<ArgumentException>(() => tree.Put(Bytes("k"), new byte[HeadHunterTree.MaxValueLength + 1]));
        tree.Put(new byte[HeadHunterTree.MaxKeyLength], Bytes("max"));
        Assert.Equal("max", Text(tree.Get(new byte[HeadHunterTree.MaxKeyLength])));
    }

    [Fact]
    public void Returned_values_are_copies()
    {
        using var tree = HeadHunterTree.Create(new MemoryPageStore());
        tree.Put(Bytes("k"), Bytes("value"));
        var value = tree.Get(Bytes("k"))!;
        value[0] = (byte)'X';
        Assert.Equal("value", Text(tree.Get(Bytes("k"))));
    }

    [Fact]
    public void Keys_compare_as_unsigned_bytes()
    {
        using var tree = HeadHunterTree.Create(new MemoryPageStore());
        byte[][] keys = [[0xFF], [0x00], [0x7F], [0x80], [0x00, 0x00], [0x80, 0x01]];
        foreach (var key in keys)
        {
            tree.Put(key, key);
        }
        var expected = keys.OrderBy(k => k, ByteArrayComparer.Instance).ToList();
        Assert.Equal(expected, All(tree).Select(e => e.Key).ToList());
    }

    [Fact]
    public void Large_values_go_out_of_line_and_survive_reopen()
    {
        var store = new MemoryPageStore();
        using var tree = HeadHunterTree.Create(store);
        var xattr = Value(1, 64 * 1024);
        var symlink = Value(2, 4096);
        var small = Value(3, 100);
        tree.Put(Bytes("X-big"), xattr);
        tree.Put(Bytes("L-link"), symlink);
        tree.Put(Bytes("I-small"), small);
        var checkpoint = store.Checkpoint(tree);
        Assert.Equal(1, checkpoint.BlobsWritten);
        Assert.Equal(4096, tree.MaxInlineValueLength);

        using var reopened = HeadHunterTree.Open(store, checkpoint.RootAddress, new HeadHunterOptions { CacheBudgetBytes = 0 });
        Assert.Equal(xattr, reopened.Get(Bytes("X-big")));
        Assert.Equal(symlink, reopened.Get(Bytes("L-link")));
        Assert.Equal(small, reopened.Get(Bytes("I-small")));
        var scanned = All(reopened);
        Assert.Equal(xattr, scanned.Single(e => Text(e.Key) == "X-big").Value);

        reopened.Put(Bytes("X-big"), Bytes("now small"));
        var next = reopened.BeginCheckpoint(100);
        Assert.Contains(next.Superseded, a => a.Length == xattr.Length + 32);
        reopened.CompleteCheckpoint(next);
    }

    [Fact]
    public void Floor_and_ceiling_across_leaves()
    {
        using var tree = HeadHunterTree.Create(new MemoryPageStore(), SmallPages());
        for (long n = 0; n < 5000; n += 10)
        {
            tree.Put(NumberKey(n), Value(n, 40));
        }
        Assert.True(tree.Verify().Height > 1);
        Assert.False(tree.TryGetFloor(Bytes("k"), out _, out _));
        for (long probe = 0; probe < 5020; probe += 3)
        {
            var expectedFloor = Math.Min(probe / 10 * 10, 4990);
            var hasFloor = tree.TryGetFloor(NumberKey(probe), out var floorKey, out var floorValue);
            Assert.Equal(expectedFloor >= 0, hasFloor);
            if (hasFloor)
            {
                Assert.Equal(NumberKey(expectedFloor), floorKey);
                Assert.Equal(Value(expectedFloor, 40), floorValue);
            }
            var expectedCeiling = probe <= 0 ? 0 : (probe + 9) / 10 * 10;
            var hasCeiling = tree.TryGetCeiling(NumberKey(probe), out var ceilingKey, out _);
            Assert.Equal(expectedCeiling <= 4990, hasCeiling);
            if (hasCeiling)
            {
                Assert.Equal(NumberKey(expectedCeiling), ceilingKey);
            }
        }
        // A floor below every key of a prefix lands on the previous prefix: callers check the prefix.
        Assert.True(tree.TryGetFloor(Bytes("l"), out var last, out _));
        Assert.Equal(NumberKey(4990), last);
        Assert.False(tree.TryGetFloor(Bytes("a"), out _, out _));
    }

    [Fact]
    public void Scans_resume_after_a_key_in_the_middle_of_a_page()
    {
        var store = new MemoryPageStore();
        using var tree = HeadHunterTree.Create(store, SmallPages());
        for (long n = 0; n < 2000; n++)
        {
            tree.Put(NumberKey(n), Value(n, 30));
        }
        store.Checkpoint(tree);
        var seen = new List<long>();
        byte[] resume = [];
        var after = false;
        while (true)
        {
            var batch = 0;
            byte[]? last = null;
            var finished = tree.Scan(resume, (key, value) =>
            {
                seen.Add(System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(key[1..]));
                last = key.ToArray();
                return ++batch < 7;
            }, after);
            if (finished)
            {
                break;
            }
            resume = last!;
            after = true;
        }
        Assert.Equal(Enumerable.Range(0, 2000).Select(i => (long)i), seen);

        // Inclusive start at an existing key, exclusive start at a missing one.
        var fromExisting = new List<byte[]>();
        tree.ScanKeys(NumberKey(500), key =>
        {
            fromExisting.Add(key.ToArray());
            return fromExisting.Count < 2;
        });
        Assert.Equal([NumberKey(500), NumberKey(501)], fromExisting);
        var afterMissing = tree.Enumerate(Bytes("k\0\0\0\0\0\0\0"), after: true, batchSize: 3).Take(4).Select(e => e.Key).ToList();
        Assert.Equal([NumberKey(0), NumberKey(1), NumberKey(2), NumberKey(3)], afterMissing);
    }

    [Fact]
    public void Prefix_scans_and_counts()
    {
        using var tree = HeadHunterTree.Create(new MemoryPageStore(), SmallPages());
        for (long n = 0; n < 300; n++)
        {
            tree.Put(NumberKey(n, "D"), Value(n, 20));
            tree.Put(NumberKey(n, "E"), Value(n, 20));
            tree.Put(NumberKey(n, "I"), Value(n, 20));
        }
        Assert.Equal(300, tree.CountPrefix(Bytes("E")));
        Assert.Equal(900, tree.CountPrefix([]));
        var keys = new List<byte[]>();
        Assert.True(tree.ScanPrefix(Bytes("I"), (key, _) =>
        {
            keys.Add(key.ToArray());
            return true;
        }));
        Assert.Equal(Enumerable.Range(0, 300).Select(n => NumberKey(n, "I")), keys);
        Assert.False(tree.ScanPrefix(Bytes("D"), (_, _) => false));
    }

    [Fact]
    public void Enumerating_while_writing_is_allowed()
    {
        using var tree = HeadHunterTree.Create(new MemoryPageStore(), SmallPages());
        for (long n = 0; n < 1000; n++)
        {
            tree.Put(NumberKey(n), Value(n, 10));
        }
        var count = 0;
        foreach (var entry in tree.Enumerate(batchSize: 64))
        {
            tree.Delete(entry.Key);
            count++;
        }
        Assert.Equal(1000, count);
        Assert.Empty(All(tree));
    }

    [Fact]
    public void Writing_from_a_scan_visitor_fails_clearly()
    {
        using var tree = HeadHunterTree.Create(new MemoryPageStore());
        tree.Put(Bytes("a"), Bytes("1"));
        Assert.Throws<LockRecursionException>(() => tree.Scan([], (key, _) =>
        {
            tree.Put(Bytes("b"), Bytes("2"));
            return true;
        }));
    }
}
