using ProxyFs.Core.FileSystem;
using ProxyFs.Core.FileSystem.Inodes;
using Xunit;

namespace ProxyFs.Testing.Inodes;

/// <summary>Operation scopes: one per thread, changes only inside an active, uncommitted scope of the same store.</summary>
public abstract partial class InodeStoreContract
{
    [Fact]
    public void Scopes_do_not_nest()
    {
        IInodeStore store = CreateStore();
        using (InodeOperation op = store.BeginOperation(OperationKind.Rename))
        {
            Assert.Throws<InvalidOperationException>(() => store.BeginOperation(OperationKind.Link));
            Assert.True(op.IsActive);
            Assert.Equal(OperationKind.Rename, op.Kind);
            op.Commit();
        }
        using InodeOperation next = store.BeginOperation(OperationKind.Link); // the thread is free again
        Assert.Equal(OperationKind.Link, next.Kind);
        next.Commit();
    }

    [Fact]
    public void Every_change_counts_and_no_change_is_taken_after_commit_or_dispose()
    {
        IInodeStore store = CreateStore();
        Inode dir = CreateDirectory(store);
        InodeOperation op = store.BeginOperation(OperationKind.MkNod);
        Assert.Equal(0, op.Changes);
        dir.Directory!.Add(op, "a"u8, 10, ModeBits.S_IFREG);
        lock (dir.Sync)
        {
            dir.Size += 20;
            store.Update(op, dir);
            Assert.Equal(2, op.Changes);
            op.Commit();
        }
        Assert.True(op.IsCommitted);
        Assert.Throws<InvalidOperationException>(() => dir.Directory.Add(op, "b"u8, 11, ModeBits.S_IFREG));
        Assert.Throws<InvalidOperationException>(op.Commit);
        op.Dispose();
        Assert.False(op.IsActive);
        Assert.Throws<InvalidOperationException>(() => dir.Directory.Remove(op, "a"u8));
        Assert.True(dir.Directory.TryFind("a"u8, out _));
        Assert.False(dir.Directory.TryFind("b"u8, out _));
        op.Dispose(); // a second Dispose is harmless
        store.Unpin(dir);
    }

    [Fact]
    public void Refused_changes_record_nothing()
    {
        IInodeStore store = CreateStore();
        Inode file = CreateFile(store);
        using InodeOperation op = store.BeginOperation(OperationKind.SetXattr);
        lock (file.Sync)
        {
            Assert.Equal(Errno.ENODATA, file.Xattrs.Set(op, "user.none"u8, "x"u8, XattrFlags.Replace));
            Assert.False(file.Xattrs.Remove(op, "user.none"u8));
        }
        Assert.Equal(0, op.Changes);
        store.Unpin(file);
    }

    [Fact]
    public void A_scope_belongs_to_its_thread_and_its_store()
    {
        IInodeStore store = CreateStore();
        IInodeStore other = CreateStore();
        Inode dir = CreateDirectory(store);
        using InodeOperation foreign = other.BeginOperation(OperationKind.MkNod);
        Assert.Throws<InvalidOperationException>(() => dir.Directory!.Add(foreign, "x"u8, 10, ModeBits.S_IFREG));
        Exception? fromThread = null;
        var thread = new Thread(() => fromThread = Record.Exception(() => foreign.Commit()));
        thread.Start();
        thread.Join();
        Assert.IsType<InvalidOperationException>(fromThread);
        foreign.Commit();
        Assert.False(dir.Directory!.TryFind("x"u8, out _));
        store.Unpin(dir);
    }

    [Fact]
    public void A_scope_may_commit_nothing()
    {
        IInodeStore store = CreateStore();
        using InodeOperation op = store.BeginOperation(OperationKind.Forget);
        op.Commit();
        Assert.Equal(0, op.Changes);
    }
}
