namespace ProxyFs.Core.HeadHunter;

/// <summary>
/// A dirty (modified since the last checkpoint) node held in memory. Clean nodes are never decoded into these:
/// they are read in place as <see cref="PageView"/>s from the page cache. A dirty node is owned by exactly one
/// parent slot (or the root) and is never evicted; a checkpoint turns it back into a stored page.
/// </summary>
internal abstract class Node
{
    protected Node(int level) => Level = level;

    /// <summary>0 for leaves; a parent's level is its children's plus one.</summary>
    public int Level { get; }

    /// <summary>Exact length of the page this node serializes to.</summary>
    public int ByteSize { get; protected set; } = PageFormat.HeaderLength;

    public abstract int Count { get; }

    /// <summary>Writes this node as a page at <paramref name="self"/> into <paramref name="destination"/> (ByteSize bytes) and seals it.</summary>
    public abstract void Serialize(Span<byte> destination, PageAddress self);
}

/// <summary>A child slot of an internal node: a dirty node in memory, or the address of a stored page.</summary>
internal readonly struct ChildRef
{
    public ChildRef(Node node)
    {
        Node = node;
        Address = default;
    }

    public ChildRef(PageAddress address)
    {
        Node = null;
        Address = address;
    }

    public Node? Node { get; }

    public PageAddress Address { get; }

    public bool IsDirty => Node is not null;
}
