using ProxyFs.Core.FileSystem;

namespace ProxyFs.Core.Tests.Memory;

/// <summary>Lookup counts: who adds, Forget takes away, and when an inode is finally freed.</summary>
public sealed class LookupCountTests
{
    [Fact]
    public void Creation_and_lookup_each_add_one()
    {
        var m = new MemFs();
        (ulong ino, ulong handle) = m.Create(MemFs.Root, "f");
        Assert.Equal(1, m.Fs.LookupCount(ino));
        Assert.Equal(0, m.Fs.Lookup(MemFs.RootCaller, MemFs.Root, MemFs.N("f"), out _));
        Assert.Equal(0, m.Fs.Lookup(MemFs.RootCaller, MemFs.Root, MemFs.N("f"), out _));
        Assert.Equal(3, m.Fs.LookupCount(ino));
        Assert.Equal(0, m.Fs.Link(MemFs.RootCaller, ino, MemFs.Root, MemFs.N("g"), out _));
        Assert.Equal(4, m.Fs.LookupCount(ino));
        m.Fs.Forget(ino, 3);
        Assert.Equal(1, m.Fs.LookupCount(ino));
        m.Fs.Release(ino, handle);
    }

    [Fact]
    public void Failed_lookup_adds_nothing()
    {
        var m = new MemFs();
        (ulong ino, ulong handle) = m.Create(MemFs.Root, "f");
        Assert.Equal(Errno.ENOENT, m.Fs.Lookup(MemFs.RootCaller, MemFs.Root, MemFs.N("missing"), out _));
        Assert.Equal(Errno.ENOTDIR, m.Fs.Lookup(MemFs.RootCaller, ino, MemFs.N("x"), out _));
        Assert.Equal(1, m.Fs.LookupCount(ino));
        m.Fs.Release(ino, handle);
    }

    [Fact]
    public void Linked_inode_survives_forget()
    {
        var m = new MemFs();
        (ulong ino, ulong handle) = m.Create(MemFs.Root, "f");
        m.Fs.Release(ino, handle);
        m.Fs.Forget(ino, 1);
        Assert.Equal(0, m.Fs.LookupCount(ino));
        Assert.Equal(0, m.Fs.GetAttr(MemFs.RootCaller, ino, out _));
    }

    [Fact]
    public void Unlinked_inode_lives_until_the_last_forget()
    {
        var m = new MemFs();
        (ulong ino, ulong handle) = m.Create(MemFs.Root, "f");
        m.Fs.Release(ino, handle);
        long before = m.Fs.InodeCount;
        Assert.Equal(0, m.Fs.Unlink(MemFs.RootCaller, MemFs.Root, MemFs.N("f")));
        Assert.Equal(0, m.Fs.GetAttr(MemFs.RootCaller, ino, out InodeAttr attr));
        Assert.Equal(0u, attr.Nlink);
        m.Fs.Forget(ino, 1);
        Assert.Equal(Errno.ENOENT, m.Fs.GetAttr(MemFs.RootCaller, ino, out _));
        Assert.Equal(before - 1, m.Fs.InodeCount);
    }

    [Fact]
    public void Forget_past_zero_clamps_and_root_is_never_freed()
    {
        var m = new MemFs();
        (ulong ino, ulong handle) = m.Create(MemFs.Root, "f");
        m.Fs.Release(ino, handle);
        m.Fs.Forget(ino, 100);
        Assert.Equal(0, m.Fs.LookupCount(ino));
        m.Fs.Forget(MemFs.Root, 1000);
        Assert.Equal(0, m.Fs.GetAttr(MemFs.RootCaller, MemFs.Root, out _));
        m.Fs.Forget(999_999, 1); // unknown inodes are ignored
    }

    [Fact]
    public void ReadDirPlus_counts_every_accepted_entry_but_dots()
    {
        var m = new MemFs();
        ulong dir = m.MkDir(MemFs.Root, "d");
        var files = new List<ulong>();
        for (int i = 0; i < 5; i++)
        {
            (ulong ino, ulong handle) = m.Create(dir, "f" + i);
            m.Fs.Release(ino, handle);
            m.Fs.Forget(ino, 1);
            files.Add(ino);
        }
        Assert.Equal(0, m.Fs.OpenDir(MemFs.RootCaller, dir, 0, out OpenResult open));
        var filler = new ListFiller(4);
        Assert.Equal(0, m.Fs.ReadDirPlus(MemFs.RootCaller, dir, open.Handle, 0, filler));
        Assert.Equal([".", "..", "f0", "f1"], filler.Entries.Select(e => e.Name));
        Assert.Equal(1, m.Fs.LookupCount(files[0]));
        Assert.Equal(1, m.Fs.LookupCount(files[1]));
        Assert.Equal(0, m.Fs.LookupCount(files[2]));
        Assert.Equal(1, m.Fs.LookupCount(dir)); // "." is not counted
        m.Fs.ReleaseDir(dir, open.Handle);
    }

    [Fact]
    public void Replaced_rename_target_is_freed_when_unreferenced()
    {
        var m = new MemFs();
        (ulong a, ulong ha) = m.Create(MemFs.Root, "a");
        (ulong b, ulong hb) = m.Create(MemFs.Root, "b");
        m.Fs.Release(a, ha);
        m.Fs.Release(b, hb);
        m.Fs.Forget(b, 1);
        Assert.Equal(0, m.Fs.Rename(MemFs.RootCaller, MemFs.Root, MemFs.N("a"), MemFs.Root, MemFs.N("b"), RenameFlags.None));
        Assert.Equal(Errno.ENOENT, m.Fs.GetAttr(MemFs.RootCaller, b, out _));
        Assert.Equal(0, m.Fs.GetAttr(MemFs.RootCaller, a, out _));
    }
}
