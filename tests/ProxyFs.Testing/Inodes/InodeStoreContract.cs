using ProxyFs.Core.FileSystem;
using ProxyFs.Core.FileSystem.Inodes;
using Xunit;

namespace ProxyFs.Testing.Inodes;

/// <summary>
/// The contract of <see cref="IInodeStore"/> as tests: every store (the memory store in each of its modes, the
/// object-store volume) derives a class from this one and passes all of it. Inode objects, records and frees here;
/// directories, data, xattrs and operation scopes in the other parts of the class.
/// </summary>
public abstract partial class InodeStoreContract
{
    protected const uint RegularMode = ModeBits.S_IFREG | 0x1A4;
    protected const uint DirectoryMode = ModeBits.S_IFDIR | 0x1ED;

    /// <summary>
    /// A new, empty store (a root directory only). With <paramref name="evictEagerly"/>, it drops every inode object
    /// as soon as nothing references it (the volume: an inode cache budget of 0); otherwise as it normally does.
    /// </summary>
    protected abstract IInodeStore CreateStore(bool evictEagerly = false);

    /// <summary>
    /// Whether lookups of present names and reads of written data allocate nothing (checked when true). The volume's
    /// store does not meet this yet: its tree lookups allocate a read context and copy values.
    /// </summary>
    protected virtual bool HotPathsAllocateNothing => true;

    [Fact]
    public void Root_is_a_directory_that_is_its_own_parent()
    {
        IInodeStore store = CreateStore();
        Assert.Equal(0, store.Acquire(IFileSystem.RootIno, out Inode root));
        Assert.True(root.IsDirectory);
        Assert.Equal(IFileSystem.RootIno, root.Parent);
        Assert.Equal(2u, root.Nlink);
        Assert.NotNull(root.Directory);
        Assert.True(root.Directory!.IsEmpty);
        store.Unpin(root);
    }

    [Fact]
    public void Created_inodes_have_new_numbers_the_parts_of_their_type_and_the_given_record()
    {
        IInodeStore store = CreateStore();
        var seen = new HashSet<ulong> { IFileSystem.RootIno };
        Timespec time = store.Now();
        (uint Mode, bool Dir, bool Data)[] kinds =
        [
            (RegularMode, false, true),
            (DirectoryMode, true, false),
            (ModeBits.S_IFIFO | 0x1A4, false, false),
            (ModeBits.S_IFCHR | 0x1A4, false, false),
            (ModeBits.S_IFSOCK | 0x1A4, false, false),
        ];
        foreach ((uint mode, bool dir, bool data) in kinds)
        {
            Inode inode = Create(store, new InodeInit { Mode = mode, Uid = 7, Gid = 8, Rdev = 0x0801, Time = time, Parent = dir ? IFileSystem.RootIno : 0 });
            Assert.True(seen.Add(inode.Ino), $"inode number {inode.Ino} given twice");
            Assert.NotEqual(0ul, inode.Generation);
            Assert.Equal(mode, inode.Mode);
            Assert.Equal((7u, 8u, 0x0801u, 0u, 0L), (inode.Uid, inode.Gid, inode.Rdev, inode.Nlink, inode.Size));
            Assert.Equal((time, time, time), (inode.Atime, inode.Mtime, inode.Ctime));
            Assert.Equal(dir, inode.Directory is not null);
            Assert.Equal(data, inode.Data is not null);
            Assert.NotNull(inode.Xattrs);
            store.Unpin(inode);
        }
    }

    [Fact]
    public void A_symlink_keeps_its_target()
    {
        IInodeStore store = CreateStore(evictEagerly: true);
        byte[] target = [.. "../some/where"u8, 0xC3, 0xA9];
        Inode link = Create(store, new InodeInit { Mode = ModeBits.S_IFLNK | 0x1FF, Time = store.Now(), SymlinkTarget = target });
        ulong ino = link.Ino;
        Assert.Equal(target, link.SymlinkTarget);
        store.Unpin(link);
        Assert.Equal(0, store.Acquire(ino, out Inode again));
        Assert.Equal(target, again.SymlinkTarget);
        Assert.Null(again.Data);
        store.Unpin(again);
    }

