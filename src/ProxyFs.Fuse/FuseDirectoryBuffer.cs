using System.Buffers.Binary;
using System.Runtime.InteropServices;
using ProxyFs.Fuse.Protocol;

namespace ProxyFs.Fuse;

/// <summary>
/// The reply of READDIR or READDIRPLUS being built: fuse_dirent or fuse_direntplus records packed into the
/// reply buffer, each padded to 8 bytes. One instance per reader thread, reset for each request: no allocation.
/// </summary>
public sealed class FuseDirectoryBuffer
{
    // fuse_dirent: ino u64, off u64, namelen u32, type u32, name[]
    internal const int DirentHeaderSize = 24;
    private static readonly int EntryOutSize = Marshal.SizeOf<fuse_entry_out>();

    private byte[] _buffer = [];
    private int _start;
    private int _capacity;

    /// <summary>Bytes written so far.</summary>
    public int Length { get; private set; }

    /// <summary>True when the request is READDIRPLUS.</summary>
    public bool Plus { get; private set; }

    /// <summary>Number of entries added.</summary>
    public int Count { get; private set; }

    /// <summary>Points the buffer at <paramref name="capacity"/> bytes of <paramref name="buffer"/> from <paramref name="start"/>.</summary>
    internal void Reset(byte[] buffer, int start, int capacity, bool plus)
    {
        _buffer = buffer;
        _start = start;
        _capacity = capacity;
        Plus = plus;
        Length = 0;
        Count = 0;
    }

    internal ReadOnlySpan<byte> Written => _buffer.AsSpan(_start, Length);

    private static int Align8(int n) => (n + 7) & ~7;

    /// <summary>
    /// Adds a READDIR entry. <paramref name="mode"/> is st_mode (only the type bits are used);
    /// <paramref name="nextOffset"/> is the cookie that resumes after this entry. False when full.
    /// </summary>
    public bool TryAdd(ReadOnlySpan<byte> name, ulong ino, uint mode, ulong nextOffset)
    {
        int size = Align8(DirentHeaderSize + name.Length);
        if (Length + size > _capacity)
        {
            return false;
        }
        Span<byte> rec = _buffer.AsSpan(_start + Length, size);
        WriteDirent(rec, name, ino, mode, nextOffset);
        Length += size;
        Count++;
        return true;
    }

    /// <summary>Adds a READDIRPLUS entry with its attributes. False when full.</summary>
    public bool TryAddPlus(ReadOnlySpan<byte> name, in fuse_entry_out entry, ulong nextOffset)
    {
        int size = Align8(EntryOutSize + DirentHeaderSize + name.Length);
        if (Length + size > _capacity)
        {
            return false;
        }
        Span<byte> rec = _buffer.AsSpan(_start + Length, size);
        MemoryMarshal.Write(rec, in entry);
        WriteDirent(rec[EntryOutSize..], name, entry.attr.ino != 0 ? entry.attr.ino : entry.nodeid, entry.attr.mode, nextOffset);
        Length += size;
        Count++;
        return true;
    }

    private static void WriteDirent(Span<byte> rec, ReadOnlySpan<byte> name, ulong ino, uint mode, ulong nextOffset)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(rec, ino);
        BinaryPrimitives.WriteUInt64LittleEndian(rec[8..], nextOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(rec[16..], (uint)name.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(rec[20..], (mode & 0xF000) >> 12);
        name.CopyTo(rec[DirentHeaderSize..]);
        rec[(DirentHeaderSize + name.Length)..].Clear();
    }
}
