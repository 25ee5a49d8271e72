namespace ProxyFs.Core.HeadHunter;

/// <summary>
/// One leaf entry. <see cref="Blob"/> none: the value is <see cref="Value"/>, in memory (stored inline at checkpoint
/// when it is at most the inline limit, else written as a new blob). Otherwise the value is the stored blob at
/// <see cref="Blob"/>. Key and value of an entry decoded from a stored page are slices of that page's bytes (no
/// copy when a leaf is dirtied); new entries own their arrays.
/// </summary>
internal readonly record struct LeafEntry(ReadOnlyMemory<byte> Key, ReadOnlyMemory<byte> Value, PageAddress Blob)
{
    public bool IsStoredBlob => !Blob.IsNone;
}

/// <summary>A dirty leaf: sorted entries.</summary>
internal sealed class LeafNode : Node
{
    private readonly int _maxInline;

    public LeafNode(int maxInline, int capacity = 0)
        : base(0)
    {
        _maxInline = maxInline;
        Entries = new List<LeafEntry>(capacity);
    }

    public List<LeafEntry> Entries { get; }

    public override int Count => Entries.Count;

    public int EntryLength(in LeafEntry entry) =>
        PageFormat.SlotLength + (!entry.IsStoredBlob && entry.Value.Length <= _maxInline
            ? PageFormat.LeafEntryLength(entry.Key.Length, entry.Value.Length)
            : PageFormat.LeafBlobEntryLength(entry.Key.Length));

    /// <summary>Index of <paramref name="key"/> if present, else the bitwise complement of its insertion point.</summary>
    public int Search(ReadOnlySpan<byte> key)
    {
        int low = 0, high = Entries.Count - 1;
        while (low <= high)
        {
            var mid = (int)((uint)(low + high) >> 1);
            var cmp = Entries[mid].Key.Span.SequenceCompareTo(key);
            if (cmp == 0)
            {
                return mid;
            }
            if (cmp < 0)
            {
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }
        return ~low;
    }

    public bool IsPendingBlob(in LeafEntry entry) => !entry.IsStoredBlob && entry.Value.Length > _maxInline;

    public void Insert(int index, LeafEntry entry)
    {
        Entries.Insert(index, entry);
        ByteSize += EntryLength(entry);
    }

    public void Replace(int index, LeafEntry entry)
    {
        ByteSize += EntryLength(entry) - EntryLength(Entries[index]);
        Entries[index] = entry;
    }

    public void RemoveAt(int index)
    {
        ByteSize -= EntryLength(Entries[index]);
        Entries.RemoveAt(index);
    }

    public void AddRange(List<LeafEntry> entries, int start, int count)
    {
        for (var i = start; i < start + count; i++)
        {
            Insert(Entries.Count, entries[i]);
        }
    }

    public static LeafNode FromPage(PageView page, int maxInline)
    {
        var count = page.Count;
        var leaf = new LeafNode(maxInline, count);
        for (var i = 0; i < count; i++)
        {
            var key = page.KeyMemory(i);
            var entry = page.TryGetInlineMemory(i, out var value, out var blob)
                ? new LeafEntry(key, value, default)
                : new LeafEntry(key, default, blob);
            leaf.Insert(i, entry);
        }
        return leaf;
    }

    public override Node CloneMutable()
    {
        var copy = new LeafNode(_maxInline, Entries.Count);
        copy.AddRange(Entries, 0, Entries.Count);
        return copy;
    }

    public override void Serialize(Span<byte> destination, PageAddress self, Func<Node, PageAddress> addressOf, PageAddress[]? blobs)
    {
        var page = destination[..ByteSize];
        PageFormat.WriteHeader(page, RecordKind.Leaf, ByteSize, self, 0, Entries.Count);
        var position = PageFormat.HeaderLength + (Entries.Count * PageFormat.SlotLength);
        for (var i = 0; i < Entries.Count; i++)
        {
            var entry = Entries[i];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(
                page[(PageFormat.HeaderLength + (i * PageFormat.SlotLength))..], (ushort)position);
            position += Varint.Write(page[position..], entry.Key.Length);
            entry.Key.Span.CopyTo(page[position..]);
            position += entry.Key.Length;
            if (!entry.IsStoredBlob && entry.Value.Length <= _maxInline)
            {
                page[position++] = PageFormat.ValueInline;
                position += Varint.Write(page[position..], entry.Value.Length);
                entry.Value.Span.CopyTo(page[position..]);
                position += entry.Value.Length;
            }
            else
            {
                var blob = entry.IsStoredBlob ? entry.Blob : blobs?[i] ?? PageAddress.None;
                if (blob.IsNone)
                {
                    throw new InvalidOperationException("a large value must be written as a blob before its leaf is serialized");
                }
                page[position++] = PageFormat.ValueBlob;
                PageFormat.WriteAddress(page[position..], blob);
                position += PageAddress.EncodedLength;
            }
        }
        if (position != ByteSize)
        {
            throw new InvalidOperationException($"leaf serialized to {position} bytes, expected {ByteSize}");
        }
        PageFormat.Seal(page);
    }
}
