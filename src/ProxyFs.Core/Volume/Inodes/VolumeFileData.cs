using ProxyFs.Core.FileSystem.Inodes;

namespace ProxyFs.Core.Volume.Inodes;

/// <summary>
/// The contents of one regular file: an extent map in the tree, one 'E' record (ino, file offset) → (kind, length,
/// segment nonce, offset in the segment) per extent. Extents never overlap; a byte no extent covers is a hole. A write
/// appends its bytes to the volume's open log segment and points a new extent at them (merged with the extent before it
/// when that one ends in the same segment exactly where this one starts, as sequential writes do); what the new extent
/// covers of older ones is cut out of them. Copies share extents: no data moves.
/// </summary>
/// <remarks>
/// st_blocks, SEEK_DATA and SEEK_HOLE count whole 4 KiB pages, as tmpfs does: a page any extent touches is allocated
/// and holds data. So a partial page keeps its allocation when part of it is punched or cut off (its bytes read as
/// zeros), as on tmpfs. The inode's lock is held for every call.
/// </remarks>
internal sealed class VolumeFileData : IFileData
{
    private const long Page = VolumeInodeStore.PageSize;

    private readonly VolumeInodeStore _store;
    private readonly ulong _ino;
    private Inode? _owner;
    private long _pages;

    public VolumeFileData(VolumeInodeStore store, ulong ino, ulong blocks)
    {
        _store = store;
        _ino = ino;
        _pages = (long)(blocks / (Page / 512));
    }

    public void Attach(Inode owner) => _owner = owner;

    public ulong AllocatedBlocks => (ulong)_pages * (Page / 512);

    // ---- reads ----

    /// <summary>Under the inode's lock: the plan of the read (<see cref="PlanRead"/>), read at once.</summary>
    public void Read(long offset, Span<byte> destination) => Plan(offset, destination.Length).Read(destination);

    /// <summary>
    /// The extents behind [offset, offset + length) as a plan read without the inode's lock (in this thread's reusable
    /// plan: no allocation per read); read-ahead is started here, under the lock, as by <see cref="Read"/>.
    /// </summary>
    public FileReadPlan? PlanRead(long offset, int length) => Plan(offset, length);

    private VolumeReadPlan Plan(long offset, int length)
    {
        var plan = VolumeReadPlan.ForThisThread(_store.Core.DataReader);
        long end = offset + length;
        if (length > 0 && Floor(offset) is { } only && only.End >= end)
        {
            plan.Add(only.Value, only.Value.SegmentOffset + (ulong)(offset - only.Start), length);
        }
        else
        {
            long position = offset;
            foreach (Extent e in Overlapping(offset, end))
            {
                if (e.Start > position)
                {
                    plan.AddHole((int)(e.Start - position));
                    position = e.Start;
                }
                long upTo = Math.Min(e.End, end);
                plan.Add(e.Value, e.Value.SegmentOffset + (ulong)(position - e.Start), (int)(upTo - position));
                position = upTo;
            }
            if (position < end)
            {
                plan.AddHole((int)(end - position));
            }
        }
        _store.ReadAhead(this, _ino, offset, length);
        return plan;
    }

    /// <summary>
    /// Starts fetching the segment bytes behind [offset, offset+length) of the file into the read cache. A range that
    /// ends inside a segment goes on to where the file stops reading that segment when that is near (no further than the
    /// range's own length, within one read-ahead request): the rest of the segment then comes with this range's GET
    /// rather than with a second one the next read-ahead would make for it (a 1 GiB sequential read made 137 data GETs
    /// for its 103 segments).
    /// </summary>
    public void Prefetch(long offset, long length)
    {
        long end = offset + length;
        long limit = end + Math.Min(length, _store.Core.DataReader.Cache.MaxRequestBytes);
        List<Extent> extents = Overlapping(offset, limit);
        long stretched = SegmentRunEnd(extents, end, limit);
        var reader = _store.Core.DataReader;
        ulong? looked = null;
        long dataLength = 0;
        foreach (Extent e in extents)
        {
            if (e.Start >= stretched)
            {
                break;
            }
            if (e.Value.Kind != ExtentKind.Data)
            {
                continue;
            }
            if (e.Value.Nonce != looked)
            {
                // A segment whose footer is not known yet: its data length lets its last lines' GET take the footer too.
                looked = e.Value.Nonce;
                dataLength = reader.HasFooter(e.Value.Nonce) ? 0 : _store.SegmentDataLength(e.Value.Nonce);
            }
            long from = Math.Max(e.Start, offset);
            long to = Math.Min(e.End, stretched);
            reader.Prefetch(e.Value.Nonce, (long)e.Value.SegmentOffset + (from - e.Start), to - from, dataLength);
        }
    }

