using ProxyFs.Core.FileSystem;
using ProxyFs.Core.FileSystem.Memory;

namespace ProxyFs.Core.Tests.Memory;

/// <summary>Rename flags, link limits and name rules through the inode API.</summary>
public sealed class NamespaceTests
{
    [Fact]
    public void Whiteout_and_bad_flag_combinations_are_EINVAL()
    {
        var m = new MemFs();
        (ulong ino, ulong h) = m.Create(MemFs.Root, "a");
        m.Fs.Release(ino, h);
        Assert.Equal(Errno.EINVAL, m.Fs.Rename(Caller.Root, MemFs.Root, MemFs.N("a"), MemFs.Root, MemFs.N("b"), RenameFlags.Whiteout));
        Assert.Equal(Errno.EINVAL, m.Fs.Rename(Caller.Root, MemFs.Root, MemFs.N("a"), MemFs.Root, MemFs.N("b"), RenameFlags.Exchange | RenameFlags.NoReplace));
    }

    [Fact]
    public void Exchange_of_directory_and_file_moves_parent_links()
    {
        var m = new MemFs();
        ulong p1 = m.MkDir(MemFs.Root, "p1");
        ulong p2 = m.MkDir(MemFs.Root, "p2");
        ulong dir = m.MkDir(p1, "dir");
        (ulong file, ulong h) = m.Create(p2, "file");
        m.Fs.Release(file, h);
        Assert.Equal(3u, m.Attr(p1).Nlink);
        Assert.Equal(2u, m.Attr(p2).Nlink);
        Assert.Equal(0, m.Fs.Rename(Caller.Root, p1, MemFs.N("dir"), p2, MemFs.N("file"), RenameFlags.Exchange));
        Assert.Equal(2u, m.Attr(p1).Nlink);
        Assert.Equal(3u, m.Attr(p2).Nlink);
        Assert.Equal(0, m.Fs.Lookup(Caller.Root, dir, MemFs.N(".."), out EntryOut parent));
        Assert.Equal(p2, parent.Ino);
    }

    [Fact]
    public void Link_limit_gives_EMLINK()
    {
        var m = new MemFs(new MemoryFileSystemOptions { MaxLinks = 3 });
        (ulong ino, ulong h) = m.Create(MemFs.Root, "f");
        m.Fs.Release(ino, h);
        Assert.Equal(0, m.Fs.Link(Caller.Root, ino, MemFs.Root, MemFs.N("g"), out _));
        Assert.Equal(0, m.Fs.Link(Caller.Root, ino, MemFs.Root, MemFs.N("h"), out _));
        Assert.Equal(Errno.EMLINK, m.Fs.Link(Caller.Root, ino, MemFs.Root, MemFs.N("i"), out _));
        ulong d = m.MkDir(MemFs.Root, "d");
        m.MkDir(d, "s");
        Assert.Equal(Errno.EMLINK, m.Fs.MkDir(Caller.Root, d, MemFs.N("t"), 0x1ED, 0, out _));
    }

    [Fact]
    public void Names_are_raw_bytes_of_at_most_255()
    {
        var m = new MemFs();
        byte[] latin1 = [0xE9, 0xFF, 0x80];
        Assert.Equal(0, m.Fs.MkDir(Caller.Root, MemFs.Root, latin1, 0x1ED, 0, out EntryOut made));
        Assert.Equal(0, m.Fs.Lookup(Caller.Root, MemFs.Root, latin1, out EntryOut found));
        Assert.Equal(made.Ino, found.Ino);
        Assert.Equal(Errno.ENAMETOOLONG, m.Fs.Lookup(Caller.Root, MemFs.Root, new byte[256], out _));
        Assert.Equal(Errno.ENAMETOOLONG, m.Fs.MkDir(Caller.Root, MemFs.Root, new byte[300], 0x1ED, 0, out _));
        Assert.Equal(Errno.EINVAL, m.Fs.MkDir(Caller.Root, MemFs.Root, "a/b"u8, 0x1ED, 0, out _));
    }

    [Fact]
    public void Injected_clock_drives_timestamps()
    {
        long tick = 100;
        var m = new MemFs(new MemoryFileSystemOptions { Clock = () => new Timespec(Interlocked.Increment(ref tick), 0) });
        (ulong ino, ulong h) = m.Create(MemFs.Root, "f");
        Timespec created = m.Attr(ino).Mtime;
        m.Write(ino, h, 0, [1]);
        InodeAttr after = m.Attr(ino);
        Assert.True(after.Mtime > created);
        Assert.Equal(after.Mtime, after.Ctime);
        m.Fs.Release(ino, h);
    }
}
