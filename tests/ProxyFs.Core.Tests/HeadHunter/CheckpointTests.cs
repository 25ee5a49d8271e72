using ProxyFs.Core.HeadHunter;
using static ProxyFs.Core.Tests.HeadHunter.TreeTestKit;

namespace ProxyFs.Core.Tests.HeadHunter;

public sealed class CheckpointTests
{
    [Fact]
    public void A_checkpoint_is_a_snapshot_while_writers_continue()
    {
        var store = new MemoryPageStore();
        using var tree = HeadHunterTree.Create(store, SmallPages(cacheBudget: 0));
        for (long n = 0; n < 5000; n++)
        {
            tree.Put(NumberKey(n), Value(n, 50));
        }
        var first = tree.BeginCheckpoint(store.NextNonce());

        // Writers go on before the segment is stored: replace, delete, insert.
        for (long n = 0; n < 5000; n += 3)
        {
            tree.Put(NumberKey(n), Value(n + 1, 70));
        }
        for (long n = 1; n < 5000; n += 3)
        {
            tree.Delete(NumberKey(n));
        }
        tree.Put(Bytes("new"), Bytes("key"));
        store.Store(first);
        tree.CompleteCheckpoint(first);
        var second = store.Checkpoint(tree);

        using (var atFirst = HeadHunterTree.Open(store, first.RootAddress, SmallPages(0)))
        {
            Assert.Equal(Enumerable.Range(0, 5000).Select(n => Convert.ToHexString(Value(n, 50))), All(atFirst).Select(e => Convert.ToHexString(e.Value)));
        }
        using var atSecond = HeadHunterTree.Open(store, second.RootAddress, SmallPages(0));
        foreach (var (key, value) in All(atSecond).Where(e => e.Key[0] == 'k'))
        {
            var n = System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(key.AsSpan(1));
            Assert.NotEqual(1, n % 3);
            Assert.Equal(n % 3 == 0 ? Value(n + 1, 70) : Value(n, 50), value);
        }
        Assert.Equal("key", Text(atSecond.Get(Bytes("new"))));
    }

    [Fact]
    public void Pages_of_an_unstored_checkpoint_are_served_from_its_image_even_with_no_cache_budget()
    {
        var store = new MemoryPageStore();
        using var tree = HeadHunterTree.Create(store, SmallPages(cacheBudget: 0));
        for (long n = 0; n < 3000; n++)
        {
            tree.Put(NumberKey(n), Value(n, 50));
        }
        tree.Put(Bytes("blob"), Value(1, 9000));
        var checkpoint = tree.BeginCheckpoint(store.NextNonce());
        var stats = tree.Statistics;
        Assert.Equal(checkpoint.Segment.Length, stats.InFlightSegmentBytes);
        Assert.Equal(0, stats.CachedBytes);
        Assert.Equal(0, stats.DirtyPages);

        // The segment is not in the store yet: every read must come from the checkpoint image.
        Assert.Equal(3001, All(tree).Count);
        Assert.Equal(Value(1, 9000), tree.Get(Bytes("blob")));
        tree.Put(NumberKey(5), Bytes("changed"));
        Assert.Equal(0, store.Reads);

        store.Store(checkpoint);
        tree.CompleteCheckpoint(checkpoint);
        stats = tree.Statistics;
        Assert.Equal(0, stats.InFlightSegmentBytes);
        Assert.Equal(0, stats.CachedBytes);
        Assert.Equal(Value(2500, 50), tree.Get(NumberKey(2500)));
        Assert.True(store.Reads > 0);
    }

    [Fact]
    public void One_checkpoint_at_a_time_and_only_the_one_in_flight_completes()
    {
        var store = new MemoryPageStore();
        using var tree = HeadHunterTree.Create(store);
        tree.Put(Bytes("a"), Bytes("1"));
        var first = tree.BeginCheckpoint(store.NextNonce());
        Assert.True(tree.CheckpointInFlight);
        Assert.Throws<InvalidOperationException>(() => tree.BeginCheckpoint(2));
        tree.CompleteCheckpoint(first);
        Assert.Throws<InvalidOperationException>(() => tree.CompleteCheckpoint(first));
        Assert.False(tree.CheckpointInFlight);
    }

    [Fact]
    public void A_checkpoint_with_nothing_dirty_is_empty_and_keeps_the_root()
    {
        var store = new MemoryPageStore();
        using var tree = HeadHunterTree.Create(store);
        tree.Put(Bytes("a"), Bytes("1"));
        var first = store.Checkpoint(tree);
        Assert.False(tree.Delete(Bytes("absent")));
        var second = tree.BeginCheckpoint(99);
        Assert.True(second.IsEmpty);
        Assert.Equal(first.RootAddress, second.RootAddress);
        Assert.Empty(second.Written);
        Assert.Empty(second.Superseded);
        tree.CompleteCheckpoint(second);
    }

    [Fact]
    public void Supersede_reports_exactly_the_copied_path()
    {
        var store = new MemoryPageStore();
        using var tree = HeadHunterTree.Create(store, SmallPages());
        for (long n = 0; n < 20_000; n++)
        {
            tree.Put(NumberKey(n), Value(n, 30));
        }
        store.Checkpoint(tree);
        var height = tree.Verify().Height;
        tree.Put(NumberKey(12_345), Value(1, 30));
        var checkpoint = store.Checkpoint(tree);
        Assert.Equal(height, checkpoint.PagesWritten);
        Assert.Equal(height, checkpoint.Superseded.Count);
        Assert.Equal(checkpoint.RootAddress, checkpoint.Written[^1]);
        Assert.True(checkpoint.LockHeld > TimeSpan.Zero);
    }
}
