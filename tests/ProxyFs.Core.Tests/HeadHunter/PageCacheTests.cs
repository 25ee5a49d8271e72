using ProxyFs.Core.HeadHunter;
using static ProxyFs.Core.Tests.HeadHunter.TreeTestKit;

namespace ProxyFs.Core.Tests.HeadHunter;

public sealed class PageCacheTests
{
    [Fact]
    public void The_cache_stays_within_its_budget_and_counts_hits_misses_and_evictions()
    {
        var store = new MemoryPageStore();
        PageAddress root;
        using (var writer = HeadHunterTree.Create(store, SmallPages()))
        {
            for (long n = 0; n < 50_000; n++)
            {
                writer.Put(NumberKey(n), Value(n, 60));
            }
            root = store.Checkpoint(writer).RootAddress;
        }
        const long budget = 256 * 1024;
        using var tree = HeadHunterTree.Open(store, root, SmallPages(budget));
        var random = new Random(1);
        for (var i = 0; i < 20_000; i++)
        {
            var n = random.Next(50_000);
            Assert.Equal(Value(n, 60), tree.Get(NumberKey(n)));
            Assert.True(tree.Statistics.CachedBytes <= budget);
        }
        var stats = tree.Statistics;
        Assert.True(stats.Misses > 0 && stats.Hits > 0 && stats.Evictions > 0, stats.ToString());
        Assert.Equal(stats.Misses, store.Reads);
        Assert.Equal(budget, stats.BudgetBytes);

        // A hot key stays cached: repeating it reads nothing more.
        tree.Get(NumberKey(7));
        var reads = store.Reads;
        for (var i = 0; i < 100; i++)
        {
            tree.Get(NumberKey(7));
        }
        Assert.Equal(reads, store.Reads);
    }

    [Fact]
    public void With_room_for_everything_each_page_is_read_once()
    {
        var store = new MemoryPageStore();
        PageAddress root;
        using (var writer = HeadHunterTree.Create(store, SmallPages()))
        {
            for (long n = 0; n < 10_000; n++)
            {
                writer.Put(NumberKey(n), Value(n, 60));
            }
            root = store.Checkpoint(writer).RootAddress;
        }
        using var tree = HeadHunterTree.Open(store, root, SmallPages());
        var pages = tree.Verify().StoredRecords;
        Assert.Equal(pages, store.Reads);
        Assert.Equal(10_000, All(tree).Count);
        Assert.Equal(pages, store.Reads);
        Assert.Equal(pages, tree.Statistics.CachedRecords);
    }

    [Fact]
    public void Superseded_pages_leave_the_cache()
    {
        var store = new MemoryPageStore();
        using var tree = HeadHunterTree.Create(store, SmallPages());
        for (long n = 0; n < 10_000; n++)
        {
            tree.Put(NumberKey(n), Value(n, 60));
        }
        var checkpoint = store.Checkpoint(tree);
        Assert.Equal(0, tree.Statistics.CachedRecords);
        Assert.Equal(10_000, All(tree).Count);
        var before = tree.Statistics.CachedRecords;
        Assert.Equal(checkpoint.Written.Count, before);
        tree.Put(NumberKey(1), Bytes("x"));
        Assert.Equal(before - tree.Verify().Height, tree.Statistics.CachedRecords);
    }
}
