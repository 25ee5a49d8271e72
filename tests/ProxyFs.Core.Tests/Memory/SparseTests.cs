using ProxyFs.Core.FileSystem;
using ProxyFs.Core.FileSystem.Memory;

namespace ProxyFs.Core.Tests.Memory;

/// <summary>Sparse files, fallocate modes (ZERO_RANGE included, which tmpfs lacks) and capacity.</summary>
public sealed class SparseTests
{
    private const long Tb = 1L << 40;

    [Fact]
    public void Terabyte_sparse_file_costs_one_page_per_write()
    {
        var m = new MemFs();
        (ulong ino, ulong h) = m.Create(MemFs.Root, "f");
        Assert.Equal(0, m.Fs.SetAttr(Caller.Root, ino, new SetAttrIn { Fields = SetAttrFields.Size, Size = Tb }, out InodeAttr attr));
        Assert.Equal(0ul, attr.Blocks);
        m.Write(ino, h, Tb - 10, [1, 2, 3]);
        Assert.Equal(8ul, m.Attr(ino).Blocks);
        Assert.Equal(new byte[5], m.Read(ino, h, Tb / 3, 5));
        Assert.Equal(0, m.Fs.Lseek(Caller.Root, ino, h, 0, SeekWhence.Data, out long data));
        Assert.Equal(Tb - 4096, data);
        Assert.Equal(0, m.Fs.Lseek(Caller.Root, ino, h, Tb - 10, SeekWhence.Hole, out long hole));
        Assert.Equal(Tb, hole);
        Assert.Equal(Errno.ENXIO, m.Fs.Lseek(Caller.Root, ino, h, Tb, SeekWhence.Data, out _));
        m.Fs.Release(ino, h);
    }

    [Fact]
    public void Zero_range_zeroes_and_allocates()
    {
        var m = new MemFs();
        (ulong ino, ulong h) = m.Create(MemFs.Root, "f");
        byte[] ones = Enumerable.Repeat((byte)1, 20000).ToArray();
        m.Write(ino, h, 0, ones);
        Assert.Equal(0, m.Fs.Fallocate(Caller.Root, ino, h, FallocateMode.ZeroRange, 100, 10000));
        byte[] back = m.Read(ino, h, 0, 20000);
        Assert.All(back[100..10100], b => Assert.Equal(0, b));
        Assert.Equal(1, back[99]);
        Assert.Equal(1, back[10100]);
        Assert.Equal(40ul, m.Attr(ino).Blocks); // five pages, all still allocated
        Assert.Equal(0, m.Fs.Fallocate(Caller.Root, ino, h, FallocateMode.ZeroRange, 30000, 5000));
        Assert.Equal(35000ul, m.Attr(ino).Size);
        Assert.Equal(0, m.Fs.Fallocate(Caller.Root, ino, h, FallocateMode.ZeroRange | FallocateMode.KeepSize, 50000, 5000));
        Assert.Equal(35000ul, m.Attr(ino).Size);
        m.Fs.Release(ino, h);
    }

    [Fact]
    public void Punch_hole_needs_keep_size()
    {
        var m = new MemFs();
        (ulong ino, ulong h) = m.Create(MemFs.Root, "f");
        m.Write(ino, h, 0, new byte[8192]);
        Assert.Equal(Errno.EOPNOTSUPP, m.Fs.Fallocate(Caller.Root, ino, h, FallocateMode.PunchHole, 0, 4096));
        Assert.Equal(0, m.Fs.Fallocate(Caller.Root, ino, h, FallocateMode.PunchHole | FallocateMode.KeepSize, 0, 4096));
        Assert.Equal(8ul, m.Attr(ino).Blocks);
        Assert.Equal(Errno.EOPNOTSUPP, m.Fs.Fallocate(Caller.Root, ino, h, FallocateMode.InsertRange, 0, 4096));
        m.Fs.Release(ino, h);
    }

    [Fact]
    public void Capacity_is_enforced_and_reported()
    {
        var m = new MemFs(new MemoryFileSystemOptions { CapacityBytes = 1 << 20, MaxInodes = 4 });
        Assert.Equal(0, m.Fs.StatFs(Caller.Root, MemFs.Root, out FsStats stats));
        Assert.Equal(256ul, stats.Blocks);
        Assert.Equal(4096u, stats.BlockSize);
        Assert.Equal(255u, stats.NameMax);
        (ulong ino, ulong h) = m.Create(MemFs.Root, "f");
        Assert.Equal(Errno.ENOSPC, m.Fs.Write(Caller.Root, ino, h, 0, new byte[(1 << 20) + 1], WriteFlags.None, out _));
        m.Write(ino, h, 0, new byte[1 << 20]);
        Assert.Equal(0, m.Fs.StatFs(Caller.Root, MemFs.Root, out stats));
        Assert.Equal(0ul, stats.BlocksFree);
        Assert.Equal(Errno.ENOSPC, m.Fs.Fallocate(Caller.Root, ino, h, 0, 1 << 20, 4096));
        m.Create(MemFs.Root, "g");
        m.Create(MemFs.Root, "h");
        Assert.Equal(Errno.ENOSPC, m.Fs.MkDir(Caller.Root, MemFs.Root, MemFs.N("full"), 0x1ED, 0, out _));
        Assert.Equal(0, m.Fs.SetAttr(Caller.Root, ino, new SetAttrIn { Fields = SetAttrFields.Size, Size = 0 }, out _));
        Assert.Equal(0, m.Fs.StatFs(Caller.Root, MemFs.Root, out stats));
        Assert.Equal(256ul, stats.BlocksFree);
    }

    [Fact]
    public void Max_file_size_gives_EFBIG()
    {
        var m = new MemFs(new MemoryFileSystemOptions { MaxFileSize = 10000 });
        (ulong ino, ulong h) = m.Create(MemFs.Root, "f");
        Assert.Equal(Errno.EFBIG, m.Fs.Write(Caller.Root, ino, h, 10000, "x"u8, WriteFlags.None, out _));
        Assert.Equal(0, m.Fs.Write(Caller.Root, ino, h, 9998, "xyz"u8, WriteFlags.None, out int n));
        Assert.Equal(2, n);
        Assert.Equal(Errno.EFBIG, m.Fs.SetAttr(Caller.Root, ino, new SetAttrIn { Fields = SetAttrFields.Size, Size = 10001 }, out _));
        m.Fs.Release(ino, h);
    }
}