    /// <summary>
    /// Where the file stops reading, contiguously, the segment its byte before <paramref name="end"/> is in, when that
    /// is no further than <paramref name="limit"/>; otherwise <paramref name="end"/> (a hole there, or a segment that
    /// goes on past the limit).
    /// </summary>
    internal static long SegmentRunEnd(List<Extent> extents, long end, long limit)
    {
        int i = extents.FindIndex(e => e.Start < end && e.End >= end);
        if (i < 0 || extents[i].Value.Kind != ExtentKind.Data)
        {
            return end;
        }
        Extent last = extents[i];
        for (int j = i + 1; j < extents.Count; j++)
        {
            Extent next = extents[j];
            bool continues = next.Start == last.End && next.Value.Kind == ExtentKind.Data && next.Value.Nonce == last.Value.Nonce
                && next.Value.SegmentOffset == last.Value.SegmentOffset + last.Value.Length;
            if (!continues)
            {
                break;
            }
            last = next;
        }
        return last.End <= limit ? last.End : end;
    }

    public long NextData(long offset)
    {
        foreach (Extent e in From(offset))
        {
            if (e.Value.Kind != ExtentKind.Unwritten && RoundUp(e.End) > offset)
            {
                return Math.Max(offset, RoundDown(e.Start));
            }
        }
        return -1;
    }

    public long NextHole(long offset)
    {
        long position = offset;
        foreach (Extent e in From(offset))
        {
            if (e.Value.Kind == ExtentKind.Unwritten)
            {
                continue;
            }
            if (RoundDown(e.Start) > position)
            {
                break;
            }
            position = Math.Max(position, RoundUp(e.End));
        }
        return position;
    }

    // ---- changes ----

    public int Write(InodeOperation op, long offset, ReadOnlySpan<byte> source)
    {
        op.Record(_store);
        var data = _store.Core.Data ?? throw new InvalidOperationException("a write reached a volume mounted read-only");
        long lo = RoundDown(offset);
        long hi = RoundUp(offset + source.Length);
        long before = CoveredPages(lo, hi);
        while (!source.IsEmpty)
        {
            int n = Math.Min(source.Length, _store.MaxAppend);
            LogSegments.SegmentLocation at = data.Append(source[..n]);
            Place(offset, new ExtentValue(ExtentKind.Data, (ulong)n, at.Nonce, (ulong)at.Offset));
            offset += n;
            source = source[n..];
        }
        Changed(op, before, lo, hi);
        return 0;
    }

    public void Truncate(InodeOperation op, long size)
    {
        op.Record(_store);
        long lo = RoundDown(size);
        long before = CoveredPages(lo, long.MaxValue);
        // The page the new end falls in keeps what it was (allocated, written), as tmpfs keeps a partial last page.
        PageState last = size > lo ? StateOf(lo) : PageState.Hole;
        Cut(size, long.MaxValue);
        if (StateOf(lo) < last)
        {
            Restore(lo, size, last);
        }
        Changed(op, before, lo, long.MaxValue);
    }

    public void PunchHole(InodeOperation op, long offset, long length)
    {
        op.Record(_store);
        long end = offset + length;
        long lo = RoundDown(offset);
        long hi = RoundUp(end);
        long before = CoveredPages(lo, hi);
        // Whole pages go; the parts of partial pages at either edge read as zeros but stay allocated, as on tmpfs.
        long innerFrom = RoundUp(offset);
        long innerTo = RoundDown(end);
        if (innerFrom >= innerTo)
        {
            ZeroCovered(offset, end);
        }
        else
        {
            ZeroCovered(offset, innerFrom);
            Cut(innerFrom, innerTo);
            ZeroCovered(innerTo, end);
        }
        Changed(op, before, lo, hi);
    }