    [Fact]
    public void Acquire_of_a_number_never_created_is_ENOENT()
    {
        IInodeStore store = CreateStore(evictEagerly: true);
        Assert.Equal(Errno.ENOENT, store.Acquire(999_999, out _));
    }

    [Fact]
    public void A_referenced_object_is_the_one_every_Acquire_returns()
    {
        IInodeStore store = CreateStore(evictEagerly: true);
        Inode inode = Create(store, new InodeInit { Mode = RegularMode, Time = store.Now() });
        lock (inode.Sync)
        {
            inode.Lookups = 1;
        }
        store.Unpin(inode);
        Assert.Equal(0, store.Acquire(inode.Ino, out Inode viaLookup));
        Assert.Same(inode, viaLookup);
        store.Unpin(viaLookup);

        Inode open = Create(store, new InodeInit { Mode = RegularMode, Time = store.Now() });
        lock (open.Sync)
        {
            open.Opens = 1;
        }
        store.Unpin(open);
        store.Pin(open); // an open handle may pin what it keeps
        Assert.Equal(0, store.Acquire(open.Ino, out Inode viaHandle));
        Assert.Same(open, viaHandle);
        store.Unpin(viaHandle);
        store.Unpin(open);
    }

    [Fact]
    public void An_unreferenced_object_comes_back_from_its_record()
    {
        IInodeStore store = CreateStore(evictEagerly: true);
        Inode inode = Create(store, new InodeInit { Mode = DirectoryMode, Uid = 3, Gid = 4, Time = store.Now(), Parent = IFileSystem.RootIno });
        ulong generation = inode.Generation;
        InodeRecord expected;
        using (InodeOperation op = store.BeginOperation(OperationKind.SetAttr))
        {
            lock (inode.Sync)
            {
                inode.Mode = ModeBits.S_IFDIR | 0x3C0;
                inode.Nlink = 2;
                inode.Size = 40;
                inode.Mtime = new Timespec(12345, 678);
                inode.Parent = 77;
                store.Update(op, inode);
                op.Commit();
                expected = inode.Snapshot();
            }
        }
        lock (inode.Sync)
        {
            inode.Atime = new Timespec(99999, 1);
            store.UpdateAtime(inode);
            expected.Atime = inode.Atime;
        }
        store.Unpin(inode);
        Assert.Equal(0, store.Acquire(inode.Ino, out Inode again));
        Assert.NotSame(inode, again); // evicted eagerly: a new object
        Assert.Equal(expected, again.Snapshot());
        Assert.Equal(generation, again.Generation);
        Assert.Equal(0ul, again.Lookups);
        store.Unpin(again);
    }

    [Fact]
    public void Parts_survive_eviction()
    {
        IInodeStore store = CreateStore(evictEagerly: true);
        Inode dir = Create(store, new InodeInit { Mode = DirectoryMode, Time = store.Now(), Parent = IFileSystem.RootIno });
        Inode file = Create(store, new InodeInit { Mode = RegularMode, Time = store.Now() });
        using (InodeOperation op = store.BeginOperation(OperationKind.Create))
        {
            dir.Directory!.Add(op, "f"u8, file.Ino, ModeBits.S_IFREG);
            lock (file.Sync)
            {
                Assert.Equal(0, file.Data!.Write(op, 4096, "data"u8));
                Assert.Equal(0, file.Xattrs.Set(op, "user.k"u8, "v"u8, XattrFlags.None));
                file.Size = 4100;
                store.Update(op, file);
                op.Commit();
            }
        }
        store.Unpin(dir);
        store.Unpin(file);
        Assert.Equal(0, store.Acquire(dir.Ino, out Inode dirAgain));
        Assert.True(dirAgain.Directory!.TryFind("f"u8, out DirectoryEntry entry));
        Assert.Equal(file.Ino, entry.Ino);
        Assert.Equal(0, store.Acquire(file.Ino, out Inode fileAgain));
        lock (fileAgain.Sync)
        {
            byte[] back = new byte[4];
            fileAgain.Data!.Read(4096, back);
            Assert.Equal("data"u8.ToArray(), back);
            Assert.Equal(1, fileAgain.Xattrs.Get("user.k"u8, Span<byte>.Empty));
        }
        store.Unpin(dirAgain);
        store.Unpin(fileAgain);
    }

