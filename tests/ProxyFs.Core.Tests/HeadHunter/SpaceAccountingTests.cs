using ProxyFs.Core.HeadHunter;
using static ProxyFs.Core.Tests.HeadHunter.TreeTestKit;

namespace ProxyFs.Core.Tests.HeadHunter;

public sealed class SpaceAccountingTests
{
    [Fact]
    public void Live_bytes_from_checkpoint_reports_equal_a_walk_of_the_tree_after_churn()
    {
        var store = new MemoryPageStore();
        var ledger = new SpaceLedger();
        var random = new Random(8);
        using var tree = HeadHunterTree.Create(store, SmallPages(cacheBudget: 128 * 1024));
        for (var round = 0; round < 40; round++)
        {
            for (var op = 0; op < 500; op++)
            {
                var n = random.Next(5000);
                switch (random.Next(10))
                {
                    case < 5:
                        tree.Put(NumberKey(n), Value(n, random.Next(0, 200)));
                        break;
                    case < 6:
                        tree.Put(NumberKey(n), Value(n, random.Next(2000, 20_000)));
                        break;
                    default:
                        tree.Delete(NumberKey(n));
                        break;
                }
            }
            ledger.Apply(store.Checkpoint(tree));
            ledger.AssertMatches(tree);
        }

        // Segments whose live bytes reached zero can go; the tree still reads entirely from the rest.
        var dead = ledger.LiveBytesBySegment.Where(s => s.Value == 0).Select(s => s.Key).ToList();
        Assert.NotEmpty(dead);
        dead.ForEach(store.Delete);
        using var reopened = HeadHunterTree.Open(store, tree.RootAddress, SmallPages(cacheBudget: 0));
        Assert.Equal(Hex(All(tree)), Hex(All(reopened)));
        ledger.AssertMatches(reopened);
    }
}