    public int ZeroRange(InodeOperation op, long offset, long length)
    {
        op.Record(_store);
        long end = offset + length;
        long before = CoveredPages(RoundDown(offset), RoundUp(end));
        Cut(offset, end);
        PutExtent(offset, new ExtentValue(ExtentKind.Unwritten, (ulong)length, 0, 0));
        Changed(op, before, RoundDown(offset), RoundUp(end));
        return 0;
    }

    public int Allocate(InodeOperation op, long offset, long length)
    {
        op.Record(_store);
        long end = offset + length;
        long before = CoveredPages(RoundDown(offset), RoundUp(end));
        // A page allocated and never written that is allocated again becomes written zeros, as on tmpfs.
        // (A page partly written already is data anyway: converting its unwritten parts too changes nothing visible.)
        long lo = RoundDown(offset);
        long hi = RoundUp(end);
        foreach (Extent e in Overlapping(lo, hi))
        {
            if (e.Value.Kind == ExtentKind.Unwritten)
            {
                Restore(Math.Max(RoundDown(e.Start), lo), Math.Min(RoundUp(e.End), hi), PageState.Written);
            }
        }
        long position = offset;
        foreach (Extent e in Overlapping(offset, end))
        {
            if (e.Start > position)
            {
                PutExtent(position, new ExtentValue(ExtentKind.Unwritten, (ulong)(e.Start - position), 0, 0));
            }
            position = Math.Max(position, e.End);
        }
        if (position < end)
        {
            PutExtent(position, new ExtentValue(ExtentKind.Unwritten, (ulong)(end - position), 0, 0));
        }
        Changed(op, before, RoundDown(offset), RoundUp(end));
        return 0;
    }

    public int CopyFrom(InodeOperation op, IFileData source, long sourceOffset, long offset, long length)
    {
        var from = (VolumeFileData)source;
        op.Record(_store);
        long end = offset + length;
        // Read the source's map first: the source may be this file (the ranges do not overlap).
        List<Extent> pieces = from.Overlapping(sourceOffset, sourceOffset + length);
        long before = CoveredPages(RoundDown(offset), RoundUp(end));
        Cut(offset, end);
        long position = sourceOffset;
        long shift = offset - sourceOffset;
        foreach (Extent e in pieces)
        {
            long s = Math.Max(e.Start, sourceOffset);
            long t = Math.Min(e.End, sourceOffset + length);
            if (s > position)
            {
                // A hole of the source is copied as written zeros, as the kernel's copy of a tmpfs file writes them.
                PutExtent(position + shift, new ExtentValue(ExtentKind.Zeroed, (ulong)(s - position), 0, 0));
            }
            ExtentValue v = e.Value;
            ExtentValue piece = v.Kind == ExtentKind.Data
                ? v with { Length = (ulong)(t - s), SegmentOffset = v.SegmentOffset + (ulong)(s - e.Start) }
                : new ExtentValue(ExtentKind.Zeroed, (ulong)(t - s), 0, 0);
            PutExtent(s + shift, piece);
            if (v.Kind == ExtentKind.Data)
            {
                _store.CountUsage(v.Nonce, t - s, (long)piece.SegmentOffset + (t - s));
            }
            position = t;
        }
        if (position < sourceOffset + length)
        {
            PutExtent(position + shift, new ExtentValue(ExtentKind.Zeroed, (ulong)(sourceOffset + length - position), 0, 0));
        }
        Changed(op, before, RoundDown(offset), RoundUp(end));
        return 0;
    }

    /// <summary>The inode is freed: every extent goes and its bytes stop counting as live.</summary>
    public void ReleaseAll()
    {
        Cut(0, long.MaxValue);
        _pages = 0;
    }

    // ---- the extent map ----

    /// <summary>One extent: where it starts in the file, and its value.</summary>
    internal readonly record struct Extent(long Start, ExtentValue Value)
    {
        public long End => Start + (long)Value.Length;
    }

