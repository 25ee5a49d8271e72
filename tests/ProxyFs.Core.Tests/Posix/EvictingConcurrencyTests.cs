using ProxyFs.Core.FileSystem;
using ProxyFs.Core.Tests.Memory;

namespace ProxyFs.Core.Tests.Posix;

/// <summary>
/// Many threads on the layer over the evicting store: inode objects come and go under creates, renames, lookups,
/// listings and removals, and every file stays reachable once with its data.
/// </summary>
public sealed class EvictingConcurrencyTests
{
    [Fact]
    public void Creates_writes_lookups_and_unlinks_from_four_threads()
    {
        var evicting = new EvictingStore();
        IFileSystem fs = evicting.Fs;
        ulong[] dirs = new ulong[10];
        for (int d = 0; d < dirs.Length; d++)
        {
            Assert.Equal(0, fs.MkDir(Caller.Root, IFileSystem.RootIno, MemFs.N("d" + d), 0x1FF, 0, out EntryOut dir));
            dirs[d] = dir.Ino;
            fs.Forget(dir.Ino, 1);
        }
        Parallel.For(0, 4, worker =>
        {
            for (int i = worker; i < 2000; i += 4)
            {
                ulong dir = dirs[i % dirs.Length];
                byte[] name = MemFs.N("f" + i);
                Assert.Equal(0, fs.Create(Caller.Root, dir, name, 0x1A4, 0, OpenFlags.O_RDWR, out EntryOut e, out OpenResult o));
                Assert.Equal(0, fs.Write(Caller.Root, e.Ino, o.Handle, 0, BitConverter.GetBytes(i), WriteFlags.None, out _));
                Assert.Equal(0, fs.Release(e.Ino, o.Handle));
                fs.Forget(e.Ino, 1);
                Assert.Equal(0, fs.Lookup(Caller.Root, dir, name, out EntryOut again));
                Assert.Equal(4ul, again.Attr.Size);
                Assert.Equal(0, fs.Open(Caller.Root, again.Ino, OpenFlags.O_RDONLY, out OpenResult r));
                byte[] back = new byte[8];
                Assert.Equal(0, fs.Read(Caller.Root, again.Ino, r.Handle, 0, back, out int n));
                Assert.Equal(i, BitConverter.ToInt32(back, 0));
                Assert.Equal(4, n);
                if (i % 2 == 0)
                {
                    Assert.Equal(0, fs.Unlink(Caller.Root, dir, name)); // still open and looked up
                }
                Assert.Equal(0, fs.Release(again.Ino, r.Handle));
                fs.Forget(again.Ino, 1);
            }
        });
        int listed = 0;
        foreach (ulong dir in dirs)
        {
            Assert.Equal(0, fs.OpenDir(Caller.Root, dir, 0, out OpenResult open));
            var filler = new ListFiller();
            Assert.Equal(0, fs.ReadDirPlus(Caller.Root, dir, open.Handle, 0, filler));
            listed += filler.Entries.Count - 2;
            foreach ((string name, ulong ino, _) in filler.Entries.Where(entry => entry.Name is not "." and not ".."))
            {
                fs.Forget(ino, 1);
            }
            Assert.Equal(0, fs.ReleaseDir(dir, open.Handle));
        }
        Assert.Equal(1000, listed);
        Assert.Equal(1 + dirs.Length + 1000, evicting.Store.InodeCount);
        evicting.AssertQuiescent();
    }

