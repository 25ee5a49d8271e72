namespace ProxyFs.Core.HeadHunter;

public sealed partial class HeadHunterTree
{
    /// <summary>
    /// Restores the size invariants from <paramref name="node"/> upwards after a change: a node over a page is
    /// split, a node under a quarter page (or an internal node with one child) is merged with a sibling or
    /// rebalanced with it, and the root grows or shrinks a level as needed. Stops at the first level that is fine.
    /// </summary>
    /// <param name="appended">
    /// The change added the last entry of <paramref name="node"/>: ascending inserts (new inode numbers, file
    /// extents growing) then split off only the new entry, so pages fill up instead of staying half empty.
    /// </param>
    /// <param name="afterInsert">
    /// The change was a put: only overflow is fixed. (Merging the small right piece of an append split back into
    /// its full left sibling would undo the packing; small nodes are merged by deletes.)
    /// </param>
    private void Rebalance(Node node, List<(InternalNode Parent, int Index)> path, ReadContext context, bool afterInsert, bool appended = false)
    {
        var current = node;
        for (var level = path.Count - 1; level >= 0; level--)
        {
            var (parent, index) = path[level];
            if (current.ByteSize > _pageSize)
            {
                var pieces = SplitToFit(current, appended);
                appended = appended && index == parent.Count - 1;
                ReplaceChildren(parent, index, 1, pieces);
            }
            else if (afterInsert)
            {
                break;
            }
            else if (IsUnderfull(current) && parent.Count > 1)
            {
                var left = index > 0 ? index - 1 : index;
                var leftNode = EnsureDirtyChild(parent, left, context)!;
                var rightNode = EnsureDirtyChild(parent, left + 1, context)!;
                var merged = Concatenate(leftNode, parent.Keys[left + 1], rightNode);
                _dirtyPages--;
                ReplaceChildren(parent, left, 2, SplitToFit(merged, packLeft: false));
                appended = false;
            }
            else if (!IsUnderfull(current))
            {
                break;
            }
            current = parent;
        }
        FixRoot(appended);
    }

    private bool IsUnderfull(Node node) => node.ByteSize < _minFill || (node is InternalNode && node.Count < 2);

    /// <summary>Grows the tree when the root overflowed; shrinks it while the root is an internal node with one child.</summary>
    private void FixRoot(bool appended)
    {
        while (_root.Node is { } root && root.ByteSize > _pageSize)
        {
            var pieces = SplitToFit(root, appended);
            var newRoot = new InternalNode(root.Level + 1, pieces.Nodes.Count);
            for (var i = 0; i < pieces.Nodes.Count; i++)
            {
                newRoot.Insert(i, i == 0 ? [] : pieces.Separators[i - 1], new ChildRef(pieces.Nodes[i]));
            }
            _root = new ChildRef(newRoot);
            _dirtyPages++;
        }
        while (_root.Node is InternalNode { Count: 1 } single)
        {
            _root = single.Children[0];
            _dirtyPages--;
        }
    }

    /// <summary>Replaces <paramref name="count"/> children of <paramref name="parent"/> from <paramref name="index"/> with <paramref name="pieces"/>.</summary>
    private static void ReplaceChildren(InternalNode parent, int index, int count, Pieces pieces)
    {
        // The first piece keeps the first replaced child's key (its lower bound in the parent is unchanged).
        parent.Children[index] = new ChildRef(pieces.Nodes[0]);
        for (var i = 1; i < count; i++)
        {
            parent.RemoveAt(index + 1);
        }
        for (var i = 1; i < pieces.Nodes.Count; i++)
        {
            parent.Insert(index + i, pieces.Separators[i - 1], new ChildRef(pieces.Nodes[i]));
        }
    }

    /// <summary>Nodes in key order and the separator keys between them (Separators[i] separates Nodes[i] and Nodes[i+1]).</summary>
    private sealed class Pieces
    {
        public List<Node> Nodes { get; } = [];

        public List<byte[]> Separators { get; } = [];
    }

    /// <summary>
    /// Splits a node into pieces that each fit a page (usually one or two), counting the new dirty nodes. With
    /// <paramref name="packLeft"/> the left piece takes all it can hold; otherwise the bytes are balanced.
    /// </summary>
    private Pieces SplitToFit(Node node, bool packLeft)
    {
        var pieces = new Pieces();
        SplitInto(node, pieces, packLeft);
        _dirtyPages += pieces.Nodes.Count - 1;
        return pieces;
    }