    /// <summary>The extents that overlap [from, to), in file order.</summary>
    internal List<Extent> Overlapping(long from, long to)
    {
        var found = new List<Extent>();
        if (to <= from)
        {
            return found;
        }
        bool floorAtFrom = false;
        if (Floor(from) is { } first && first.End > from)
        {
            found.Add(first);
            floorAtFrom = first.Start == from; // the scan must not add it again
        }
        ScanFrom(from, includeFrom: !floorAtFrom, e =>
        {
            if (e.Start >= to)
            {
                return false;
            }
            found.Add(e);
            return true;
        });
        return found;
    }

    /// <summary>The extent that contains or precedes <paramref name="offset"/>, then all after it, in file order.</summary>
    private List<Extent> From(long offset)
    {
        var found = new List<Extent>();
        Extent? first = Floor(offset);
        long start = first?.Start ?? 0;
        ScanFrom(start, includeFrom: true, e =>
        {
            found.Add(e);
            return true;
        });
        return found;
    }

    /// <summary>True when an extent starts at <paramref name="offset"/> with exactly <paramref name="value"/> (compaction checks before it moves one).</summary>
    internal bool HasExtent(long offset, ExtentValue value) => Floor(offset) is { } e && e.Start == offset && e.Value == value;

    /// <summary>The extent that starts at or before <paramref name="offset"/>, or null.</summary>
    private Extent? Floor(long offset)
    {
        Span<byte> key = stackalloc byte[17];
        VolumeKeys.OfExtent(key, _ino, (ulong)offset);
        if (_store.Tree.TryGetFloor(key, out byte[]? found, out byte[]? value) && IsMine(found))
        {
            return new Extent((long)VolumeKeys.SecondNumber(found), ExtentValue.Decode(value));
        }
        return null;
    }

    private void ScanFrom(long offset, bool includeFrom, Func<Extent, bool> visit)
    {
        byte[] key = new byte[17];
        VolumeKeys.OfExtent(key, _ino, (ulong)offset);
        _store.Tree.Scan(key, (k, v) => IsMine(k) && visit(new Extent((long)VolumeKeys.SecondNumber(k), ExtentValue.Decode(v))), after: !includeFrom);
    }

    private bool IsMine(ReadOnlySpan<byte> key) => key.Length == 17 && key[0] == VolumeKeys.Extent && VolumeKeys.FirstNumber(key) == _ino;

    /// <summary>Points [offset, offset+length) at new bytes: cuts the range out of the map, then adds the extent (merged with its neighbour when contiguous).</summary>
    private void Place(long offset, ExtentValue value)
    {
        long end = offset + (long)value.Length;
        Cut(offset, end);
        _store.CountUsage(value.Nonce, (long)value.Length, (long)(value.SegmentOffset + value.Length));
        if (offset > 0 && Floor(offset - 1) is { } left && left.End == offset && left.Value.Kind == ExtentKind.Data
            && left.Value.Nonce == value.Nonce && left.Value.SegmentOffset + left.Value.Length == value.SegmentOffset)
        {
            PutExtent(left.Start, left.Value with { Length = left.Value.Length + value.Length });
            return;
        }
        PutExtent(offset, value);
    }

    /// <summary>Removes [from, to) from the map: extents inside go, extents across an edge are shortened or split.</summary>
    private void Cut(long from, long to)
    {
        Span<byte> key = stackalloc byte[17];
        foreach (Extent e in Overlapping(from, to))
        {
            ExtentValue v = e.Value;
            long s = Math.Max(e.Start, from);
            long t = Math.Min(e.End, to);
            if (e.Start < from)
            {
                PutExtent(e.Start, v with { Length = (ulong)(from - e.Start) });
            }
            else
            {
                _store.TreeDelete(key[..VolumeKeys.OfExtent(key, _ino, (ulong)e.Start)]);
            }
            if (e.End > to)
            {
                ExtentValue rest = v.Kind == ExtentKind.Data
                    ? v with { Length = (ulong)(e.End - to), SegmentOffset = v.SegmentOffset + (ulong)(to - e.Start) }
                    : v with { Length = (ulong)(e.End - to) };
                PutExtent(to, rest);
            }
            if (v.Kind == ExtentKind.Data)
            {
                _store.CountUsage(v.Nonce, -(t - s), 0);
            }
        }
    }

