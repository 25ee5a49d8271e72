using ProxyFs.Core.FileSystem;
using ProxyFs.Core.FileSystem.Inodes;
using ProxyFs.Core.FileSystem.Memory;

namespace ProxyFs.Core.Tests.Inodes;

/// <summary>The pin/evict protocol under contention: never two objects for one inode, never an object in use evicted, objects the kernel knows parked with their lookups.</summary>
public sealed class InodeCacheTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void Concurrent_pins_and_evictions_never_lose_an_update(int budget)
    {
        const int Inodes = 8;
        const int Threads = 4;
        const int Rounds = 20_000;
        var store = new MemoryInodeStore(new MemoryFileSystemOptions(), budget);
        ulong[] numbers = new ulong[Inodes];
        for (int i = 0; i < Inodes; i++)
        {
            using InodeOperation op = store.BeginOperation(OperationKind.Create);
            Assert.Equal(0, store.CreateInode(op, new InodeInit { Mode = ModeBits.S_IFREG }, out Inode inode));
            op.Commit();
            numbers[i] = inode.Ino;
            store.Unpin(inode);
        }
        Parallel.For(0, Threads, worker =>
        {
            var random = new Random(worker);
            for (int round = 0; round < Rounds; round++)
            {
                ulong ino = numbers[random.Next(Inodes)];
                using InodeOperation op = store.BeginOperation(OperationKind.Write);
                Assert.Equal(0, store.Acquire(ino, out Inode inode));
                lock (inode.Sync)
                {
                    inode.Size++; // lost if two objects stood for the inode at once
                    store.Update(op, inode);
                    op.Commit();
                }
                store.Unpin(inode);
            }
        });
        long total = 0;
        foreach (ulong ino in numbers)
        {
            Assert.Equal(0, store.Acquire(ino, out Inode inode));
            total += inode.Size;
            store.Unpin(inode);
        }
        Assert.Equal((long)Threads * Rounds, total);
        Assert.True(store.Evictions > 0);
        Assert.Empty(store.PinnedInodes());
    }

    [Fact]
    public void A_budget_keeps_that_many_idle_objects()
    {
        var store = new MemoryInodeStore(new MemoryFileSystemOptions(), unreferencedBudget: 5);
        var kept = new List<Inode>();
        for (int i = 0; i < 20; i++)
        {
            Inode inode = Create(store, nlink: 1);
            if (i % 4 == 0)
            {
                inode.Opens = 1; // open handles point at these: never evicted
                kept.Add(inode);
            }
            store.Unpin(inode);
        }
        Assert.Equal(kept.Count + 5, store.CachedInodes); // the root is one of the five idle ones
        foreach (Inode inode in kept)
        {
            Assert.Equal(0, store.Acquire(inode.Ino, out Inode again));
            Assert.Same(inode, again);
            store.Unpin(again);
        }
    }

    [Fact]
    public void Objects_only_the_kernel_knows_are_dropped_and_come_back_with_their_lookups()
    {
        var store = new MemoryInodeStore(new MemoryFileSystemOptions(), unreferencedBudget: 2);
        var known = new List<Inode>();
        for (int i = 0; i < 10; i++)
        {
            Inode inode = Create(store, nlink: 1);
            inode.Lookups = (ulong)(i + 1);
            known.Add(inode);
            store.Unpin(inode);
        }
        Assert.True(store.CachedInodes <= 2 + 1, $"{store.CachedInodes} objects in memory"); // budget, and the root
        Assert.True(store.ParkedInodes >= 8, $"{store.ParkedInodes} parked");
        for (int i = 0; i < known.Count; i++)
        {
            Assert.Equal(0, store.Acquire(known[i].Ino, out Inode again));
            Assert.Equal((ulong)(i + 1), again.Lookups);
            store.Unpin(again);
        }
    }

    [Fact]
    public void An_inode_without_links_that_the_kernel_knows_stays_in_memory()
    {
        var store = new MemoryInodeStore(new MemoryFileSystemOptions(), unreferencedBudget: 0);
        Inode orphan = Create(store, nlink: 0); // unlinked while looked up: its record cannot give it back
        orphan.Lookups = 1;
        store.Unpin(orphan);
        Inode linked = Create(store, nlink: 1);
        linked.Lookups = 1;
        store.Unpin(linked);
        Assert.Equal(1, store.ParkedInodes);
        Assert.Equal(0, store.Acquire(orphan.Ino, out Inode again));
        Assert.Same(orphan, again);
        store.Unpin(again);
        Assert.Equal(0, store.Acquire(linked.Ino, out Inode reloaded));
        Assert.NotSame(linked, reloaded);
        Assert.Equal(0, store.ParkedInodes);
        reloaded.Lookups = 0;
        store.Unpin(reloaded);
    }

    private static Inode Create(MemoryInodeStore store, uint nlink)
    {
        using InodeOperation op = store.BeginOperation(OperationKind.Create);
        Assert.Equal(0, store.CreateInode(op, new InodeInit { Mode = ModeBits.S_IFREG }, out Inode inode));
        lock (inode.Sync)
        {
            inode.Nlink = nlink;
            store.Update(op, inode);
            op.Commit();
        }
        return inode;
    }

    [Fact]
    public void Unpinning_more_than_pinned_is_refused()
    {
        var store = new MemoryInodeStore(new MemoryFileSystemOptions(), unreferencedBudget: 5);
        Assert.Equal(0, store.Acquire(IFileSystem.RootIno, out Inode root));
        store.Unpin(root);
        Assert.Throws<InvalidOperationException>(() => store.Unpin(root));
    }

    [Fact]
    public void Evicting_needs_somewhere_to_reload_from()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new InodeCache(null, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new InodeCache(null, -5));
        Assert.Equal(0, new InodeCache(null, InodeCache.NeverEvict).Count);
    }
}

/// <summary>The parked-lookups table against a dictionary, through growth, shrinking and collisions.</summary>
public sealed class ParkedLookupsTests
{
    [Theory]
    [InlineData(1, 50)]
    [InlineData(2, 5_000)]
    [InlineData(3, 200_000)]
    public void Matches_a_dictionary_under_random_sets_and_removes(int seed, int keySpace)
    {
        var random = new Random(seed);
        var table = new ParkedLookups();
        var expected = new Dictionary<ulong, ulong>();
        for (int step = 0; step < 300_000; step++)
        {
            // Multiples of 64 collide in the cache's stripes; mixing both kinds exercises long probe runs.
            ulong ino = (ulong)random.Next(1, keySpace) * (random.Next(2) == 0 ? 1UL : 64UL);
            if (random.Next(3) == 0)
            {
                bool had = expected.Remove(ino, out ulong want);
                Assert.Equal(had, table.TryRemove(ino, out ulong got));
                Assert.Equal(had ? want : 0, got);
            }
            else
            {
                ulong lookups = (ulong)random.Next(1, 1000);
                expected[ino] = lookups;
                table.Set(ino, lookups);
            }
            Assert.Equal(expected.Count, table.Count);
        }
        foreach ((ulong ino, ulong lookups) in expected)
        {
            Assert.True(table.TryRemove(ino, out ulong got));
            Assert.Equal(lookups, got);
        }
        Assert.Equal(0, table.Count);
        Assert.False(table.TryRemove(42, out _));
    }
}