    [Fact]
    public void Concurrent_renames_across_directories_and_lookups()
    {
        var evicting = new EvictingStore();
        IFileSystem fs = evicting.Fs;
        Assert.Equal(0, fs.MkDir(Caller.Root, IFileSystem.RootIno, MemFs.N("a"), 0x1FF, 0, out EntryOut a));
        Assert.Equal(0, fs.MkDir(Caller.Root, IFileSystem.RootIno, MemFs.N("b"), 0x1FF, 0, out EntryOut b));
        for (int i = 0; i < 64; i++)
        {
            Assert.Equal(0, fs.MkDir(Caller.Root, a.Ino, MemFs.N("s" + i), 0x1FF, 0, out EntryOut sub));
            fs.Forget(sub.Ino, 1);
        }
        Parallel.For(0, 4, worker =>
        {
            for (int round = 0; round < 500; round++)
            {
                int i = (worker * 16) + (round % 16);
                (ulong from, ulong to) = round / 16 % 2 == 0 ? (a.Ino, b.Ino) : (b.Ino, a.Ino);
                Assert.Equal(0, fs.Rename(Caller.Root, from, MemFs.N("s" + i), to, MemFs.N("s" + i), RenameFlags.NoReplace));
                Assert.Equal(0, fs.Lookup(Caller.Root, to, MemFs.N("s" + i), out EntryOut e));
                Assert.Equal(0, fs.Lookup(Caller.Root, e.Ino, ".."u8, out EntryOut parent));
                Assert.Equal(to, parent.Ino);
                fs.Forget(parent.Ino, 1);
                fs.Forget(e.Ino, 1);
            }
        });
        Assert.Equal(0, fs.GetAttr(Caller.Root, a.Ino, out InodeAttr attrA));
        Assert.Equal(0, fs.GetAttr(Caller.Root, b.Ino, out InodeAttr attrB));
        Assert.Equal(64u + 4, attrA.Nlink + attrB.Nlink); // each subdirectory's ".." and each one's own two
        fs.Forget(a.Ino, 1);
        fs.Forget(b.Ino, 1);
        evicting.AssertQuiescent();
    }

    [Fact]
    public void Attribute_changes_race_with_namespace_changes_of_the_same_inodes()
    {
        var evicting = new EvictingStore();
        IFileSystem fs = evicting.Fs;
        Assert.Equal(0, fs.MkDir(Caller.Root, IFileSystem.RootIno, MemFs.N("d"), 0x1FF, 0, out EntryOut dir));
        Assert.Equal(0, fs.Create(Caller.Root, dir.Ino, MemFs.N("f"), 0x1A4, 0, OpenFlags.O_RDWR, out EntryOut file, out OpenResult open));
        Parallel.For(0, 4, worker =>
        {
            for (int round = 0; round < 3000; round++)
            {
                switch (worker)
                {
                    case 0:
                        Assert.Equal(0, fs.Link(Caller.Root, file.Ino, dir.Ino, MemFs.N("g"), out EntryOut linked));
                        fs.Forget(linked.Ino, 1);
                        Assert.Equal(0, fs.Unlink(Caller.Root, dir.Ino, MemFs.N("g")));
                        break;
                    case 1:
                        var chmod = new SetAttrIn { Fields = SetAttrFields.Mode, Mode = (uint)(0x100 | (round & 0xFF)) };
                        Assert.Equal(0, fs.SetAttr(Caller.Root, file.Ino, chmod, out _));
                        break;
                    case 2:
                        var dirMode = new SetAttrIn { Fields = SetAttrFields.Mode, Mode = (uint)(0x1C0 | (round & 0x3F)) };
                        Assert.Equal(0, fs.SetAttr(Caller.Root, dir.Ino, dirMode, out _));
                        break;
                    default:
                        Assert.Equal(0, fs.Rename(Caller.Root, dir.Ino, MemFs.N("f"), dir.Ino, MemFs.N("h"), RenameFlags.None));
                        Assert.Equal(0, fs.Rename(Caller.Root, dir.Ino, MemFs.N("h"), dir.Ino, MemFs.N("f"), RenameFlags.None));
                        break;
                }
            }
        });
        Assert.Equal(0, fs.GetAttr(Caller.Root, file.Ino, out InodeAttr attr));
        Assert.Equal(1u, attr.Nlink);
        Assert.Equal((uint)(0x100 | (2999 & 0xFF)), attr.Mode & ModeBits.PermissionMask);
        Assert.Equal(0, fs.GetAttr(Caller.Root, dir.Ino, out InodeAttr dirAttr));
        Assert.Equal(3 * 20ul, dirAttr.Size);
        Assert.Equal(0, fs.Release(file.Ino, open.Handle));
        fs.Forget(file.Ino, 1);
        fs.Forget(dir.Ino, 1);
        evicting.AssertQuiescent();
    }
}