    /// <summary>
    /// Makes the written bytes of [from, to) read as zeros and stay data (Zeroed), as tmpfs zeroes the partial pages at
    /// the edges of a punched hole; allocated, unwritten parts stay so.
    /// </summary>
    private void ZeroCovered(long from, long to)
    {
        foreach (Extent e in Overlapping(from, to))
        {
            if (e.Value.Kind != ExtentKind.Data)
            {
                continue; // reads as zeros already
            }
            long s = Math.Max(e.Start, from);
            long t = Math.Min(e.End, to);
            Cut(s, t);
            PutExtent(s, new ExtentValue(ExtentKind.Zeroed, (ulong)(t - s), 0, 0));
        }
    }

    /// <summary>What a page holds, as tmpfs tracks its pages.</summary>
    private enum PageState
    {
        Hole,
        Allocated,
        Written,
    }

    private PageState StateOf(long page)
    {
        PageState state = PageState.Hole;
        foreach (Extent e in Overlapping(page, page + Page))
        {
            if (e.Value.Kind != ExtentKind.Unwritten)
            {
                return PageState.Written;
            }
            state = PageState.Allocated;
        }
        return state;
    }

    /// <summary>Makes [from, to) <paramref name="state"/>: holes and unwritten parts become written zeros, or holes become allocated.</summary>
    private void Restore(long from, long to, PageState state)
    {
        if (state == PageState.Hole || from >= to)
        {
            return;
        }
        var gaps = new List<(long From, long To)>();
        long position = from;
        foreach (Extent e in Overlapping(from, to))
        {
            if (e.Start > position)
            {
                gaps.Add((position, e.Start));
            }
            if (e.Value.Kind == ExtentKind.Unwritten && state == PageState.Written)
            {
                gaps.Add((Math.Max(e.Start, from), Math.Min(e.End, to)));
            }
            position = Math.Max(position, e.End);
        }
        if (position < to)
        {
            gaps.Add((position, to));
        }
        ExtentKind kind = state == PageState.Written ? ExtentKind.Zeroed : ExtentKind.Unwritten;
        foreach ((long s, long t) in gaps)
        {
            Cut(s, t);
            PutExtent(s, new ExtentValue(kind, (ulong)(t - s), 0, 0));
        }
    }

    private void PutExtent(long offset, ExtentValue value)
    {
        Span<byte> key = stackalloc byte[17];
        Span<byte> encoded = stackalloc byte[ExtentValue.EncodedLength];
        value.Encode(encoded);
        _store.TreePut(key[..VolumeKeys.OfExtent(key, _ino, (ulong)offset)], encoded);
    }

    // ---- allocation in pages ----

    /// <summary>Pages of [lo, hi) that some extent touches.</summary>
    private long CoveredPages(long lo, long hi)
    {
        long count = 0;
        long last = -1;
        foreach (Extent e in Overlapping(lo, hi))
        {
            long s = Math.Max(e.Start, lo);
            long t = Math.Min(e.End, hi);
            if (s >= t)
            {
                continue;
            }
            long first = Math.Max(s / Page, last + 1);
            long final = (t - 1) / Page;
            if (final >= first)
            {
                count += final - first + 1;
            }
            last = Math.Max(last, final);
        }
        return count;
    }

    /// <summary>The map changed within [lo, hi) (page-aligned): recount its pages and mark the record dirty.</summary>
    private void Changed(InodeOperation op, long pagesBefore, long lo, long hi)
    {
        long after = CoveredPages(lo, hi);
        _pages += after - pagesBefore;
        if (_owner is not null)
        {
            ((VolumeOperation)op).Dirty(_owner);
        }
    }

    private static long RoundDown(long offset) => offset / Page * Page;

    private static long RoundUp(long offset) => offset >= long.MaxValue - Page ? long.MaxValue : (offset + Page - 1) / Page * Page;
}
