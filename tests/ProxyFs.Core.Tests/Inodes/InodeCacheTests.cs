using ProxyFs.Core.FileSystem;
using ProxyFs.Core.FileSystem.Inodes;
using ProxyFs.Core.FileSystem.Memory;

namespace ProxyFs.Core.Tests.Inodes;

/// <summary>The pin/evict protocol under contention: never two objects for one inode, never a referenced one evicted.</summary>
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
    public void A_budget_keeps_that_many_unreferenced_objects()
    {
        var store = new MemoryInodeStore(new MemoryFileSystemOptions(), unreferencedBudget: 5);
        var kept = new List<Inode>();
        for (int i = 0; i < 20; i++)
        {
            using InodeOperation op = store.BeginOperation(OperationKind.Create);
            Assert.Equal(0, store.CreateInode(op, new InodeInit { Mode = ModeBits.S_IFREG }, out Inode inode));
            op.Commit();
            if (i % 4 == 0)
            {
                inode.Lookups = 1; // the kernel knows these: never evicted
                kept.Add(inode);
            }
            store.Unpin(inode);
        }
        Assert.Equal(kept.Count + 5, store.CachedInodes); // the root is one of the five unreferenced
        foreach (Inode inode in kept)
        {
            Assert.Equal(0, store.Acquire(inode.Ino, out Inode again));
            Assert.Same(inode, again);
            store.Unpin(again);
        }
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
