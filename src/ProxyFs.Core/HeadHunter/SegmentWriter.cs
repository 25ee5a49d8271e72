namespace ProxyFs.Core.HeadHunter;

/// <summary>Builds one metadata segment image: header, records appended in order, trailer.</summary>
internal sealed class SegmentWriter
{
    private readonly ulong _nonce;
    private byte[] _buffer;
    private int _length;

    public SegmentWriter(ulong nonce, int pageSize, int capacityHint)
    {
        _nonce = nonce;
        // Uninitialized: every byte up to the final length is written (headers and slots are cleared explicitly).
        _buffer = GC.AllocateUninitializedArray<byte>(Math.Max(capacityHint, SegmentFormat.HeaderLength + SegmentFormat.TrailerLength + pageSize));
        SegmentFormat.WriteHeader(_buffer, nonce, pageSize);
        _length = SegmentFormat.HeaderLength;
    }

    public List<PageAddress> Written { get; } = [];

    public int Pages { get; private set; }

    public int Blobs { get; private set; }

    public PageAddress WriteNode(Node node, Func<Node, PageAddress> addressOf, PageAddress[]? blobs)
    {
        var address = Reserve(node.ByteSize);
        node.Serialize(_buffer.AsSpan((int)address.Offset, node.ByteSize), address, addressOf, blobs);
        Pages++;
        return address;
    }

    public PageAddress WriteBlob(ReadOnlySpan<byte> value)
    {
        var length = PageFormat.HeaderLength + value.Length;
        var address = Reserve(length);
        var record = _buffer.AsSpan((int)address.Offset, length);
        PageFormat.WriteHeader(record, RecordKind.Blob, length, address, 0, 0);
        value.CopyTo(record[PageFormat.HeaderLength..]);
        PageFormat.Seal(record);
        Blobs++;
        return address;
    }

    public ReadOnlyMemory<byte> Finish(PageAddress root)
    {
        var total = _length + SegmentFormat.TrailerLength;
        EnsureCapacity(total);
        SegmentFormat.WriteTrailer(_buffer.AsSpan(0, total), root, Pages, Blobs);
        return _buffer.AsMemory(0, total);
    }

    private PageAddress Reserve(int length)
    {
        if ((long)_length + length + SegmentFormat.TrailerLength > int.MaxValue)
        {
            throw new InvalidOperationException("a metadata segment cannot exceed 2 GiB: checkpoint more often");
        }
        EnsureCapacity(_length + length);
        var address = new PageAddress(_nonce, (uint)_length, (uint)length);
        _length += length;
        Written.Add(address);
        return address;
    }

    private void EnsureCapacity(int needed)
    {
        if (needed > _buffer.Length)
        {
            var larger = GC.AllocateUninitializedArray<byte>((int)Math.Min(Array.MaxLength, Math.Max(needed, 2L * _buffer.Length)));
            _buffer.AsSpan(0, _length).CopyTo(larger);
            _buffer = larger;
        }
    }
}
