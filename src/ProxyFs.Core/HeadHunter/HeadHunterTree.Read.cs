namespace ProxyFs.Core.HeadHunter;

public sealed partial class HeadHunterTree
{
    private enum Outcome
    {
        Continue,
        Stopped,
        Miss,
    }

    /// <summary>The value of <paramref name="key"/>, or null.</summary>
    public byte[]? Get(ReadOnlySpan<byte> key) => TryGet(key, out var value) ? value : null;

    /// <summary>Looks up <paramref name="key"/>; the value is a copy the caller owns.</summary>
    public bool TryGet(ReadOnlySpan<byte> key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[]? value)
    {
        ValidateKey(key);
        var context = new ReadContext();
        while (true)
        {
            _lock.EnterReadLock();
            try
            {
                var outcome = FloorOrExact(_root, -1, key, exactOnly: true, context, out _, out value);
                if (outcome != Outcome.Miss)
                {
                    return outcome == Outcome.Stopped;
                }
            }
            finally
            {
                _lock.ExitReadLock();
            }
            FetchMissing(context);
        }
    }

    /// <summary>True when <paramref name="key"/> is present (its value is not read).</summary>
    public bool ContainsKey(ReadOnlySpan<byte> key)
    {
        ValidateKey(key);
        var context = new ReadContext();
        while (true)
        {
            _lock.EnterReadLock();
            try
            {
                var found = FindLeafEntry(key, context, out var missed);
                if (!missed)
                {
                    return found;
                }
            }
            finally
            {
                _lock.ExitReadLock();
            }
            FetchMissing(context);
        }
    }

    /// <summary>The entry with the greatest key at or below <paramref name="key"/> (extent maps: the extent covering an offset).</summary>
    public bool TryGetFloor(
        ReadOnlySpan<byte> key,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[]? foundKey,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[]? value)
    {
        ValidateKey(key);
        var context = new ReadContext();
        while (true)
        {
            _lock.EnterReadLock();
            try
            {
                var outcome = FloorOrExact(_root, -1, key, exactOnly: false, context, out foundKey, out value);
                if (outcome != Outcome.Miss)
                {
                    return outcome == Outcome.Stopped;
                }
            }
            finally
            {
                _lock.ExitReadLock();
            }
            FetchMissing(context);
        }
    }

    /// <summary>The entry with the smallest key at or above <paramref name="key"/>.</summary>
    public bool TryGetCeiling(
        ReadOnlySpan<byte> key,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[]? foundKey,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[]? value)
    {
        byte[]? k = null, v = null;
        Scan(key, (entryKey, entryValue) =>
        {
            k = entryKey.ToArray();
            v = entryValue.ToArray();
            return false;
        });
        foundKey = k;
        value = v;
        return k is not null && v is not null;
    }

    /// <summary>
    /// Visits entries in key order from <paramref name="from"/> (inclusive, or exclusive when
    /// <paramref name="after"/>: resume after the last key seen) until the visitor returns false or the keys end.
    /// An empty <paramref name="from"/> starts at the first key. Returns false if the visitor stopped the scan.
    /// </summary>
    /// <remarks>
    /// Keys are visited strictly increasing and once each. The scan is not one snapshot: between leaves it may
    /// release the lock (on a cache miss), so concurrent changes behind the scan position are not seen and changes
    /// ahead of it may be.
    /// </remarks>
    public bool Scan(ReadOnlySpan<byte> from, EntryVisitor visitor, bool after = false)
    {
        ArgumentNullException.ThrowIfNull(visitor);
        return RunScan(from, after, new ScanState(visitor, null));
    }

    /// <summary>Like <see cref="Scan"/> but only keys: blob values are not read.</summary>
    public bool ScanKeys(ReadOnlySpan<byte> from, KeyVisitor visitor, bool after = false)
    {
        ArgumentNullException.ThrowIfNull(visitor);
        return RunScan(from, after, new ScanState(null, visitor));
    }

    /// <summary>Visits every entry whose key starts with <paramref name="prefix"/>, in order. Returns false if stopped.</summary>
    public bool ScanPrefix(ReadOnlySpan<byte> prefix, EntryVisitor visitor)
    {
        ArgumentNullException.ThrowIfNull(visitor);
        var copy = prefix.ToArray();
        var stoppedByVisitor = false;
        Scan(prefix, (key, value) =>
        {
            if (!key.StartsWith(copy))
            {
                return false;
            }
            if (!visitor(key, value))
            {
                stoppedByVisitor = true;
                return false;
            }
            return true;
        });
        return !stoppedByVisitor;
    }

