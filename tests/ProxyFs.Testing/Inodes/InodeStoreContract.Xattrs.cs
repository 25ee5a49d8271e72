using System.Text;
using ProxyFs.Core.FileSystem;
using ProxyFs.Core.FileSystem.Inodes;
using Xunit;

namespace ProxyFs.Testing.Inodes;

/// <summary>Xattrs: the get size protocol, create/replace, remove, and names listed in byte order.</summary>
public abstract partial class InodeStoreContract
{
    [Fact]
    public void Xattr_get_reports_the_size_and_copies_only_into_room_enough()
    {
        IInodeStore store = CreateStore();
        Inode file = CreateFile(store);
        Change(store, op => Assert.Equal(0, file.Xattrs.Set(op, "user.a"u8, "value"u8, XattrFlags.None)));
        lock (file.Sync)
        {
            Assert.Equal(-1, file.Xattrs.Get("user.b"u8, new byte[10]));
            Assert.Equal(5, file.Xattrs.Get("user.a"u8, Span<byte>.Empty));
            byte[] small = new byte[4];
            Assert.Equal(5, file.Xattrs.Get("user.a"u8, small));
            Assert.Equal(new byte[4], small);
            byte[] room = new byte[8];
            Assert.Equal(5, file.Xattrs.Get("user.a"u8, room));
            Assert.Equal("value\0\0\0"u8.ToArray(), room);
        }
        store.Unpin(file);
    }

    [Fact]
    public void Xattr_create_and_replace_flags()
    {
        IInodeStore store = CreateStore();
        Inode file = CreateFile(store);
        Change(store, op =>
        {
            Assert.Equal(Errno.ENODATA, file.Xattrs.Set(op, "user.x"u8, "1"u8, XattrFlags.Replace));
            Assert.Equal(0, file.Xattrs.Set(op, "user.x"u8, "1"u8, XattrFlags.Create));
            Assert.Equal(Errno.EEXIST, file.Xattrs.Set(op, "user.x"u8, "2"u8, XattrFlags.Create));
            Assert.Equal(0, file.Xattrs.Set(op, "user.x"u8, "33"u8, XattrFlags.Replace));
            Assert.Equal(0, file.Xattrs.Set(op, "user.x"u8, ""u8, XattrFlags.None));
        });
        lock (file.Sync)
        {
            Assert.Equal(0, file.Xattrs.Get("user.x"u8, new byte[4]));
        }
        store.Unpin(file);
    }

    [Fact]
    public void Xattr_remove_and_the_name_list()
    {
        IInodeStore store = CreateStore(evictEagerly: true);
        Inode file = CreateFile(store);
        ulong ino = file.Ino;
        byte[] big = Pattern(65536, seed: 12);
        Change(store, op =>
        {
            foreach (string name in new[] { "user.zeta", "trusted.t", "user.alpha", "security.s", "user.beta" })
            {
                Assert.Equal(0, file.Xattrs.Set(op, Encoding.UTF8.GetBytes(name), big, XattrFlags.None));
            }
            Assert.True(file.Xattrs.Remove(op, "user.beta"u8));
            Assert.False(file.Xattrs.Remove(op, "user.beta"u8));
        });
        store.Unpin(file);
        Assert.Equal(0, store.Acquire(ino, out Inode again));
        lock (again.Sync)
        {
            var names = new NameCollector([]);
            again.Xattrs.VisitNames(ref names);
            Assert.Equal(["security.s", "trusted.t", "user.alpha", "user.zeta"], names.Names);
            byte[] back = new byte[big.Length];
            Assert.Equal(big.Length, again.Xattrs.Get("user.zeta"u8, back));
            Assert.Equal(big, back);
        }
        store.Unpin(again);
    }

    private readonly struct NameCollector(List<string> names) : IXattrNameVisitor
    {
        public List<string> Names { get; } = names;

        public void Visit(ReadOnlySpan<byte> name) => Names.Add(Encoding.UTF8.GetString(name));
    }
}