    [Fact]
    public void A_freed_inode_is_gone_and_its_number_is_not_given_again()
    {
        IInodeStore store = CreateStore(evictEagerly: true);
        Inode inode = Create(store, new InodeInit { Mode = RegularMode, Time = store.Now() });
        ulong ino = inode.Ino;
        using (InodeOperation op = store.BeginOperation(OperationKind.Unlink))
        {
            lock (inode.Sync)
            {
                Assert.Equal(0, inode.Data!.Write(op, 0, new byte[10000]));
                inode.Freed = true;
                store.Free(op, inode);
            }
            op.Commit();
        }
        store.Unpin(inode);
        Assert.Equal(Errno.ENOENT, store.Acquire(ino, out _));
        for (int i = 0; i < 50; i++)
        {
            Inode next = Create(store, new InodeInit { Mode = RegularMode, Time = store.Now() });
            Assert.NotEqual(ino, next.Ino);
            store.Unpin(next);
        }
    }

    [Fact]
    public void The_clock_strictly_increases()
    {
        IInodeStore store = CreateStore();
        Timespec last = store.Now();
        for (int i = 0; i < 10_000; i++)
        {
            Timespec now = store.Now();
            Assert.True(now > last, $"{now} after {last}");
            last = now;
        }
    }

    [Fact]
    public void Stats_and_limits_are_sane()
    {
        IInodeStore store = CreateStore();
        store.GetStats(out FsStats stats);
        Assert.True(stats.BlockSize > 0 && stats.Blocks >= stats.BlocksFree && stats.Files >= stats.FilesFree);
        Assert.True(store.Limits.MaxFileSize > 0 && store.Limits.BlockSize > 0);
        Assert.True(store.HasRoomForInode);
    }

    [Fact]
    public void Sync_hooks_succeed_on_a_quiet_store()
    {
        IInodeStore store = CreateStore();
        Inode file = Create(store, new InodeInit { Mode = RegularMode, Time = store.Now() });
        Assert.Equal(0, store.Acquire(IFileSystem.RootIno, out Inode root));
        Assert.Equal(0, store.Flush(file));
        Assert.Equal(0, store.Fsync(file, dataOnly: false));
        Assert.Equal(0, store.Fsync(file, dataOnly: true));
        Assert.Equal(0, store.FsyncDirectory(root, dataOnly: false));
        Assert.Equal(0, store.SyncAll());
        store.HandleReleased(file);
        store.Unpin(root);
        store.Unpin(file);
    }

    /// <summary>Creates an inode in its own committed scope; returned pinned.</summary>
    protected static Inode Create(IInodeStore store, in InodeInit init)
    {
        using InodeOperation op = store.BeginOperation(OperationKind.MkNod);
        Assert.Equal(0, store.CreateInode(op, init, out Inode inode));
        op.Commit();
        return inode;
    }

    /// <summary>A new regular file, pinned.</summary>
    protected static Inode CreateFile(IInodeStore store) => Create(store, new InodeInit { Mode = RegularMode, Time = store.Now() });

    /// <summary>A new directory under the root, pinned.</summary>
    protected static Inode CreateDirectory(IInodeStore store) =>
        Create(store, new InodeInit { Mode = DirectoryMode, Time = store.Now(), Parent = IFileSystem.RootIno });
}
