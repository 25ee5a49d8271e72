using System.Text;
using ProxyFs.Core.FileSystem;
using ProxyFs.Core.FileSystem.Inodes;
using Xunit;

namespace ProxyFs.Testing.Inodes;

/// <summary>Directories: finding names without allocating, cookies that are stable, ordered and never reused.</summary>
public abstract partial class InodeStoreContract
{
    [Fact]
    public void Entries_are_found_by_name_with_their_inode_type_and_cookie()
    {
        IInodeStore store = CreateStore();
        Inode dir = CreateDirectory(store);
        IDirectory entries = dir.Directory!;
        byte[] longName = Enumerable.Repeat((byte)'n', 255).ToArray();
        byte[] binaryName = [0xFF, 0x80, 0x01, (byte)'x'];
        long a;
        long b;
        long c;
        using (InodeOperation op = store.BeginOperation(OperationKind.MkNod))
        {
            a = entries.Add(op, "a"u8, 100, ModeBits.S_IFREG);
            b = entries.Add(op, longName, 101, ModeBits.S_IFDIR);
            c = entries.Add(op, binaryName, 102, ModeBits.S_IFLNK);
            op.Commit();
        }
        Assert.True(a > 2 && b > a && c > b, $"cookies {a} {b} {c}: above 2 and increasing");
        Assert.True(entries.TryFind("a"u8, out DirectoryEntry ea));
        Assert.Equal(new DirectoryEntry(100, ModeBits.S_IFREG, a), ea);
        Assert.True(entries.TryFind(longName, out DirectoryEntry eb));
        Assert.Equal(new DirectoryEntry(101, ModeBits.S_IFDIR, b), eb);
        Assert.True(entries.TryFind(binaryName, out DirectoryEntry ec));
        Assert.Equal(new DirectoryEntry(102, ModeBits.S_IFLNK, c), ec);
        Assert.False(entries.TryFind("A"u8, out _));
        Assert.False(entries.TryFind("a\0"u8, out _));
        Assert.Equal(3, entries.Count);
        Assert.False(entries.IsEmpty);
        store.Unpin(dir);
    }

