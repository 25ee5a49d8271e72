using ProxyFs.Core.FileSystem;
using ProxyFs.Core.FileSystem.Inodes;
using ProxyFs.Core.FileSystem.Memory;

namespace ProxyFs.Core.Tests.Inodes;

/// <summary>What the memory store checks of its user, and its capacity.</summary>
public sealed class MemoryInodeStoreTests
{
    private static MemoryInodeStore Evicting(long capacity = 1L << 30) =>
        new(new MemoryFileSystemOptions { CapacityBytes = capacity }, unreferencedBudget: 0);

    private static Inode NewFile(MemoryInodeStore store)
    {
        using InodeOperation op = store.BeginOperation(OperationKind.Create);
        Assert.Equal(0, store.CreateInode(op, new InodeInit { Mode = ModeBits.S_IFREG | 0x1A4, Time = store.Now() }, out Inode inode));
        op.Commit();
        return inode;
    }

    [Fact]
    public void A_change_not_reported_with_Update_is_caught_at_eviction()
    {
        MemoryInodeStore store = Evicting();
        Inode inode = NewFile(store);
        lock (inode.Sync)
        {
            inode.Uid = 42; // no Update
        }
        var error = Assert.Throws<InvalidOperationException>(() => store.Unpin(inode));
        Assert.Contains("without Update", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Using_an_object_without_a_reference_is_caught()
    {
        MemoryInodeStore store = Evicting();
        Inode inode = NewFile(store);
        long evictions = store.Evictions;
        store.Unpin(inode); // unreferenced: evicted at once
        Assert.Equal(evictions + 1, store.Evictions);
        using InodeOperation op = store.BeginOperation(OperationKind.SetAttr);
        lock (inode.Sync)
        {
            Assert.Throws<InvalidOperationException>(() => store.Update(op, inode));
            Assert.Throws<InvalidOperationException>(() => store.UpdateAtime(inode));
        }
        Assert.Throws<InvalidOperationException>(() => store.Pin(inode));
        Assert.Throws<InvalidOperationException>(() => store.Unpin(inode));
    }

    [Fact]
    public void Records_change_under_the_inode_lock_and_commit_before_it_is_let_go()
    {
        MemoryInodeStore store = Evicting();
        Inode inode = NewFile(store);
        using (InodeOperation op = store.BeginOperation(OperationKind.SetAttr))
        {
            inode.Uid = 5;
            Assert.Throws<InvalidOperationException>(() => store.Update(op, inode));
            Assert.Throws<InvalidOperationException>(() => store.UpdateAtime(inode));
        }
        using (InodeOperation op = store.BeginOperation(OperationKind.SetAttr))
        {
            lock (inode.Sync)
            {
                store.Update(op, inode);
            }
            var error = Assert.Throws<InvalidOperationException>(op.Commit);
            Assert.Contains("letting go of the lock", error.Message, StringComparison.Ordinal);
        }
        store.Unpin(inode);
    }

    [Fact]
    public void A_scope_ended_after_changes_without_commit_is_counted()
    {
        MemoryInodeStore store = Evicting();
        Inode inode = NewFile(store);
        using (InodeOperation op = store.BeginOperation(OperationKind.SetAttr))
        {
            lock (inode.Sync)
            {
                inode.Uid = 5;
                store.Update(op, inode);
            }
        }
        Assert.Equal(1, store.AbandonedOperations);
        using (InodeOperation op = store.BeginOperation(OperationKind.SetAttr))
        {
            // no change, no commit: an operation that failed its checks
        }
        Assert.Equal(1, store.AbandonedOperations);
        store.Unpin(inode);
    }

    [Fact]
    public void Freeing_a_linked_or_referenced_inode_is_refused()
    {
        MemoryInodeStore store = Evicting();
        Inode inode = NewFile(store);
        using InodeOperation op = store.BeginOperation(OperationKind.Unlink);
        lock (inode.Sync)
        {
            Assert.Throws<InvalidOperationException>(() => store.Free(op, inode)); // Freed not set
            inode.Freed = true;
            inode.Nlink = 1;
            Assert.Throws<InvalidOperationException>(() => store.Free(op, inode));
            inode.Nlink = 0;
            inode.Opens = 1;
            Assert.Throws<InvalidOperationException>(() => store.Free(op, inode));
            inode.Opens = 0;
            store.Free(op, inode);
        }
        op.Commit();
        store.Unpin(inode);
        Assert.Equal(1, store.InodeCount);
    }

    [Fact]
    public void Refused_data_changes_leave_data_and_space_alone()
    {
        MemoryInodeStore store = Evicting(capacity: 64 * 4096);
        Inode file = NewFile(store);
        IFileData data = file.Data!;
        byte[] ones = Enumerable.Repeat((byte)1, 60 * 4096).ToArray();
        using (InodeOperation op = store.BeginOperation(OperationKind.Write))
        {
            Assert.Equal(0, data.Write(op, 0, ones));
            op.Commit();
        }
        store.GetStats(out FsStats before);
        using (InodeOperation op = store.BeginOperation(OperationKind.Fallocate))
        {
            Assert.Equal(Errno.ENOSPC, data.Write(op, 60 * 4096, new byte[5 * 4096]));
            Assert.Equal(Errno.ENOSPC, data.Allocate(op, 0, 70 * 4096));
            Assert.Equal(Errno.ENOSPC, data.ZeroRange(op, 10, 70 * 4096));
            Assert.Equal(Errno.ENOSPC, data.CopyFrom(op, data, 0, 60 * 4096, 5 * 4096));
            Assert.Equal(0, op.Changes);
            Assert.Equal(0, data.ZeroRange(op, 10, 4096)); // inside allocated pages: needs nothing
            op.Commit();
        }
        store.GetStats(out FsStats after);
        Assert.Equal(before.BlocksFree, after.BlocksFree);
        byte[] back = new byte[60 * 4096];
        data.Read(0, back);
        Assert.All(back[..10], b => Assert.Equal(1, b));
        Assert.All(back[10..4106], b => Assert.Equal(0, b));
        Assert.All(back[4106..], b => Assert.Equal(1, b));
        store.Unpin(file);
    }

    [Fact]
    public void Inode_limit_gives_ENOSPC()
    {
        var store = new MemoryInodeStore(new MemoryFileSystemOptions { MaxInodes = 2 });
        Inode first = NewFile(store);
        Assert.False(store.HasRoomForInode);
        using InodeOperation op = store.BeginOperation(OperationKind.Create);
        Assert.Equal(Errno.ENOSPC, store.CreateInode(op, new InodeInit { Mode = ModeBits.S_IFREG }, out _));
        Assert.Equal(0, op.Changes);
        store.Unpin(first);
    }
}
