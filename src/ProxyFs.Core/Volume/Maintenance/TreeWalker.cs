using ProxyFs.Core.HeadHunter;
using ProxyFs.ObjectStore;

namespace ProxyFs.Core.Volume.Maintenance;

/// <summary>
/// Visits every stored record (page or blob) reachable from one or more tree roots, each address once (the
/// generations a root pointer keeps share most of their pages), checking each record as a reader would
/// (<see cref="PageFormat.Validate"/>). Counts the reachable bytes per metadata segment; problems are collected,
/// never thrown, so one bad page does not hide the rest.
/// </summary>
internal sealed class TreeWalker(IPageSource pages)
{
    private readonly HashSet<PageAddress> _visited = [];

    /// <summary>Reachable record bytes per metadata segment nonce.</summary>
    public Dictionary<ulong, long> BytesBySegment { get; } = [];

    /// <summary>One line per record that could not be read or failed its checks.</summary>
    public List<string> Errors { get; } = [];

    public long Records => _visited.Count;

    /// <summary>Walks the tree under <paramref name="root"/> (<paramref name="what"/> names it in errors).</summary>
    public void Walk(PageAddress root, string what, Action? recordRead = null)
    {
        var stack = new Stack<PageAddress>();
        if (!root.IsNone)
        {
            stack.Push(root);
        }
        while (stack.TryPop(out PageAddress address))
        {
            if (!_visited.Add(address))
            {
                continue;
            }
            recordRead?.Invoke();
            byte[] record;
            try
            {
                record = pages.ReadPage(address);
                PageFormat.Validate(record, address);
            }
            catch (HeadHunterCorruptionException e)
            {
                Errors.Add($"{what}: {e.Message}");
                continue;
            }
            catch (ObjectStoreException e) when (e.Kind == ObjectStoreErrorKind.NotFound)
            {
                Errors.Add($"{what}: {address}: metadata segment {VolumeLayout.MetadataSegments.KeyOf(address.SegmentNonce)} is missing");
                continue;
            }
            BytesBySegment[address.SegmentNonce] = BytesBySegment.GetValueOrDefault(address.SegmentNonce) + address.Length;
            RecordKind kind = PageFormat.KindOf(record);
            if (kind == RecordKind.Blob)
            {
                continue;
            }
            var page = new PageView(record);
            for (int i = 0; i < page.Count; i++)
            {
                if (kind == RecordKind.Internal)
                {
                    stack.Push(page.Child(i));
                }
                else if (!page.TryGetInlineValue(i, out _, out PageAddress blob))
                {
                    stack.Push(blob);
                }
            }
        }
    }

    /// <summary>Walks every generation <paramref name="root"/> keeps: its own tree and each earlier one.</summary>
    public void WalkKept(RootPointer root, Action? recordRead = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        Walk(root.TreeRoot, $"generation {root.Generation}", recordRead);
        foreach (CheckpointGeneration g in root.History)
        {
            Walk(g.TreeRoot, $"generation {g.Generation}", recordRead);
        }
    }
}
