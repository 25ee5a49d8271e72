using System.Buffers.Binary;

namespace ProxyFs.Core.HeadHunter;

/// <summary>
/// Reads a validated stored page in place: binary search over the slot array, keys and values as spans of the
/// page bytes, nothing decoded or allocated.
/// </summary>
internal readonly struct PageView
{
    private readonly byte[] _page;

    public PageView(byte[] page) => _page = page;

    public byte[] Bytes => _page;

    public bool IsLeaf => _page[PageFormat.KindOffset] == (byte)RecordKind.Leaf;

    public int Level => _page[PageFormat.LevelOffset];

    public int Count => BinaryPrimitives.ReadUInt16LittleEndian(_page.AsSpan(PageFormat.CountOffset));

    private int EntryOffset(int index) =>
        BinaryPrimitives.ReadUInt16LittleEndian(_page.AsSpan(PageFormat.HeaderLength + (index * PageFormat.SlotLength)));

    /// <summary>The key of entry <paramref name="index"/> (empty for entry 0 of an internal page).</summary>
    public ReadOnlySpan<byte> Key(int index)
    {
        var position = EntryOffset(index);
        var length = Varint.Read(_page, ref position);
        return _page.AsSpan(position, length);
    }

    /// <summary>The key of entry <paramref name="index"/> as a slice of the page's bytes.</summary>
    public ReadOnlyMemory<byte> KeyMemory(int index)
    {
        var position = EntryOffset(index);
        var length = Varint.Read(_page, ref position);
        return _page.AsMemory(position, length);
    }

    /// <summary>The payload after the key: a leaf's kind byte and value, an internal page's child address.</summary>
    private int PayloadOffset(int index)
    {
        var position = EntryOffset(index);
        var length = Varint.Read(_page, ref position);
        return position + length;
    }

    public PageAddress Child(int index) => PageFormat.ReadAddress(_page.AsSpan(PayloadOffset(index)));

    /// <summary>A leaf value: inline bytes, or the address of the blob that holds it.</summary>
    public bool TryGetInlineValue(int index, out ReadOnlySpan<byte> value, out PageAddress blob)
    {
        var inline = TryGetInlineMemory(index, out var memory, out blob);
        value = memory.Span;
        return inline;
    }

    /// <summary>A leaf value as a slice of the page's bytes, or the address of the blob that holds it.</summary>
    public bool TryGetInlineMemory(int index, out ReadOnlyMemory<byte> value, out PageAddress blob)
    {
        var position = PayloadOffset(index);
        var valueKind = _page[position++];
        if (valueKind == PageFormat.ValueBlob)
        {
            value = default;
            blob = PageFormat.ReadAddress(_page.AsSpan(position));
            return false;
        }
        var length = Varint.Read(_page, ref position);
        value = _page.AsMemory(position, length);
        blob = default;
        return true;
    }

    /// <summary>Leaf: index of <paramref name="key"/> if present, else the bitwise complement of its insertion point.</summary>
    public int Search(ReadOnlySpan<byte> key)
    {
        int low = 0, high = Count - 1;
        while (low <= high)
        {
            var mid = (int)((uint)(low + high) >> 1);
            var cmp = Key(mid).SequenceCompareTo(key);
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

    /// <summary>Internal: the child whose range holds <paramref name="key"/> (largest i ≥ 1 with key(i) ≤ key, else 0).</summary>
    public int FindChild(ReadOnlySpan<byte> key)
    {
        int low = 1, high = Count - 1, found = 0;
        while (low <= high)
        {
            var mid = (int)((uint)(low + high) >> 1);
            if (Key(mid).SequenceCompareTo(key) <= 0)
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
}
