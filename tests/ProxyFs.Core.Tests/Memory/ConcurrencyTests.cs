using ProxyFs.Core.FileSystem;

namespace ProxyFs.Core.Tests.Memory;

/// <summary>Many threads at once: the namespace and the data stay consistent.</summary>
public sealed class ConcurrencyTests
{
    [Fact]
    public void Ten_thousand_creates_in_a_hundred_directories_from_four_threads()
    {
        var m = new MemFs();
        ulong[] dirs = Enumerable.Range(0, 100).Select(i => m.MkDir(MemFs.Root, "d" + i)).ToArray();
        Parallel.For(0, 4, worker =>
        {
            for (int i = worker; i < 10_000; i += 4)
            {
                ulong dir = dirs[i % 100];
                Assert.Equal(0, m.Fs.Create(Caller.Root, dir, MemFs.N("f" + i), 0x1A4, 0, OpenFlags.O_WRONLY, out EntryOut e, out OpenResult o));
                Assert.Equal(0, m.Fs.Write(Caller.Root, e.Ino, o.Handle, 0, BitConverter.GetBytes(i), WriteFlags.None, out _));
                Assert.Equal(0, m.Fs.Release(e.Ino, o.Handle));
                m.Fs.Forget(e.Ino, 1);
                Assert.Equal(0, m.Fs.Lookup(Caller.Root, dir, MemFs.N("f" + i), out EntryOut again));
                Assert.Equal(4ul, again.Attr.Size);
                m.Fs.Forget(again.Ino, 1);
            }
        });
        Assert.Equal(1 + 100 + 10_000, m.Fs.InodeCount);
        foreach (ulong dir in dirs)
        {
            Assert.Equal(0, m.Fs.OpenDir(Caller.Root, dir, 0, out OpenResult open));
            var filler = new ListFiller();
            Assert.Equal(0, m.Fs.ReadDir(Caller.Root, dir, open.Handle, 0, filler));
            Assert.Equal(102, filler.Entries.Count);
            m.Fs.ReleaseDir(dir, open.Handle);
        }
    }

    [Fact]
    public void Concurrent_renames_and_lookups_keep_every_file_reachable_once()
    {
        var m = new MemFs();
        ulong a = m.MkDir(MemFs.Root, "a");
        ulong b = m.MkDir(MemFs.Root, "b");
        for (int i = 0; i < 64; i++)
        {
            (ulong ino, ulong h) = m.Create(a, "f" + i);
            m.Fs.Release(ino, h);
        }
        Parallel.For(0, 4, worker =>
        {
            for (int round = 0; round < 500; round++)
            {
                int i = (worker * 16) + (round % 16);
                bool inA = round / 16 % 2 == 0;
                (ulong from, ulong to) = inA ? (a, b) : (b, a);
                Assert.Equal(0, m.Fs.Rename(Caller.Root, from, MemFs.N("f" + i), to, MemFs.N("f" + i), RenameFlags.NoReplace));
                int found = m.Fs.Lookup(Caller.Root, to, MemFs.N("f" + i), out EntryOut e);
                Assert.Equal(0, found);
                m.Fs.Forget(e.Ino, 1);
            }
        });
        int count = 0;
        foreach (ulong dir in new[] { a, b })
        {
            Assert.Equal(0, m.Fs.OpenDir(Caller.Root, dir, 0, out OpenResult open));
            var filler = new ListFiller();
            m.Fs.ReadDir(Caller.Root, dir, open.Handle, 0, filler);
            count += filler.Entries.Count - 2;
            m.Fs.ReleaseDir(dir, open.Handle);
        }
        Assert.Equal(64, count);
    }

    [Fact]
    public void Parallel_writers_to_separate_files_and_one_shared_file()
    {
        var m = new MemFs();
        (ulong shared, ulong sharedHandle) = m.Create(MemFs.Root, "shared");
        Parallel.For(0, 4, worker =>
        {
            (ulong ino, ulong h) = m.Create(MemFs.Root, "own" + worker);
            byte[] block = Enumerable.Repeat((byte)(worker + 1), 65536).ToArray();
            for (int i = 0; i < 64; i++)
            {
                Assert.Equal(0, m.Fs.Write(Caller.Root, ino, h, i * 65536L, block, WriteFlags.None, out _));
                Assert.Equal(0, m.Fs.Write(Caller.Root, shared, sharedHandle, ((i * 4) + worker) * 4096L, block.AsSpan(0, 4096), WriteFlags.None, out _));
            }
            byte[] back = new byte[65536];
            for (int i = 0; i < 64; i++)
            {
                Assert.Equal(0, m.Fs.Read(Caller.Root, ino, h, i * 65536L, back, out int n));
                Assert.Equal(65536, n);
                Assert.All(back, x => Assert.Equal((byte)(worker + 1), x));
            }
            m.Fs.Release(ino, h);
        });
        byte[] all = m.Read(shared, sharedHandle, 0, 64 * 4 * 4096);
        for (int page = 0; page < 256; page++)
        {
            Assert.Equal((byte)((page % 4) + 1), all[page * 4096]);
        }
        m.Fs.Release(shared, sharedHandle);
    }
}
