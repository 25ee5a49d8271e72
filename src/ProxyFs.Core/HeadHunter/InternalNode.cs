using System.Buffers.Binary;

namespace ProxyFs.Core.HeadHunter;

/// <summary>
/// A dirty internal node: children 0..n-1 and keys 1..n-1, where key i is a separator with every key under child
/// i-1 below it and every key under child i at or above it. Keys[0] is always empty.
/// </summary>
internal sealed class InternalNode : Node
{
    public InternalNode(int level, int capacity = 0)
        : base(level)
    {
        Keys = new List<byte[]>(capacity);
        Children = new List<ChildRef>(capacity);
    }

    public List<byte[]> Keys { get; }

    public List<ChildRef> Children { get; }

    public override int Count => Children.Count;

    private static int EntryLength(byte[] key) => PageFormat.SlotLength + PageFormat.InternalEntryLength(key.Length);

    public int FindChild(ReadOnlySpan<byte> key)
    {
        int low = 1, high = Keys.Count - 1, found = 0;
        while (low <= high)
        {
            var mid = (int)((uint)(low + high) >> 1);
            if (Keys[mid].AsSpan().SequenceCompareTo(key) <= 0)
            {
                found = mid;
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }
        return found;
    }

    /// <summary>Inserts a child at <paramref name="index"/> with <paramref name="key"/> (empty when index is 0).</summary>
    public void Insert(int index, byte[] key, ChildRef child)
    {
        Keys.Insert(index, key);
        Children.Insert(index, child);
        ByteSize += EntryLength(key);
    }

    public void RemoveAt(int index)
    {
        ByteSize -= EntryLength(Keys[index]);
        Keys.RemoveAt(index);
        Children.RemoveAt(index);
    }

    public void SetKey(int index, byte[] key)
    {
        ByteSize += EntryLength(key) - EntryLength(Keys[index]);
        Keys[index] = key;
    }

    public static InternalNode FromPage(PageView page)
    {
        var count = page.Count;
        var node = new InternalNode(page.Level, count);
        for (var i = 0; i < count; i++)
        {
            node.Insert(i, page.Key(i).ToArray(), new ChildRef(page.Child(i)));
        }
        return node;
    }

    public override Node CloneMutable()
    {
        var copy = new InternalNode(Level, Children.Count);
        for (var i = 0; i < Children.Count; i++)
        {
            copy.Insert(i, Keys[i], Children[i]);
        }
        return copy;
    }

    public override void Serialize(Span<byte> destination, PageAddress self, Func<Node, PageAddress> addressOf, PageAddress[]? blobs)
    {
        var page = destination[..ByteSize];
        PageFormat.WriteHeader(page, RecordKind.Internal, ByteSize, self, Level, Children.Count);
        var position = PageFormat.HeaderLength + (Children.Count * PageFormat.SlotLength);
        for (var i = 0; i < Children.Count; i++)
        {
            var child = Children[i].Node is { } dirty ? addressOf(dirty) : Children[i].Address;
            BinaryPrimitives.WriteUInt16LittleEndian(page[(PageFormat.HeaderLength + (i * PageFormat.SlotLength))..], (ushort)position);
            var key = Keys[i];
            position += Varint.Write(page[position..], key.Length);
            key.CopyTo(page[position..]);
            position += key.Length;
            PageFormat.WriteAddress(page[position..], child);
            position += PageAddress.EncodedLength;
        }
        if (position != ByteSize)
        {
            throw new InvalidOperationException($"internal node serialized to {position} bytes, expected {ByteSize}");
        }
        PageFormat.Seal(page);
    }
}
