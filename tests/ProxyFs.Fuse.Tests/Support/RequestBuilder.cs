using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using ProxyFs.Fuse.Protocol;

namespace ProxyFs.Fuse.Tests.Support;

/// <summary>Builds raw FUSE requests as the kernel writes them: fuse_in_header, then the arguments.</summary>
internal sealed class RequestBuilder
{
    private readonly List<byte> _body = [];
    private readonly fuse_opcode _opcode;
    private readonly ulong _nodeId;
    private readonly ulong _unique;

    public RequestBuilder(fuse_opcode opcode, ulong nodeId = 1, ulong unique = 100)
    {
        _opcode = opcode;
        _nodeId = nodeId;
        _unique = unique;
    }

    public uint Uid { get; init; } = 1000;
    public uint Gid { get; init; } = 1000;
    public uint Pid { get; init; } = 4242;

    public RequestBuilder Struct<T>(in T value) where T : unmanaged
    {
        var bytes = new byte[Unsafe.SizeOf<T>()];
        MemoryMarshal.Write(bytes, in value);
        _body.AddRange(bytes);
        return this;
    }

    /// <summary>The first <paramref name="size"/> bytes of a struct (fuse_init_in before 7.36, fuse_setxattr_in).</summary>
    public RequestBuilder StructPrefix<T>(in T value, int size) where T : unmanaged
    {
        var bytes = new byte[Unsafe.SizeOf<T>()];
        MemoryMarshal.Write(bytes, in value);
        _body.AddRange(bytes.Take(size));
        return this;
    }

    public RequestBuilder Name(string name)
    {
        _body.AddRange(Encoding.UTF8.GetBytes(name));
        _body.Add(0);
        return this;
    }

    public RequestBuilder Bytes(ReadOnlySpan<byte> data)
    {
        _body.AddRange(data.ToArray());
        return this;
    }

    public byte[] Build()
    {
        int headerSize = Unsafe.SizeOf<fuse_in_header>();
        var request = new byte[headerSize + _body.Count];
        var header = new fuse_in_header
        {
            len = (uint)request.Length,
            opcode = (uint)_opcode,
            unique = _unique,
            nodeid = _nodeId,
            uid = Uid,
            gid = Gid,
            pid = Pid,
        };
        MemoryMarshal.Write(request, in header);
        _body.CopyTo(request, headerSize);
        return request;
    }

    public static byte[] Init(uint minor, ulong flags, uint maxReadahead = 131072, ulong unique = 1)
    {
        var init = new fuse_init_in
        {
            major = 7,
            minor = minor,
            max_readahead = maxReadahead,
            flags = (uint)flags,
            flags2 = (uint)(flags >> 32),
        };
        var builder = new RequestBuilder(fuse_opcode.FUSE_INIT, 0, unique);
        return minor >= 36 ? builder.Struct(init).Build() : builder.StructPrefix(init, 16).Build();
    }
}

/// <summary>Reads a raw reply: fuse_out_header, then the body.</summary>
internal readonly ref struct Reply
{
    public Reply(ReadOnlySpan<byte> bytes)
    {
        Assert.True(bytes.Length >= 16, $"a reply has at least a 16-byte header, got {bytes.Length}");
        Header = MemoryMarshal.Read<fuse_out_header>(bytes);
        Assert.Equal((uint)bytes.Length, Header.len);
        Body = bytes[16..];
    }

    public fuse_out_header Header { get; }

    public ReadOnlySpan<byte> Body { get; }

    public int Error => Header.error;

    public T Read<T>(int offset = 0) where T : unmanaged => MemoryMarshal.Read<T>(Body[offset..]);
}
