using System.Text;
using ProxyFs.Core.FileSystem;

namespace ProxyFs.Core.Tests.Memory;

/// <summary>The xattr size protocol and flags through the inode API.</summary>
public sealed class XattrTests
{
    [Fact]
    public void Size_query_then_exact_buffer()
    {
        var m = new MemFs();
        (ulong ino, ulong h) = m.Create(MemFs.Root, "f");
        Assert.Equal(0, m.Fs.SetXattr(MemFs.RootCaller, ino, MemFs.N("user.k"), "hello"u8, XattrFlags.None));
        Assert.Equal(0, m.Fs.GetXattr(MemFs.RootCaller, ino, MemFs.N("user.k"), Span<byte>.Empty, out int size));
        Assert.Equal(5, size);
        byte[] small = new byte[4];
        Assert.Equal(Errno.ERANGE, m.Fs.GetXattr(MemFs.RootCaller, ino, MemFs.N("user.k"), small, out _));
        byte[] exact = new byte[size];
        Assert.Equal(0, m.Fs.GetXattr(MemFs.RootCaller, ino, MemFs.N("user.k"), exact, out size));
        Assert.Equal("hello", Encoding.UTF8.GetString(exact, 0, size));
        m.Fs.Release(ino, h);
    }

    [Fact]
    public void List_protocol_and_trusted_visibility()
    {
        var m = new MemFs();
        (ulong ino, ulong h) = m.Create(MemFs.Root, "f", 0x1B6);
        m.Fs.SetXattr(MemFs.RootCaller, ino, MemFs.N("user.b"), "1"u8, XattrFlags.None);
        m.Fs.SetXattr(MemFs.RootCaller, ino, MemFs.N("trusted.t"), "2"u8, XattrFlags.None);
        m.Fs.SetXattr(MemFs.RootCaller, ino, MemFs.N("user.a"), "3"u8, XattrFlags.None);
        Assert.Equal(0, m.Fs.ListXattr(MemFs.RootCaller, ino, Span<byte>.Empty, out int size));
        byte[] names = new byte[size];
        Assert.Equal(0, m.Fs.ListXattr(MemFs.RootCaller, ino, names, out size));
        Assert.Equal("trusted.t\0user.a\0user.b\0", Encoding.UTF8.GetString(names, 0, size));
        Assert.Equal(Errno.ERANGE, m.Fs.ListXattr(MemFs.RootCaller, ino, new byte[3], out _));
        Caller alice = MemFs.User(1000);
        Assert.Equal(0, m.Fs.ListXattr(alice, ino, new byte[100], out size));
        Assert.Equal(14, size); // "user.a\0user.b\0"
        Assert.Equal(Errno.ENODATA, m.Fs.GetXattr(alice, ino, MemFs.N("trusted.t"), new byte[10], out _));
        m.Fs.Release(ino, h);
    }

    [Fact]
    public void Flags_limits_and_namespaces()
    {
        var m = new MemFs();
        (ulong ino, ulong h) = m.Create(MemFs.Root, "f");
        Assert.Equal(Errno.ENODATA, m.Fs.SetXattr(MemFs.RootCaller, ino, MemFs.N("user.k"), "v"u8, XattrFlags.Replace));
        Assert.Equal(0, m.Fs.SetXattr(MemFs.RootCaller, ino, MemFs.N("user.k"), "v"u8, XattrFlags.Create));
        Assert.Equal(Errno.EEXIST, m.Fs.SetXattr(MemFs.RootCaller, ino, MemFs.N("user.k"), "v"u8, XattrFlags.Create));
        Assert.Equal(Errno.E2BIG, m.Fs.SetXattr(MemFs.RootCaller, ino, MemFs.N("user.big"), new byte[65537], XattrFlags.None));
        Assert.Equal(Errno.ERANGE, m.Fs.SetXattr(MemFs.RootCaller, ino, new byte[256], "v"u8, XattrFlags.None));
        Assert.Equal(Errno.EOPNOTSUPP, m.Fs.SetXattr(MemFs.RootCaller, ino, MemFs.N("system.posix_acl_access"), "v"u8, XattrFlags.None));
        Assert.Equal(Errno.EINVAL, m.Fs.SetXattr(MemFs.RootCaller, ino, MemFs.N("user."), "v"u8, XattrFlags.None));
        Assert.Equal(Errno.EPERM, m.Fs.SetXattr(MemFs.User(0 + 1000), ino, MemFs.N("security.x"), "v"u8, XattrFlags.None));
        Assert.Equal(0, m.Fs.RemoveXattr(MemFs.RootCaller, ino, MemFs.N("user.k")));
        Assert.Equal(Errno.ENODATA, m.Fs.RemoveXattr(MemFs.RootCaller, ino, MemFs.N("user.k")));
        m.Fs.Release(ino, h);
    }
}
