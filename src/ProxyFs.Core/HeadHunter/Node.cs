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

    /// <summary>
    /// Set while a checkpoint serializes this node outside the lock: the node must not change, and a writer that
    /// needs to change it works on a copy (<see cref="CloneMutable"/>) instead.
    /// </summary>
    public bool Frozen { get; set; }

    /// <summary>A mutable copy (same entries, same size, not frozen).</summary>
    public abstract Node CloneMutable();

    /// <summary>
    /// Writes this node as a page at <paramref name="self"/> into <paramref name="destination"/> (ByteSize bytes)
    /// and seals it. Dirty children are written as <paramref name="addressOf"/> says; a leaf's values that go out
    /// of line are written as the blob addresses in <paramref name="blobs"/> (by entry index). Does not modify the node.
    /// </summary>
    public abstract void Serialize(Span<byte> destination, PageAddress self, Func<Node, PageAddress> addressOf, PageAddress[]? blobs);
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
