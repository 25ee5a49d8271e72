namespace ProxyFs.Core.HeadHunter;

public sealed partial class HeadHunterTree
{
    /// <summary>Up to this many leaves are read ahead by a scan (the window doubles with each leaf it finishes).</summary>
    private const int MaxReadAhead = 16;

    /// <summary>
    /// Reads the missing page and the scan's next leaves in one <see cref="IPageSource.ReadPages"/> call. A
    /// read-ahead page that fails validation is not cached: the scan reads it again when it gets there, and that
    /// read reports the corruption.
    /// </summary>
    private void LoadWithReadAhead(ReadContext context)
    {
        var addresses = new List<PageAddress>(context.ReadAhead.Count + 1) { context.Missing };
        addresses.AddRange(context.ReadAhead);
        var records = _source.ReadPages(addresses);
        if (records.Count != addresses.Count)
        {
            throw new InvalidOperationException($"the page source returned {records.Count} records for {addresses.Count} addresses");
        }
        for (var i = 0; i < addresses.Count; i++)
        {
            _cache.CountMiss();
            if (i == 0)
            {
                PageFormat.Validate(records[i], addresses[i]);
            }
            else if (!PageFormat.IsValid(records[i], addresses[i]))
            {
                continue;
            }
            var cached = _cache.Add(addresses[i], records[i]);
            context.Keep(addresses[i], cached);
        }
    }

    /// <summary>
    /// After a scan missed leaf <paramref name="index"/> of a level-1 node, lists the following leaves that are not
    /// cached, once the scan has finished a leaf already (a scan that stops in its first leaf reads nothing extra).
    /// </summary>
    private void PlanReadAhead(ScanState scan, int index, int count, Func<int, ChildRef> child)
    {
        var context = scan.Context;
        if (scan.LeavesFinished == 0 || context.Missing != child(index).Address)
        {
            return;
        }
        var window = Math.Min(MaxReadAhead, 1 << Math.Min(scan.LeavesFinished, 4));
        for (var i = index + 1; i < count && context.ReadAhead.Count < window; i++)
        {
            var next = child(i);
            if (!next.IsDirty && !_cache.Contains(next.Address))
            {
                context.ReadAhead.Add(next.Address);
            }
        }
    }
}
