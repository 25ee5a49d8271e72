using ProxyFs.Core.HeadHunter;
using Xunit.Abstractions;
using static ProxyFs.Core.Tests.HeadHunter.TreeTestKit;

namespace ProxyFs.Core.Tests.HeadHunter;

/// <summary>
/// Writes that land while a checkpoint serializes outside the lock (through the AfterFreeze hook, so the overlap is
/// certain): the checkpoint must hold exactly the tree as of the freeze, the live tree every later write, and the
/// superseded reports must account for the frozen pages that writers copied.
/// </summary>
public sealed class FrozenCheckpointTests(ITestOutputHelper output)
{
    public static TheoryData<int> Seeds()
    {
        var data = new TheoryData<int>();
        var count = Environment.GetEnvironmentVariable("PROXYFS_SOAK") == "1" ? 40 : 4;
        for (var seed = 1; seed <= count; seed++)
        {
            data.Add(seed);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Writes_during_serialization_go_to_copies_and_the_checkpoint_is_the_frozen_snapshot(int seed)
    {
        var random = new Random(seed);
        var store = new MemoryPageStore();
        var ledger = new SpaceLedger();
        var model = new SortedDictionary<byte[], byte[]>(ByteArrayComparer.Instance);
        var options = SmallPages(cacheBudget: 256 * 1024);
        var tree = HeadHunterTree.Create(store, options);
        var copied = 0L;
        try
        {
            for (var round = 0; round < 30; round++)
            {
                Mutate(tree, model, random, random.Next(0, 1500));
                List<string>? snapshot = null;
                tree.AfterFreeze = () =>
                {
                    snapshot = Hex(model.Select(e => (e.Key, e.Value)));
                    var before = tree.Statistics.DirtyPages;
                    Mutate(tree, model, random, random.Next(0, 400));
                    copied += tree.Statistics.DirtyPages - before;
                };
                var checkpoint = tree.BeginCheckpoint(store.NextNonce());
                tree.AfterFreeze = null;
                store.Store(checkpoint);
                ledger.Apply(checkpoint);
                tree.CompleteCheckpoint(checkpoint);
                tree.Verify();
                Assert.Equal(Hex(model.Select(e => (e.Key, e.Value))), Hex(All(tree)));
                if (snapshot is not null && !checkpoint.IsEmpty && round % 3 == 0)
                {
                    using var atFreeze = HeadHunterTree.Open(store, checkpoint.RootAddress, SmallPages(cacheBudget: 0));
                    Assert.Equal(snapshot, Hex(All(atFreeze)));
                }
                if (round % 5 == 4)
                {
                    ledger.Apply(store.Checkpoint(tree));
                    ledger.AssertMatches(tree);
                    var root = tree.RootAddress;
                    tree.Dispose();
                    tree = HeadHunterTree.Open(store, root, options);
                }
            }
            Assert.Equal(0, tree.DirtyCountDrifts);
            Assert.True(copied > 0);
            output.WriteLine($"seed {seed}: {copied} nodes dirtied during serialization, {model.Count} keys, {tree.Verify()}");
        }
        finally
        {
            tree.Dispose();
        }
    }

    [Fact]
    public void A_checkpoint_that_fails_to_serialize_leaves_the_tree_dirty_and_complete()
    {
        var store = new MemoryPageStore();
        using var tree = HeadHunterTree.Create(store, SmallPages());
        for (long n = 0; n < 3000; n++)
        {
            tree.Put(NumberKey(n), Value(n, 40));
        }
        var first = store.Checkpoint(tree);
        for (long n = 0; n < 3000; n += 7)
        {
            tree.Put(NumberKey(n), Value(n + 1, 40));
        }
        var dirty = tree.Statistics.DirtyPages;
        tree.AfterFreeze = () =>
        {
            tree.Put(NumberKey(1), Bytes("during"));
            throw new IOException("simulated failure while serializing");
        };
        Assert.Throws<IOException>(() => tree.BeginCheckpoint(store.NextNonce()));
        tree.AfterFreeze = null;
        Assert.False(tree.CheckpointInFlight);
        tree.Verify();
        Assert.True(tree.Statistics.DirtyPages >= dirty);

        var second = store.Checkpoint(tree);
        using var reopened = HeadHunterTree.Open(store, second.RootAddress, SmallPages(cacheBudget: 0));
        Assert.Equal("during", Text(reopened.Get(NumberKey(1))));
        Assert.Equal(Value(8, 40), reopened.Get(NumberKey(7)));
        Assert.Equal(Value(8, 40), reopened.Get(NumberKey(8)));
        var ledger = new SpaceLedger();
        ledger.Apply(first);
        ledger.Apply(second);
        ledger.AssertMatches(tree);
    }

    private static void Mutate(HeadHunterTree tree, SortedDictionary<byte[], byte[]> model, Random random, int operations)
    {
        for (var i = 0; i < operations; i++)
        {
            var n = random.Next(20_000);
            var key = NumberKey(n);
            if (random.Next(3) == 0)
            {
                Assert.Equal(model.Remove(key), tree.Delete(key));
            }
            else
            {
                var value = Value(random.Next(), random.Next(20) == 0 ? random.Next(500, 6000) : random.Next(0, 80));
                tree.Put(key, value);
                model[key] = value;
            }
        }
    }
}
