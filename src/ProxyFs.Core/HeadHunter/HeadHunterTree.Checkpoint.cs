using System.Diagnostics;

namespace ProxyFs.Core.HeadHunter;

public sealed partial class HeadHunterTree
{
    /// <summary>
    /// Writes every dirty node and new large value into one metadata segment image named
    /// <paramref name="segmentNonce"/>, makes the tree refer to the written records (read from the image itself
    /// until <see cref="CompleteCheckpoint"/>), and returns the image, the new root and the superseded records.
    /// Throws if a checkpoint is already in flight.
    /// </summary>
    /// <remarks>
    /// Three steps. <b>Freeze</b> (exclusive lock, a walk of the dirty nodes): the dirty tree becomes the snapshot
    /// to write; from now on a writer that needs to change a frozen node changes a copy. <b>Serialize</b> (no
    /// lock): the frozen nodes, which nobody changes any more, are written children first into the image while
    /// readers and writers go on. <b>Swizzle</b> (exclusive lock, a walk of the nodes dirtied since the freeze):
    /// references to frozen nodes become the written addresses; frozen nodes that writers copied meanwhile are
    /// superseded at once and reported by the next checkpoint. If serialization fails the frozen nodes are thawed
    /// and the tree is as if the checkpoint had not started.
    /// </remarks>
    public HeadHunterCheckpoint BeginCheckpoint(ulong segmentNonce)
    {
        var started = Stopwatch.GetTimestamp();
        var frozen = Freeze(segmentNonce, out var superseded, out var frozenCount, out var cleanRoot);
        var lockHeld = Stopwatch.GetElapsedTime(started);
        if (frozen is null)
        {
            // The root as it was under the lock: a writer may dirty the tree the moment the lock is released.
            var unchanged = new HeadHunterCheckpoint(
                segmentNonce, ReadOnlyMemory<byte>.Empty, cleanRoot, [], superseded, 0, 0, lockHeld, lockHeld);
            return unchanged;
        }

        var written = new Dictionary<Node, PageAddress>(ReferenceEqualityComparer.Instance);
        var blobs = new Dictionary<LeafNode, PageAddress[]>(ReferenceEqualityComparer.Instance);
        SegmentWriter writer;
        PageAddress rootAddress;
        ReadOnlyMemory<byte> segment;
        try
        {
            AfterFreeze?.Invoke();
            writer = new SegmentWriter(segmentNonce, _pageSize, (int)Math.Min(int.MaxValue / 2, (frozenCount + 1L) * _pageSize));
            rootAddress = WriteFrozen(frozen, writer, written, blobs);
            segment = writer.Finish(rootAddress);
        }
        catch
        {
            Thaw(superseded);
            throw;
        }

        var swizzleStarted = Stopwatch.GetTimestamp();
        _lock.EnterWriteLock();
        try
        {
            if (written.Count != frozenCount)
            {
                DirtyCountDrifts++;
            }
            Swizzle(written, blobs);
            _inFlightSegment = new InFlightSegment(segmentNonce, segment);
            var checkpoint = new HeadHunterCheckpoint(
                segmentNonce, segment, rootAddress, writer.Written, superseded, writer.Pages, writer.Blobs,
                lockHeld + Stopwatch.GetElapsedTime(swizzleStarted), Stopwatch.GetElapsedTime(started));
            _inFlight = checkpoint;
            _checkpointing = false;
            return checkpoint;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>
    /// Tells the tree that <paramref name="checkpoint"/>'s segment is stored: from now on its records not in the
    /// cache are read from the page source, and the tree drops its reference to the image.
    /// </summary>
    public void CompleteCheckpoint(HeadHunterCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        _lock.EnterWriteLock();
        try
        {
            if (checkpoint.IsEmpty && !checkpoint.Completed)
            {
                // Nothing was written: nothing to release.
                checkpoint.Completed = true;
                return;
            }
            if (!ReferenceEquals(_inFlight, checkpoint) || checkpoint.Completed)
            {
                throw new InvalidOperationException($"checkpoint into segment {checkpoint.SegmentNonce:x16} is not the one in flight");
            }
            checkpoint.Completed = true;
            _inFlight = null;
            _inFlightSegment = null;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>True between <see cref="BeginCheckpoint"/> and <see cref="CompleteCheckpoint"/>.</summary>
    public bool CheckpointInFlight => Volatile.Read(ref _inFlight) is not null || Volatile.Read(ref _checkpointing);

    /// <summary>Test hook: runs between freeze and serialization, outside the lock (writes may run there).</summary>
    internal Action? AfterFreeze { get; set; }

    /// <summary>Number of checkpoints whose dirty page count differed from the nodes written (a bookkeeping bug; tests check it is 0).</summary>
    internal int DirtyCountDrifts { get; private set; }

    /// <summary>
    /// Under the exclusive lock: takes the superseded list and marks every dirty node frozen. Returns the frozen
    /// root, or null when nothing is dirty (then <paramref name="cleanRoot"/> is the stored root).
    /// </summary>
    private Node? Freeze(ulong segmentNonce, out PageAddress[] superseded, out long frozenCount, out PageAddress cleanRoot)
    {
        _lock.EnterWriteLock();
        try
        {
            if (_inFlight is not null || _checkpointing)
            {
                throw new InvalidOperationException(
                    $"checkpoint into segment {(_inFlight?.SegmentNonce ?? segmentNonce):x16} is still in flight: complete it first");
            }
            superseded = _superseded.ToArray();
            _superseded.Clear();
            frozenCount = _dirtyPages;
            cleanRoot = _root.Address;
            if (_root.Node is not { } root)
            {
                return null;
            }
            SetFrozen(root, frozen: true);
            _dirtyPages = 0;
            _checkpointing = true;
            return root;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Marks (or unmarks) every dirty node under <paramref name="node"/>; returns how many.</summary>
    private static long SetFrozen(Node node, bool frozen)
    {
        node.Frozen = frozen;
        long count = 1;
        if (node is InternalNode inner)
        {
            foreach (var child in inner.Children)
            {
                if (child.Node is { } dirty && dirty.Frozen != frozen)
                {
                    count += SetFrozen(dirty, frozen);
                }
            }
        }
        return count;
    }

    /// <summary>Writes the frozen subtree (children first, blobs before their leaf) without changing it.</summary>
    private PageAddress WriteFrozen(Node node, SegmentWriter writer, Dictionary<Node, PageAddress> written, Dictionary<LeafNode, PageAddress[]> blobs)
    {
        PageAddress[]? leafBlobs = null;
        if (node is InternalNode inner)
        {
            foreach (var child in inner.Children)
            {
                if (child.Node is { } dirty)
                {
                    WriteFrozen(dirty, writer, written, blobs);
                }
            }
        }
        else
        {
            var leaf = (LeafNode)node;
            for (var i = 0; i < leaf.Count; i++)
            {
                var entry = leaf.Entries[i];
                if (leaf.IsPendingBlob(entry))
                {
                    leafBlobs ??= new PageAddress[leaf.Count];
                    leafBlobs[i] = writer.WriteBlob(entry.Value.Span);
                }
            }
            if (leafBlobs is not null)
            {
                blobs[leaf] = leafBlobs;
            }
        }
        var address = writer.WriteNode(node, child => written[child], leafBlobs);
        written[node] = address;
        return address;
    }

    /// <summary>
    /// Under the exclusive lock, after serialization: references to written nodes become their addresses, and the
    /// pages (and blobs) of frozen nodes that writers copied meanwhile are superseded.
    /// </summary>
    private void Swizzle(Dictionary<Node, PageAddress> written, Dictionary<LeafNode, PageAddress[]> blobs)
    {
        if (_root.Node is { } root)
        {
            if (written.TryGetValue(root, out var rootAddress))
            {
                _root = new ChildRef(rootAddress);
            }
            else
            {
                SwizzleChildren(root, written);
            }
        }
        foreach (var copied in _copiedFrozen)
        {
            _superseded.Add(written[copied]);
            if (copied is LeafNode leaf && blobs.TryGetValue(leaf, out var leafBlobs))
            {
                _superseded.AddRange(leafBlobs.Where(b => !b.IsNone));
            }
        }
        _copiedFrozen.Clear();
    }

    private static void SwizzleChildren(Node node, Dictionary<Node, PageAddress> written)
    {
        if (node is not InternalNode inner)
        {
            return;
        }
        for (var i = 0; i < inner.Count; i++)
        {
            if (inner.Children[i].Node is not { } child)
            {
                continue;
            }
            if (written.TryGetValue(child, out var address))
            {
                inner.Children[i] = new ChildRef(address);
            }
            else
            {
                SwizzleChildren(child, written);
            }
        }
    }

    /// <summary>Serialization failed: the frozen nodes still in the tree become ordinary dirty nodes again.</summary>
    private void Thaw(PageAddress[] superseded)
    {
        _lock.EnterWriteLock();
        try
        {
            if (_root.Node is { } root)
            {
                _dirtyPages += ThawReachable(root);
            }
            _copiedFrozen.Clear();
            _superseded.InsertRange(0, superseded);
            _checkpointing = false;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    private static long ThawReachable(Node node)
    {
        long thawed = 0;
        if (node.Frozen)
        {
            node.Frozen = false;
            thawed++;
        }
        if (node is InternalNode inner)
        {
            foreach (var child in inner.Children)
            {
                if (child.Node is { } dirty)
                {
                    thawed += ThawReachable(dirty);
                }
            }
        }
        return thawed;
    }
}
