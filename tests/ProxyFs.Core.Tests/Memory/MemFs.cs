using System.Text;
using ProxyFs.Core.FileSystem;
using ProxyFs.Core.FileSystem.Memory;

namespace ProxyFs.Core.Tests.Memory;

/// <summary>A <see cref="MemoryFileSystem"/> with short helpers for tests that drive the inode API directly.</summary>
internal sealed class MemFs
{
    public const ulong Root = IFileSystem.RootIno;

    public MemFs(MemoryFileSystemOptions? options = null)
    {
        Fs = new MemoryFileSystem(options ?? new MemoryFileSystemOptions { RootMode = 0x1FF });
    }

    public MemoryFileSystem Fs { get; }

    public static Caller RootCaller => Caller.Root;

    public static Caller User(uint uid, uint gid = 0) => new(uid, gid == 0 ? uid : gid, 1);

    public static byte[] N(string name) => Encoding.UTF8.GetBytes(name);

    /// <summary>Creates and opens a regular file; returns (ino, handle).</summary>
    public (ulong Ino, ulong Handle) Create(ulong parent, string name, uint mode = 0x1A4, Caller? caller = null)
    {
        int e = Fs.Create(caller ?? RootCaller, parent, N(name), mode, 0, OpenFlags.O_RDWR, out EntryOut entry, out OpenResult open);
        Assert.Equal(0, e);
        return (entry.Ino, open.Handle);
    }

    public ulong MkDir(ulong parent, string name, uint mode = 0x1FF)
    {
        Assert.Equal(0, Fs.MkDir(RootCaller, parent, N(name), mode, 0, out EntryOut entry));
        return entry.Ino;
    }

    public InodeAttr Attr(ulong ino)
    {
        Assert.Equal(0, Fs.GetAttr(RootCaller, ino, out InodeAttr attr));
        return attr;
    }

    public void Write(ulong ino, ulong handle, long offset, byte[] data)
    {
        Assert.Equal(0, Fs.Write(RootCaller, ino, handle, offset, data, WriteFlags.None, out int n));
        Assert.Equal(data.Length, n);
    }

    public byte[] Read(ulong ino, ulong handle, long offset, int count)
    {
        byte[] buffer = new byte[count];
        Assert.Equal(0, Fs.Read(RootCaller, ino, handle, offset, buffer, out int n));
        return buffer[..n];
    }
}

/// <summary>Collects directory entries, accepting at most <paramref name="capacity"/> per call.</summary>
internal sealed class ListFiller(int capacity = int.MaxValue) : IDirectoryFiller
{
    public List<(string Name, ulong Ino, long Next)> Entries { get; } = [];

    public int Accepted { get; private set; }

    public void Reset() => Accepted = 0;

    public bool Add(ReadOnlySpan<byte> name, ulong ino, uint mode, long nextOffset)
    {
        if (Accepted == capacity)
        {
            return false;
        }
        Accepted++;
        Entries.Add((Encoding.UTF8.GetString(name), ino, nextOffset));
        return true;
    }

    public bool AddPlus(ReadOnlySpan<byte> name, in EntryOut entry, long nextOffset) => Add(name, entry.Ino, entry.Attr.Mode, nextOffset);
}