    private void SplitInto(Node node, Pieces pieces, bool packLeft)
    {
        if (node.ByteSize <= _pageSize)
        {
            pieces.Nodes.Add(node);
            return;
        }
        if (node.Count < 2)
        {
            throw new InvalidOperationException($"a node of one entry ({node.ByteSize} bytes) exceeds the {_pageSize}-byte page");
        }
        var limit = packLeft ? _pageSize - PageFormat.HeaderLength : -1;
        var (left, separator, right) = node is LeafNode leaf ? SplitLeaf(leaf, limit) : SplitInternal((InternalNode)node, limit);
        SplitInto(left, pieces, packLeft);
        pieces.Separators.Add(separator);
        SplitInto(right, pieces, packLeft);
    }

    /// <summary>
    /// The index k in 1..n-1 that best balances the bytes of entries [0,k) and [k,n); or, when
    /// <paramref name="packLimit"/> is not negative, the largest k whose entries [0,k) fit in it.
    /// </summary>
    private static int SplitPoint(int count, Func<int, int> entryLength, int total, int packLimit)
    {
        if (packLimit >= 0)
        {
            var fill = 0;
            var k = 0;
            while (k < count - 1 && fill + entryLength(k) <= packLimit)
            {
                fill += entryLength(k);
                k++;
            }
            return Math.Max(k, 1);
        }
        var best = 1;
        var bestMax = int.MaxValue;
        var prefix = 0;
        for (var k = 1; k < count; k++)
        {
            prefix += entryLength(k - 1);
            var max = Math.Max(prefix, total - prefix);
            if (max < bestMax)
            {
                bestMax = max;
                best = k;
            }
            else if (prefix > total / 2)
            {
                break;
            }
        }
        return best;
    }

    private (Node Left, byte[] Separator, Node Right) SplitLeaf(LeafNode leaf, int packLimit)
    {
        var entries = leaf.Entries;
        var k = SplitPoint(entries.Count, i => leaf.EntryLength(entries[i]), leaf.ByteSize - PageFormat.HeaderLength, packLimit);
        var left = new LeafNode(_maxInline, k);
        left.AddRange(entries, 0, k);
        var right = new LeafNode(_maxInline, entries.Count - k);
        right.AddRange(entries, k, entries.Count - k);
        return (left, ShortestSeparator(entries[k - 1].Key.Span, entries[k].Key.Span), right);
    }

    private static (Node Left, byte[] Separator, Node Right) SplitInternal(InternalNode node, int packLimit)
    {
        var keys = node.Keys;
        var k = SplitPoint(
            node.Count, i => PageFormat.SlotLength + PageFormat.InternalEntryLength(keys[i].Length), node.ByteSize - PageFormat.HeaderLength, packLimit);
        if (packLimit >= 0 && node.Count >= 3)
        {
            // An internal node with one child is degenerate: leave the right piece two.
            k = Math.Min(k, node.Count - 2);
        }
        var left = new InternalNode(node.Level, k);
        for (var i = 0; i < k; i++)
        {
            left.Insert(i, keys[i], node.Children[i]);
        }
        var right = new InternalNode(node.Level, node.Count - k);
        for (var i = k; i < node.Count; i++)
        {
            right.Insert(i - k, i == k ? [] : keys[i], node.Children[i]);
        }
        return (left, keys[k], right);
    }

    /// <summary>
    /// The shortest key s with <paramref name="low"/> &lt; s ≤ <paramref name="high"/>: the prefix of high one byte
    /// past their common prefix. Keeps internal pages small (suffix truncation).
    /// </summary>
    internal static byte[] ShortestSeparator(ReadOnlySpan<byte> low, ReadOnlySpan<byte> high)
    {
        var common = low.CommonPrefixLength(high);
        return high[..Math.Min(common + 1, high.Length)].ToArray();
    }

    /// <summary>One node holding <paramref name="left"/>'s entries then <paramref name="right"/>'s (for internal nodes, joined by the parent's separator).</summary>
    private Node Concatenate(Node left, byte[] separator, Node right)
    {
        if (left is LeafNode leftLeaf)
        {
            var rightLeaf = (LeafNode)right;
            var merged = new LeafNode(_maxInline, leftLeaf.Count + rightLeaf.Count);
            merged.AddRange(leftLeaf.Entries, 0, leftLeaf.Count);
            merged.AddRange(rightLeaf.Entries, 0, rightLeaf.Count);
            return merged;
        }
        var leftInner = (InternalNode)left;
        var rightInner = (InternalNode)right;
        var node = new InternalNode(leftInner.Level, leftInner.Count + rightInner.Count);
        for (var i = 0; i < leftInner.Count; i++)
        {
            node.Insert(i, leftInner.Keys[i], leftInner.Children[i]);
        }
        for (var i = 0; i < rightInner.Count; i++)
        {
            node.Insert(node.Count, i == 0 ? separator : rightInner.Keys[i], rightInner.Children[i]);
        }
        return node;
    }
}
