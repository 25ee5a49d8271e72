namespace ProxyFs.Core.HeadHunter;

/// <summary>
/// One leaf entry. <see cref="Value"/> non-null: the value is in memory (stored inline at checkpoint when it is at
/// most the inline limit, else written as a new blob). <see cref="Value"/> null: the value is the stored blob at
/// <see cref="Blob"/>.
/// </summary>
internal readonly record struct LeafEntry(byte[] Key, byte[]? Value, PageAddress Blob);

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
        PageFormat.SlotLength + (entry.Value is { } value && value.Length <= _maxInline
            ? PageFormat.LeafEntryLength(entry.Key.Length, value.Length)
            : PageFormat.LeafBlobEntryLength(entry.Key.Length));

    /// <summary>Index of <paramref name="key"/> if present, else the bitwise complement of its insertion point.</summary>
    public int Search(ReadOnlySpan<byte> key)
    {
        int low = 0, high = Entries.Count - 1;
        while (low <= high)
        {
            var mid = (int)((uint)(low + high) >> 1);
            var cmp = Entries[mid].Key.AsSpan().SequenceCompareTo(key);
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

    public bool IsPendingBlob(in LeafEntry entry) => entry.Value is { } value && value.Length > _maxInline;

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
            var key = page.Key(i).ToArray();
            var entry = page.TryGetInlineValue(i, out var value, out var blob)
                ? new LeafEntry(key, value.ToArray(), default)
                : new LeafEntry(key, null, blob);
            leaf.Insert(i, entry);
        }
        return leaf;
    }

    public override void Serialize(Span<byte> destination, PageAddress self)
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
            entry.Key.CopyTo(page[position..]);
            position += entry.Key.Length;
            if (entry.Value is { } value && value.Length <= _maxInline)
            {
                page[position++] = PageFormat.ValueInline;
                position += Varint.Write(page[position..], value.Length);
                value.CopyTo(page[position..]);
                position += value.Length;
            }
            else
            {
                if (entry.Value is not null)
                {
                    throw new InvalidOperationException("a large value must be written as a blob before its leaf is serialized");
                }
                page[position++] = PageFormat.ValueBlob;
                PageFormat.WriteAddress(page[position..], entry.Blob);
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