    [Fact]
    public void Finding_a_present_name_allocates_nothing()
    {
        IInodeStore store = CreateStore();
        Inode dir = CreateDirectory(store);
        using (InodeOperation op = store.BeginOperation(OperationKind.MkNod))
        {
            for (int i = 0; i < 1000; i++)
            {
                dir.Directory!.Add(op, Name(i), (ulong)(i + 10), ModeBits.S_IFREG);
            }
            op.Commit();
        }
        byte[] name = Name(500);
        bool found = true;
        for (int i = 0; i < 100; i++)
        {
            found &= dir.Directory!.TryFind(name, out _);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            found &= dir.Directory!.TryFind(name, out _);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (HotPathsAllocateNothing)
        {
            Assert.Equal(0, allocated);
        }
        Assert.True(found);
        store.Unpin(dir);
    }

    [Fact]
    public void Cookies_stay_with_their_entries_under_interleaved_adds_and_removes()
    {
        IInodeStore store = CreateStore();
        Inode dir = CreateDirectory(store);
        IDirectory entries = dir.Directory!;
        var expected = new Dictionary<string, (ulong Ino, long Cookie)>();
        var given = new HashSet<long>();
        long last = 2;
        var random = new Random(12345);
        for (int round = 0; round < 4000; round++)
        {
            using InodeOperation op = store.BeginOperation(OperationKind.Rename);
            if (expected.Count > 0 && random.Next(3) == 0)
            {
                string victim = expected.Keys.ElementAt(random.Next(expected.Count));
                entries.Remove(op, Encoding.UTF8.GetBytes(victim));
                expected.Remove(victim);
            }
            else
            {
                string name = "e" + random.Next(3000).ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (!expected.ContainsKey(name))
                {
                    ulong ino = (ulong)(round + 10);
                    long cookie = entries.Add(op, Encoding.UTF8.GetBytes(name), ino, ModeBits.S_IFREG);
                    Assert.True(given.Add(cookie), $"cookie {cookie} given twice");
                    Assert.True(cookie > last, $"cookie {cookie} after {last}: cookies increase with each add");
                    last = cookie;
                    expected[name] = (ino, cookie);
                }
            }
            op.Commit();
        }
        List<(string Name, DirectoryEntry Entry)> listed = Enumerate(entries, 0);
        Assert.Equal(expected.Count, entries.Count);
        Assert.Equal(expected.Count, listed.Count);
        Assert.Equal(listed.Select(e => e.Entry.Cookie).Order(), listed.Select(e => e.Entry.Cookie));
        foreach ((string name, DirectoryEntry entry) in listed)
        {
            Assert.Equal(expected[name], (entry.Ino, entry.Cookie));
            Assert.True(entries.TryFind(Encoding.UTF8.GetBytes(name), out DirectoryEntry found));
            Assert.Equal(entry, found);
        }
        store.Unpin(dir);
    }

    [Fact]
    public void Enumeration_resumes_after_any_cookie_even_one_whose_entry_is_gone()
    {
        IInodeStore store = CreateStore();
        Inode dir = CreateDirectory(store);
        IDirectory entries = dir.Directory!;
        var cookies = new List<long>();
        using (InodeOperation op = store.BeginOperation(OperationKind.MkNod))
        {
            for (int i = 0; i < 300; i++)
            {
                cookies.Add(entries.Add(op, Name(i), (ulong)(i + 10), ModeBits.S_IFREG));
            }
            op.Commit();
        }
        using (InodeOperation op = store.BeginOperation(OperationKind.Unlink))
        {
            for (int i = 0; i < 300; i += 3)
            {
                entries.Remove(op, Name(i));
            }
            op.Commit();
        }
        for (int i = 0; i < 300; i += 7)
        {
            List<(string Name, DirectoryEntry Entry)> after = Enumerate(entries, cookies[i]);
            int[] expected = Enumerable.Range(i + 1, 299 - i).Where(k => k % 3 != 0).ToArray();
            Assert.Equal(expected.Select(k => Encoding.UTF8.GetString(Name(k))), after.Select(e => e.Name));
        }
        Assert.Empty(Enumerate(entries, cookies[^1]));
        Assert.Equal(200, Enumerate(entries, 0).Count);
        Assert.Equal(200, Enumerate(entries, 2).Count);
        store.Unpin(dir);
    }

    [Fact]
    public void Enumeration_stops_when_the_visitor_says_so()
    {
        IInodeStore store = CreateStore();
        Inode dir = CreateDirectory(store);
        using (InodeOperation op = store.BeginOperation(OperationKind.MkNod))
        {
            for (int i = 0; i < 50; i++)
            {
                dir.Directory!.Add(op, Name(i), (ulong)(i + 10), ModeBits.S_IFREG);
            }
            op.Commit();
        }
        var visitor = new Collector(limit: 7);
        dir.Directory!.Enumerate(0, ref visitor);
        Assert.Equal(8, visitor.Calls); // seven accepted, the eighth refused
        Assert.Equal(7, visitor.Entries.Count);
        store.Unpin(dir);
    }

    [Fact]
    public void A_name_added_again_gets_a_new_cookie_and_Replace_keeps_the_cookie()
    {
        IInodeStore store = CreateStore();
        Inode dir = CreateDirectory(store);
        IDirectory entries = dir.Directory!;
        using InodeOperation op = store.BeginOperation(OperationKind.Rename);
        long first = entries.Add(op, "x"u8, 10, ModeBits.S_IFREG);
        long other = entries.Add(op, "y"u8, 11, ModeBits.S_IFDIR);
        entries.Remove(op, "x"u8);
        long again = entries.Add(op, "x"u8, 12, ModeBits.S_IFREG);
        Assert.True(again > other && other > first);
        entries.Replace(op, "y"u8, 13, ModeBits.S_IFLNK);
        op.Commit();
        Assert.True(entries.TryFind("y"u8, out DirectoryEntry y));
        Assert.Equal(new DirectoryEntry(13, ModeBits.S_IFLNK, other), y);
        Assert.Equal(["y", "x"], Enumerate(entries, 0).Select(e => e.Name));
        store.Unpin(dir);
    }

    [Fact]
    public void Count_and_IsEmpty_follow_the_entries()
    {
        IInodeStore store = CreateStore();
        Inode dir = CreateDirectory(store);
        IDirectory entries = dir.Directory!;
        using InodeOperation op = store.BeginOperation(OperationKind.MkNod);
        for (int i = 0; i < 100; i++)
        {
            entries.Add(op, Name(i), 10, ModeBits.S_IFREG);
        }
        Assert.Equal(100, entries.Count);
        for (int i = 0; i < 100; i++)
        {
            entries.Remove(op, Name(i));
            Assert.Equal(99 - i, entries.Count);
        }
        Assert.True(entries.IsEmpty);
        op.Commit();
        store.Unpin(dir);
    }

    [Fact]
    public void A_large_directory_lists_in_cookie_order()
    {
        const int Entries = 20_000;
        IInodeStore store = CreateStore(evictEagerly: true);
        Inode dir = CreateDirectory(store);
        ulong ino = dir.Ino;
        using (InodeOperation op = store.BeginOperation(OperationKind.MkNod))
        {
            for (int i = 0; i < Entries; i++)
            {
                dir.Directory!.Add(op, Name(i), (ulong)i + 10, ModeBits.S_IFREG);
            }
            op.Commit();
        }
        store.Unpin(dir);
        Assert.Equal(0, store.Acquire(ino, out Inode again));
        long cookie = 0;
        int seen = 0;
        while (true)
        {
            var batch = new Collector(limit: 1000);
            again.Directory!.Enumerate(cookie, ref batch);
            if (batch.Entries.Count == 0)
            {
                break;
            }
            foreach ((string name, DirectoryEntry entry) in batch.Entries)
            {
                Assert.Equal(Encoding.UTF8.GetString(Name(seen)), name);
                Assert.True(entry.Cookie > cookie);
                cookie = entry.Cookie;
                seen++;
            }
        }
        Assert.Equal(Entries, seen);
        store.Unpin(again);
    }

    protected static byte[] Name(int i) => Encoding.UTF8.GetBytes("name-" + i.ToString("D6", System.Globalization.CultureInfo.InvariantCulture));

    protected static List<(string Name, DirectoryEntry Entry)> Enumerate(IDirectory directory, long afterCookie)
    {
        var visitor = new Collector(int.MaxValue);
        directory.Enumerate(afterCookie, ref visitor);
        return visitor.Entries;
    }

    /// <summary>Takes up to <c>limit</c> entries, then refuses.</summary>
    private struct Collector(int limit) : IDirectoryVisitor
    {
        public List<(string Name, DirectoryEntry Entry)> Entries { get; } = [];

        public int Calls { get; private set; }

        public bool Visit(ReadOnlySpan<byte> name, in DirectoryEntry entry)
        {
            Calls++;
            if (Entries.Count == limit)
            {
                return false;
            }
            Entries.Add((Encoding.UTF8.GetString(name), entry));
            return true;
        }
    }
}
