using ProxyFs.Core.HeadHunter;
using static ProxyFs.Core.Tests.HeadHunter.TreeTestKit;

namespace ProxyFs.Core.Tests.HeadHunter;

public sealed class SplitMergeTests
{
    [Fact]
    public void A_leaf_splits_when_it_passes_a_page_and_merges_back_below_a_quarter()
    {
        var store = new MemoryPageStore();
        using var tree = HeadHunterTree.Create(store, SmallPages());
        // Descending inserts (not appends) so that the split balances the two halves.
        const long top = 1000;
        var n = top;
        while (tree.Verify().Height == 1)
        {
            tree.Put(NumberKey(n), Value(n, 100));
            n--;
        }
        // 4,096-byte page: 32 header + k * (2 slot + 1 + 9 key + 1 kind + 1 length + 100 value) = 114 per entry.
        Assert.Equal((4096 - 32) / 114 + 1, top - n);
        var shape = tree.Verify();
        Assert.Equal(2, shape.LeafNodes);
        Assert.Equal(0, shape.UnderfullNodes);

        // Deleting from the right leaf until it is under a quarter page merges the two leaves back into the root.
        var high = top;
        while (tree.Verify().Height == 2)
        {
            Assert.True(tree.Delete(NumberKey(high)));
            high--;
        }
        shape = tree.Verify();
        Assert.Equal(1, shape.LeafNodes);
        Assert.True(32 + ((high - n) * 114) <= 4096);
        Assert.Equal(Enumerable.Range((int)n + 1, (int)(high - n)).Select(i => NumberKey(i)), All(tree).Select(e => e.Key));
    }

    [Fact]
    public void Maximal_keys_and_inline_values_make_a_deep_tree_that_stays_valid()
    {
        var store = new MemoryPageStore();
        using var tree = HeadHunterTree.Create(store, SmallPages());
        var random = new Random(1024);
        var keys = new List<byte[]>();
        for (var i = 0; i < 400; i++)
        {
            // Long shared prefixes: separators stay long, so internal pages hold only a few children.
            var key = new byte[HeadHunterTree.MaxKeyLength];
            random.NextBytes(key.AsSpan(HeadHunterTree.MaxKeyLength - 4));
            keys.Add(key);
            tree.Put(key, Value(i, tree.MaxInlineValueLength));
        }
        var shape = tree.Verify();
        Assert.True(shape.Height >= 4, $"height {shape.Height}");
        store.Checkpoint(tree);
        foreach (var key in keys.OrderBy(_ => random.Next()))
        {
            Assert.True(tree.Delete(key));
            if (random.Next(20) == 0)
            {
                tree.Verify();
            }
        }
        Assert.Equal(new TreeShape(1, 0, 1, 0, 1, 0, 0, 0), tree.Verify());
        var last = store.Checkpoint(tree);
        Assert.Equal(1, last.PagesWritten);
        using var reopened = HeadHunterTree.Open(store, last.RootAddress, SmallPages());
        Assert.Empty(All(reopened));
    }

    [Fact]
    public void Deleting_everything_in_random_order_leaves_one_empty_leaf_and_supersedes_every_record()
    {
        var store = new MemoryPageStore();
        var ledger = new SpaceLedger();
        using var tree = HeadHunterTree.Create(store, SmallPages());
        for (long n = 0; n < 20_000; n++)
        {
            tree.Put(NumberKey(n), Value(n, n % 97 == 0 ? 5000 : 30));
        }
        ledger.Apply(store.Checkpoint(tree));
        Assert.True(tree.Verify().Height >= 3);
        var random = new Random(20_000);
        foreach (var n in Enumerable.Range(0, 20_000).OrderBy(_ => random.Next()))
        {
            Assert.True(tree.Delete(NumberKey(n)));
        }
        var last = store.Checkpoint(tree);
        ledger.Apply(last);
        Assert.Equal(new TreeShape(1, 0, 1, 0, 0, 1, last.RootAddress.Length, 0), tree.Verify());
        Assert.Equal([last.RootAddress], ledger.Live);
    }

    [Fact]
    public void Ascending_inserts_fill_pages_and_descending_ones_keep_them_at_least_half_full()
    {
        foreach (var descending in new[] { false, true })
        {
            using var tree = HeadHunterTree.Create(new MemoryPageStore(), SmallPages());
            for (long i = 0; i < 30_000; i++)
            {
                var n = descending ? 30_000 - i : i;
                tree.Put(NumberKey(n), Value(n, 40));
            }
            var shape = tree.Verify();
            var perLeaf = (4096 - 32) / (2 + 1 + 9 + 1 + 1 + 40);
            var minimum = (30_000 + perLeaf - 1) / perLeaf;
            Assert.Equal(0, shape.UnderfullNodes);
            if (descending)
            {
                Assert.True(shape.LeafNodes <= 2 * minimum + 1, $"{shape.LeafNodes} leaves");
            }
            else
            {
                // Appends split off only the new entry: leaves end up full.
                Assert.True(shape.LeafNodes <= minimum + 1, $"{shape.LeafNodes} leaves, {minimum} at best");
            }
        }
    }

    [Fact]
    public void A_large_tree_shrinks_after_deleting_almost_everything()
    {
        var store = new MemoryPageStore();
        using var tree = HeadHunterTree.Create(store, SmallPages());
        const int count = 100_000;
        for (long n = 0; n < count; n++)
        {
            tree.Put(NumberKey(n * 7919 % count), Value(n, 60));
        }
        store.Checkpoint(tree);
        var full = tree.Verify();
        for (long n = 0; n < count; n++)
        {
            if (n % 100 != 0)
            {
                tree.Delete(NumberKey(n));
            }
        }
        store.Checkpoint(tree);
        var shrunk = tree.Verify();
        Assert.Equal(count / 100, shrunk.Entries);
        Assert.True(shrunk.LeafNodes * 20 < full.LeafNodes, $"{full.LeafNodes} leaves became {shrunk.LeafNodes}");
        Assert.True(shrunk.Height < full.Height || full.Height <= 2);
        Assert.True(shrunk.UnderfullNodes * 10 <= shrunk.LeafNodes + shrunk.InternalNodes);
    }

    [Theory]
    [InlineData("", "b", "b")]
    [InlineData("a", "b", "b")]
    [InlineData("abc", "abd", "abd")]
    [InlineData("abc", "abzzz", "abz")]
    [InlineData("ab", "abc", "abc")]
    [InlineData("ab", "abcdef", "abc")]
    public void Separators_are_the_shortest_key_between_neighbours(string low, string high, string expected)
    {
        Assert.Equal(expected, Text(HeadHunterTree.ShortestSeparator(Bytes(low), Bytes(high))));
    }
}
