namespace ProxyFs.Core.HeadHunter;

/// <summary>The shape of a tree, from a full walk (see <see cref="HeadHunterTree.Verify"/>).</summary>
/// <param name="Height">Levels, 1 for a lone leaf.</param>
/// <param name="Entries">Keys in the tree.</param>
/// <param name="LeafNodes">Leaves, stored or dirty.</param>
/// <param name="InternalNodes">Internal nodes, stored or dirty.</param>
/// <param name="DirtyNodes">Nodes not yet written by a checkpoint.</param>
/// <param name="StoredRecords">Stored pages and blobs reachable from the root.</param>
/// <param name="StoredBytes">Their total length.</param>
/// <param name="UnderfullNodes">Non-root nodes under a quarter page (a few are normal after deletes).</param>
public readonly record struct TreeShape(
    int Height,
    long Entries,
    long LeafNodes,
    long InternalNodes,
    long DirtyNodes,
    long StoredRecords,
    long StoredBytes,
    long UnderfullNodes);

public sealed partial class HeadHunterTree
{
    /// <summary>
    /// Walks the whole tree under the shared lock (reading missing pages under it: a maintenance operation, for
    /// fsck and tests) and checks every invariant: levels, key order within and across nodes, separators, page
    /// sizes, dirty bookkeeping. Throws <see cref="HeadHunterCorruptionException"/> for a bad stored record and
    /// <see cref="InvalidOperationException"/> for a broken invariant. <paramref name="storedRecord"/>, if given,
    /// receives every stored page and blob reachable from the root (for space accounting and fsck).
    /// </summary>
    public TreeShape Verify(Action<PageAddress, RecordKind>? storedRecord = null)
    {
        var context = new ReadContext { LoadUnderLock = true };
        _lock.EnterReadLock();
        try
        {
            var walk = new Walk(storedRecord);
            var height = VerifyNode(_root, -1, null, null, isRoot: true, walk, context) + 1;
            if (walk.MutableDirtyNodes != _dirtyPages)
            {
                throw new InvalidOperationException($"{walk.MutableDirtyNodes} dirty nodes in the tree but {_dirtyPages} counted");
            }
            return new TreeShape(height, walk.Entries, walk.Leaves, walk.Internals, walk.DirtyNodes, walk.Records, walk.Bytes, walk.Underfull);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    private sealed class Walk(Action<PageAddress, RecordKind>? storedRecord)
    {
        public long Entries { get; set; }

        public long Leaves { get; set; }

        public long Internals { get; set; }

        public long DirtyNodes { get; set; }

        /// <summary>Dirty nodes not frozen by a checkpoint that is serializing them.</summary>
        public long MutableDirtyNodes { get; set; }

        public long Records { get; set; }

        public long Bytes { get; set; }

        public long Underfull { get; set; }

        public void Stored(PageAddress address, RecordKind kind)
        {
            Records++;
            Bytes += address.Length;
            storedRecord?.Invoke(address, kind);
        }
    }

    /// <summary>Checks the subtree and returns its level. Keys must lie in [low, high).</summary>
    private int VerifyNode(ChildRef reference, int expectedLevel, byte[]? low, byte[]? high, bool isRoot, Walk walk, ReadContext context)
    {
        int level, count, size;
        var keys = new List<byte[]>();
        var children = new List<ChildRef>();
        if (reference.Node is { } node)
        {
            walk.DirtyNodes++;
            walk.MutableDirtyNodes += node.Frozen ? 0 : 1;
            level = node.Level;
            count = node.Count;
            size = node.ByteSize;
            if (node is LeafNode leaf)
            {
                var computed = PageFormat.HeaderLength;
                foreach (var entry in leaf.Entries)
                {
                    keys.Add(entry.Key.ToArray());
                    computed += leaf.EntryLength(entry);
                    if (entry.IsStoredBlob)
                    {
                        VerifyBlob(entry.Blob, walk, context);
                    }
                }
                Require(computed == size, $"dirty leaf size {size} but entries need {computed}");
            }
            else
            {
                var inner = (InternalNode)node;
                var computed = PageFormat.HeaderLength;
                for (var i = 0; i < inner.Count; i++)
                {
                    keys.Add(inner.Keys[i]);
                    children.Add(inner.Children[i]);
                    computed += PageFormat.SlotLength + PageFormat.InternalEntryLength(inner.Keys[i].Length);
                }
                Require(computed == size, $"dirty internal node size {size} but entries need {computed}");
            }
        }
        else
        {
            var record = Resolve(reference.Address, context)!;
            var page = CheckPage(record, reference.Address, expectedLevel);
            walk.Stored(reference.Address, page.IsLeaf ? RecordKind.Leaf : RecordKind.Internal);
            level = page.Level;
            count = page.Count;
            size = record.Length;
            for (var i = 0; i < count; i++)
            {
                keys.Add(page.Key(i).ToArray());
                if (!page.IsLeaf)
                {
                    children.Add(new ChildRef(page.Child(i)));
                }
                else if (!page.TryGetInlineValue(i, out _, out var blob))
                {
                    VerifyBlob(blob, walk, context);
                }
            }
        }
        Require(expectedLevel < 0 || level == expectedLevel, $"node at level {level} where {expectedLevel} was expected");
        Require(size <= _pageSize, $"node of {size} bytes exceeds the {_pageSize}-byte page");
        if (!isRoot && (size < _minFill || (level > 0 && count < 2)))
        {
            walk.Underfull++;
        }
        if (level == 0)
        {
            walk.Leaves++;
            walk.Entries += count;
            Require(isRoot || count > 0, "empty non-root leaf");
            for (var i = 0; i < count; i++)
            {
                Require(i == 0 || Compare(keys[i - 1], keys[i]) < 0, "leaf keys out of order");
                Require(low is null || Compare(low, keys[i]) <= 0, "leaf key below its separator");
                Require(high is null || Compare(keys[i], high) < 0, "leaf key at or above the next separator");
            }
            return 0;
        }
        walk.Internals++;
        Require(count >= 1 && keys[0].Length == 0, "internal node without children or with a key on child 0");
        for (var i = 0; i < count; i++)
        {
            var childLow = i == 0 ? low : keys[i];
            var childHigh = i + 1 < count ? keys[i + 1] : high;
            if (i > 0)
            {
                Require(i == 1 || Compare(keys[i - 1], keys[i]) < 0, "separators out of order");
                Require(low is null || Compare(low, keys[i]) < 0, "separator at or below the parent's");
                Require(high is null || Compare(keys[i], high) < 0, "separator at or above the parent's next");
            }
            VerifyNode(children[i], level - 1, childLow, childHigh, isRoot: false, walk, context);
        }
        return level;
    }

    private void VerifyBlob(PageAddress address, Walk walk, ReadContext context)
    {
        BlobData(Resolve(address, context)!, address);
        walk.Stored(address, RecordKind.Blob);
    }

    private static int Compare(byte[] a, byte[] b) => a.AsSpan().SequenceCompareTo(b);

    private static void Require(bool condition, string problem)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"HeadHunter invariant broken: {problem}");
        }
    }
}