    /// <summary>Number of keys starting with <paramref name="prefix"/> (a key scan of that range).</summary>
    public long CountPrefix(ReadOnlySpan<byte> prefix)
    {
        var copy = prefix.ToArray();
        long count = 0;
        ScanKeys(prefix, key =>
        {
            if (!key.StartsWith(copy))
            {
                return false;
            }
            count++;
            return true;
        });
        return count;
    }

    /// <summary>
    /// Entries in key order from <paramref name="from"/>, fetched <paramref name="batchSize"/> at a time under the
    /// lock and yielded outside it (safe to write to the tree while enumerating).
    /// </summary>
    public IEnumerable<KeyValuePair<byte[], byte[]>> Enumerate(byte[]? from = null, bool after = false, int batchSize = 256)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var batch = new List<KeyValuePair<byte[], byte[]>>(batchSize);
        var position = from ?? [];
        var exclusive = after;
        while (true)
        {
            batch.Clear();
            Scan(position, (key, value) =>
            {
                batch.Add(new(key.ToArray(), value.ToArray()));
                return batch.Count < batchSize;
            }, exclusive);
            foreach (var entry in batch)
            {
                yield return entry;
            }
            if (batch.Count < batchSize)
            {
                yield break;
            }
            position = batch[^1].Key;
            exclusive = true;
        }
    }

    private sealed class ScanState(EntryVisitor? entries, KeyVisitor? keys)
    {
        /// <summary>Leaves the scan has gone all the way through (drives read-ahead).</summary>
        public int LeavesFinished { get; set; }

        public EntryVisitor? Entries { get; } = entries;

        public KeyVisitor? Keys { get; } = keys;

        public ReadContext Context { get; } = new();

        public byte[] From { get; set; } = [];

        public bool After { get; set; }

        public byte[]? LastKey { get; set; }

        public bool Visit(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            var last = LastKey;
            if (last is null || last.Length != key.Length)
            {
                last = new byte[key.Length];
                LastKey = last;
            }
            key.CopyTo(last);
            return Keys is { } keys ? keys(key) : Entries!(key, value);
        }
    }

    private bool RunScan(ReadOnlySpan<byte> from, bool after, ScanState state)
    {
        if (from.Length > MaxKeyLength)
        {
            throw new ArgumentException($"keys are at most {MaxKeyLength} bytes", nameof(from));
        }
        state.From = from.ToArray();
        state.After = after && from.Length > 0;
        while (true)
        {
            Outcome outcome;
            _lock.EnterReadLock();
            try
            {
                outcome = ScanNode(_root, -1, state);
            }
            finally
            {
                _lock.ExitReadLock();
            }
            if (outcome != Outcome.Miss)
            {
                return outcome == Outcome.Continue;
            }
            FetchMissing(state.Context);
            if (state.LastKey is { } last)
            {
                state.From = (byte[])last.Clone();
                state.After = true;
            }
        }
    }

    private Outcome ScanNode(ChildRef reference, int expectedLevel, ScanState state)
    {
        var from = state.From.AsSpan();
        switch (reference.Node)
        {
            case InternalNode inner:
                for (var i = from.IsEmpty ? 0 : inner.FindChild(from); i < inner.Count; i++)
                {
                    var outcome = ScanNode(inner.Children[i], inner.Level - 1, state);
                    if (outcome == Outcome.Miss && inner.Level == 1)
                    {
                        PlanReadAhead(state, i, inner.Count, j => inner.Children[j]);
                    }
                    if (outcome != Outcome.Continue)
                    {
                        return outcome;
                    }
                }
                return Outcome.Continue;
            case LeafNode leaf:
                for (var i = StartIndex(leaf.Search(from), from, state.After); i < leaf.Count; i++)
                {
                    var entry = leaf.Entries[i];
                    var value = entry.Value.Span;
                    if (entry.IsStoredBlob && state.Keys is null)
                    {
                        var blob = Resolve(entry.Blob, state.Context);
                        if (blob is null)
                        {
                            return Outcome.Miss;
                        }
                        value = BlobData(blob, entry.Blob);
                    }
                    if (!state.Visit(entry.Key.Span, value))
                    {
                        return Outcome.Stopped;
                    }
                }
                state.LeavesFinished++;
                return Outcome.Continue;
        }
        var record = Resolve(reference.Address, state.Context);
        if (record is null)
        {
            return Outcome.Miss;
        }
        var page = CheckPage(record, reference.Address, expectedLevel);
        if (!page.IsLeaf)
        {
            for (var i = from.IsEmpty ? 0 : page.FindChild(from); i < page.Count; i++)
            {
                var outcome = ScanNode(new ChildRef(page.Child(i)), page.Level - 1, state);
                if (outcome == Outcome.Miss && page.Level == 1)
                {
                    PlanReadAhead(state, i, page.Count, j => new ChildRef(page.Child(j)));
                }
                if (outcome != Outcome.Continue)
                {
                    return outcome;
                }
            }
            return Outcome.Continue;
        }
        for (var i = StartIndex(page.Search(from), from, state.After); i < page.Count; i++)
        {
            ReadOnlySpan<byte> value = default;
            if (!page.TryGetInlineValue(i, out value, out var blobAddress) && state.Keys is null)
            {
                var blob = Resolve(blobAddress, state.Context);
                if (blob is null)
                {
                    return Outcome.Miss;
                }
                value = BlobData(blob, blobAddress);
            }
            if (!state.Visit(page.Key(i), value))
            {
                return Outcome.Stopped;
            }
        }
        state.LeavesFinished++;
        return Outcome.Continue;
    }

    private static int StartIndex(int search, ReadOnlySpan<byte> from, bool after)
    {
        if (from.IsEmpty)
        {
            return 0;
        }
        if (search >= 0)
        {
            return after ? search + 1 : search;
        }
        return ~search;
    }

    /// <summary>
    /// Exact lookup (<paramref name="exactOnly"/>) or floor lookup under <paramref name="reference"/>: Stopped
    /// when found (key and value copied out), Continue when absent, Miss when a page is not in memory.
    /// </summary>
    private Outcome FloorOrExact(
        ChildRef reference, int expectedLevel, ReadOnlySpan<byte> key, bool exactOnly, ReadContext context,
        out byte[]? foundKey, out byte[]? value)
    {
        foundKey = null;
        value = null;
        switch (reference.Node)
        {
            case InternalNode inner:
                for (var i = inner.FindChild(key); i >= 0; i--)
                {
                    var outcome = FloorOrExact(inner.Children[i], inner.Level - 1, key, exactOnly, context, out foundKey, out value);
                    if (outcome != Outcome.Continue || exactOnly)
                    {
                        return outcome;
                    }
                }
                return Outcome.Continue;
            case LeafNode leaf:
                {
                    var index = FloorIndex(leaf.Search(key), exactOnly);
                    if (index < 0)
                    {
                        return Outcome.Continue;
                    }
                    var entry = leaf.Entries[index];
                    if (!entry.IsStoredBlob)
                    {
                        value = entry.Value.ToArray();
                    }
                    else
                    {
                        var blob = Resolve(entry.Blob, context);
                        if (blob is null)
                        {
                            return Outcome.Miss;
                        }
                        value = BlobData(blob, entry.Blob).ToArray();
                    }
                    foundKey = exactOnly ? null : entry.Key.ToArray();
                    return Outcome.Stopped;
                }
        }
        var record = Resolve(reference.Address, context);
        if (record is null)
        {
            return Outcome.Miss;
        }
        var page = CheckPage(record, reference.Address, expectedLevel);
        if (!page.IsLeaf)
        {
            for (var i = page.FindChild(key); i >= 0; i--)
            {
                var outcome = FloorOrExact(new ChildRef(page.Child(i)), page.Level - 1, key, exactOnly, context, out foundKey, out value);
                if (outcome != Outcome.Continue || exactOnly)
                {
                    return outcome;
                }
            }
            return Outcome.Continue;
        }
        var found = FloorIndex(page.Search(key), exactOnly);
        if (found < 0)
        {
            return Outcome.Continue;
        }
        if (page.TryGetInlineValue(found, out var inline, out var blobAddress))
        {
            value = inline.ToArray();
        }
        else
        {
            var blob = Resolve(blobAddress, context);
            if (blob is null)
            {
                return Outcome.Miss;
            }
            value = BlobData(blob, blobAddress).ToArray();
        }
        foundKey = exactOnly ? null : page.Key(found).ToArray();
        return Outcome.Stopped;
    }

    private static int FloorIndex(int search, bool exactOnly)
    {
        if (search >= 0)
        {
            return search;
        }
        return exactOnly ? -1 : ~search - 1;
    }

    /// <summary>Whether <paramref name="key"/> is present, descending without reading values.</summary>
    private bool FindLeafEntry(ReadOnlySpan<byte> key, ReadContext context, out bool missed)
    {
        missed = false;
        var reference = _root;
        var expectedLevel = -1;
        while (true)
        {
            switch (reference.Node)
            {
                case InternalNode inner:
                    reference = inner.Children[inner.FindChild(key)];
                    expectedLevel = inner.Level - 1;
                    continue;
                case LeafNode leaf:
                    return leaf.Search(key) >= 0;
            }
            var record = Resolve(reference.Address, context);
            if (record is null)
            {
                missed = true;
                return false;
            }
            var page = CheckPage(record, reference.Address, expectedLevel);
            if (page.IsLeaf)
            {
                return page.Search(key) >= 0;
            }
            expectedLevel = page.Level - 1;
            reference = new ChildRef(page.Child(page.FindChild(key)));
        }
    }
}
