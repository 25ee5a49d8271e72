using ProxyFs.Core.FileSystem;

namespace ProxyFs.Core.Tests.Memory;

/// <summary>Readdir offsets (cookies) stay valid while the directory changes.</summary>
public sealed class ReadDirTests
{
    private static List<(string Name, ulong Ino, long Next)> Batch(MemFs m, ulong dir, ulong handle, long offset, int capacity)
    {
        var filler = new ListFiller(capacity);
        Assert.Equal(0, m.Fs.ReadDir(MemFs.RootCaller, dir, handle, offset, filler));
        return filler.Entries;
    }

    [Fact]
    public void Dots_come_first_and_offsets_resume()
    {
        var m = new MemFs();
        ulong dir = m.MkDir(MemFs.Root, "d");
        m.MkDir(dir, "a");
        m.MkDir(dir, "b");
        Assert.Equal(0, m.Fs.OpenDir(MemFs.RootCaller, dir, 0, out OpenResult open));
        var first = Batch(m, dir, open.Handle, 0, 1);
        Assert.Equal(".", first.Single().Name);
        Assert.Equal(dir, first[0].Ino);
        var second = Batch(m, dir, open.Handle, first[0].Next, 1);
        Assert.Equal("..", second.Single().Name);
        Assert.Equal(MemFs.Root, second[0].Ino);
        var rest = Batch(m, dir, open.Handle, second[0].Next, 10);
        Assert.Equal(["a", "b"], rest.Select(e => e.Name));
        Assert.Empty(Batch(m, dir, open.Handle, rest[^1].Next, 10));
        m.Fs.ReleaseDir(dir, open.Handle);
    }

    [Fact]
    public void Entries_present_throughout_are_listed_exactly_once_under_mutation()
    {
        var m = new MemFs();
        ulong dir = m.MkDir(MemFs.Root, "d");
        for (int i = 0; i < 500; i++)
        {
            (ulong ino, ulong h) = m.Create(dir, $"keep{i}");
            m.Fs.Release(ino, h);
            (ino, h) = m.Create(dir, $"drop{i}");
            m.Fs.Release(ino, h);
        }
        Assert.Equal(0, m.Fs.OpenDir(MemFs.RootCaller, dir, 0, out OpenResult open));
        var seen = new Dictionary<string, int>();
        long offset = 0;
        int round = 0;
        while (true)
        {
            var batch = Batch(m, dir, open.Handle, offset, 13);
            if (batch.Count == 0)
            {
                break;
            }
            foreach (var entry in batch)
            {
                seen[entry.Name] = seen.GetValueOrDefault(entry.Name) + 1;
            }
            offset = batch[^1].Next;
            // Between batches: remove some entries (seen or not), add new ones.
            for (int k = 0; k < 20; k++)
            {
                m.Fs.Unlink(MemFs.RootCaller, dir, MemFs.N($"drop{((round * 20) + k) % 500}"));
            }
            if (round < 30)
            {
                (ulong ino, ulong h) = m.Create(dir, $"new{round}");
                m.Fs.Release(ino, h);
            }
            round++;
        }
        for (int i = 0; i < 500; i++)
        {
            Assert.Equal(1, seen.GetValueOrDefault($"keep{i}"));
        }
        Assert.All(seen.Values, count => Assert.Equal(1, count));
        m.Fs.ReleaseDir(dir, open.Handle);
    }

    [Fact]
    public void Removed_directory_lists_nothing()
    {
        var m = new MemFs();
        ulong dir = m.MkDir(MemFs.Root, "d");
        Assert.Equal(0, m.Fs.OpenDir(MemFs.RootCaller, dir, 0, out OpenResult open));
        Assert.Equal(0, m.Fs.RmDir(MemFs.RootCaller, MemFs.Root, MemFs.N("d")));
        Assert.Empty(Batch(m, dir, open.Handle, 0, 10));
        Assert.Equal(Errno.ENOENT, m.Fs.MkDir(MemFs.RootCaller, dir, MemFs.N("x"), 0x1ED, 0, out _));
        m.Fs.ReleaseDir(dir, open.Handle);
    }
}
