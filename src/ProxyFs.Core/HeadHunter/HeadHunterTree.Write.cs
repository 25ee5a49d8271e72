namespace ProxyFs.Core.HeadHunter;

public sealed partial class HeadHunterTree
{
    /// <summary>Inserts or replaces the value of <paramref name="key"/>.</summary>
    public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        ValidateKey(key);
        if (value.Length > MaxValueLength)
        {
            throw new ArgumentException($"values are at most {MaxValueLength} bytes, got {value.Length}", nameof(value));
        }
        var keyBytes = key.ToArray();
        var entry = new LeafEntry(keyBytes, value.ToArray(), default);
        var context = new ReadContext();
        var path = new List<(InternalNode Parent, int Index)>(8);
        while (true)
        {
            _lock.EnterWriteLock();
            try
            {
                path.Clear();
                if (DescendForWrite(key, path, context) is { } leaf)
                {
                    var index = leaf.Search(key);
                    if (index >= 0)
                    {
                        if (leaf.Entries[index].IsStoredBlob)
                        {
                            Supersede(leaf.Entries[index].Blob);
                        }
                        leaf.Replace(index, entry);
                    }
                    else
                    {
                        index = ~index;
                        leaf.Insert(index, entry);
                    }
                    // An append right after its predecessor was put: a sequential run (new inodes, a growing file's extents).
                    var appended = index == leaf.Count - 1 && index > 0 && leaf.Entries[index - 1].Key.Span.SequenceEqual(_lastPutKey);
                    _lastPutKey = keyBytes;
                    context.LoadUnderLock = true;
                    Rebalance(leaf, path, context, afterInsert: true, appended);
                    return;
                }
            }
            finally
            {
                _lock.ExitWriteLock();
            }
            FetchMissing(context);
        }
    }

    /// <summary>Removes <paramref name="key"/>; false if it was absent (nothing is dirtied then).</summary>
    /// <remarks>
    /// The pages the removal itself needs (the path and the leaf's sibling) are read before anything changes. A
    /// merge that cascades above the leaf may read more under the lock; if the page source fails there, the key is
    /// already removed, the tree stays valid (only less compact), and the exception reports the failed read.
    /// </remarks>
    public bool Delete(ReadOnlySpan<byte> key)
    {
        ValidateKey(key);
        var context = new ReadContext();
        var path = new List<(InternalNode Parent, int Index)>(8);
        while (true)
        {
            _lock.EnterWriteLock();
            try
            {
                if (TryDeleteLocked(key, path, context, out var deleted))
                {
                    return deleted;
                }
            }
            finally
            {
                _lock.ExitWriteLock();
            }
            FetchMissing(context);
        }
    }

    /// <summary>One attempt at a delete; false when a page was missing before anything changed.</summary>
    private bool TryDeleteLocked(ReadOnlySpan<byte> key, List<(InternalNode Parent, int Index)> path, ReadContext context, out bool deleted)
    {
        deleted = false;
        if (!FindLeafEntry(key, context, out var missed))
        {
            return !missed;
        }
        path.Clear();
        if (DescendForWrite(key, path, context) is not { } leaf)
        {
            return false;
        }
        var index = leaf.Search(key);
        var entry = leaf.Entries[index];
        if (path.Count > 0 && leaf.ByteSize - leaf.EntryLength(entry) < _minFill && !SiblingAvailable(path[^1], context))
        {
            return false;
        }
        leaf.RemoveAt(index);
        if (entry.IsStoredBlob)
        {
            Supersede(entry.Blob);
        }
        context.LoadUnderLock = true;
        Rebalance(leaf, path, context, afterInsert: false);
        deleted = true;
        return true;
    }

    /// <summary>Makes sure the sibling a node would merge with is in memory (so the merge will not read under the lock).</summary>
    private bool SiblingAvailable((InternalNode Parent, int Index) step, ReadContext context)
    {
        var (parent, index) = step;
        if (parent.Count < 2)
        {
            return true;
        }
        var sibling = parent.Children[index > 0 ? index - 1 : index + 1];
        return sibling.IsDirty || Resolve(sibling.Address, context) is not null;
    }

    /// <summary>
    /// Copies the root-to-leaf path for <paramref name="key"/> into dirty nodes, recording each parent and child
    /// index in <paramref name="path"/>. Null when a page was missing (the nodes dirtied so far stay dirty: harmless).
    /// </summary>
    private LeafNode? DescendForWrite(ReadOnlySpan<byte> key, List<(InternalNode Parent, int Index)> path, ReadContext context)
    {
        if (_root.Node is { Frozen: true } frozenRoot)
        {
            _root = new ChildRef(CopyFrozen(frozenRoot));
        }
        if (_root.Node is not { } node)
        {
            var record = Resolve(_root.Address, context);
            if (record is null)
            {
                return null;
            }
            node = Decode(CheckPage(record, _root.Address, -1));
            Supersede(_root.Address);
            _root = new ChildRef(node);
            _dirtyPages++;
        }
        while (node is InternalNode inner)
        {
            var index = inner.FindChild(key);
            if (EnsureDirtyChild(inner, index, context) is not { } child)
            {
                return null;
            }
            path.Add((inner, index));
            node = child;
        }
        return (LeafNode)node;
    }

    /// <summary>The dirty node of child <paramref name="index"/>, copying its stored page if needed; null on a miss.</summary>
    private Node? EnsureDirtyChild(InternalNode parent, int index, ReadContext context)
    {
        var reference = parent.Children[index];
        if (reference.Node is { } dirty)
        {
            if (!dirty.Frozen)
            {
                return dirty;
            }
            var copy = CopyFrozen(dirty);
            parent.Children[index] = new ChildRef(copy);
            return copy;
        }
        var record = Resolve(reference.Address, context);
        if (record is null)
        {
            return null;
        }
        var node = Decode(CheckPage(record, reference.Address, parent.Level - 1));
        Supersede(reference.Address);
        parent.Children[index] = new ChildRef(node);
        _dirtyPages++;
        return node;
    }

    /// <summary>A writer's copy of a node that a checkpoint is serializing; the frozen page it will write is superseded.</summary>
    private Node CopyFrozen(Node frozen)
    {
        _copiedFrozen.Add(frozen);
        _dirtyPages++;
        return frozen.CloneMutable();
    }

    private Node Decode(PageView page) => page.IsLeaf ? LeafNode.FromPage(page, _maxInline) : InternalNode.FromPage(page);

    /// <summary>A stored record is no longer reachable from the in-memory tree: report it at the next checkpoint.</summary>
    private void Supersede(PageAddress address)
    {
        _superseded.Add(address);
        _cache.Remove(address);
    }
}
