using System.Diagnostics;
using ProxyFs.Core.FileSystem;
using Xunit.Abstractions;

namespace ProxyFs.Core.Tests.Memory;

/// <summary>
/// Large sequential transfers and many creates come back intact. The rates are printed for the record (nothing
/// asserts on time: machines differ).
/// </summary>
public sealed class ThroughputTests(ITestOutputHelper output)
{
    [Fact]
    public void Sequential_megabyte_writes_and_reads_round_trip()
    {
        const int Chunk = 1 << 20;
        const int Chunks = 512;
        var m = new MemFs();
        (ulong ino, ulong h) = m.Create(MemFs.Root, "big");
        byte[] block = new byte[Chunk];
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < Chunks; i++)
        {
            block[0] = (byte)i;
            Assert.Equal(0, m.Fs.Write(Caller.Root, ino, h, (long)i * Chunk, block, WriteFlags.None, out _));
        }
        double write = watch.Elapsed.TotalSeconds;
        watch.Restart();
        for (int i = 0; i < Chunks; i++)
        {
            Assert.Equal(0, m.Fs.Read(Caller.Root, ino, h, (long)i * Chunk, block, out int n));
            Assert.Equal(Chunk, n);
            Assert.Equal((byte)i, block[0]);
        }
        double read = watch.Elapsed.TotalSeconds;
        Assert.Equal((ulong)Chunks * Chunk / 512, m.Attr(ino).Blocks);
        output.WriteLine($"write {Chunks / write:F0} MiB/s, read {Chunks / read:F0} MiB/s");
        m.Fs.Release(ino, h);
    }

    [Fact]
    public void Ten_thousand_creates_stat_and_remove()
    {
        var m = new MemFs();
        var watch = Stopwatch.StartNew();
        ulong[] dirs = Enumerable.Range(0, 100).Select(i => m.MkDir(MemFs.Root, "d" + i)).ToArray();
        for (int i = 0; i < 10_000; i++)
        {
            Assert.Equal(0, m.Fs.Create(Caller.Root, dirs[i % 100], MemFs.N("f" + i), 0x1A4, 0, OpenFlags.O_WRONLY, out EntryOut e, out OpenResult o));
            m.Fs.Write(Caller.Root, e.Ino, o.Handle, 0, new byte[4096], WriteFlags.None, out _);
            m.Fs.Release(e.Ino, o.Handle);
            m.Fs.Forget(e.Ino, 1);
        }
        double create = watch.Elapsed.TotalSeconds;
        for (int i = 0; i < 10_000; i++)
        {
            Assert.Equal(0, m.Fs.Lookup(Caller.Root, dirs[i % 100], MemFs.N("f" + i), out EntryOut e));
            Assert.Equal(4096ul, e.Attr.Size);
            m.Fs.Forget(e.Ino, 1);
            Assert.Equal(0, m.Fs.Unlink(Caller.Root, dirs[i % 100], MemFs.N("f" + i)));
        }
        Assert.Equal(101, m.Fs.InodeCount);
        output.WriteLine($"10,000 creates of 4 KiB files in {create * 1000:F0} ms, stat+remove in {(watch.Elapsed.TotalSeconds - create) * 1000:F0} ms");
    }
}
