using FASTER.core;

namespace ProxyFs.Core.ReplayLog;

/// <summary>What a scan of the committed log found: its extent, its last intact record and, when damaged, where it stops.</summary>
internal sealed record ScanOutcome(long BeginAddress, long CommittedUntil, long IntactUntil, ulong LastSequence, long Records, ReplayTornTail? TornTail);

/// <summary>
/// Reads the committed part of a FasterLog and yields the intact records in order, checking each one's framing and
/// CRC, that sequence numbers follow each other, and that each record starts where the previous one ended (or at
/// the next page, when it did not fit). The first record that fails is the end of the log when nothing intact
/// follows it (a torn tail: <see cref="ScanOutcome.TornTail"/>); when an intact later record exists it is
/// corruption (<see cref="ReplayLogCorruptException"/>).
/// </summary>
internal sealed class LogScanner
{
    // A garbage region makes FasterLog's iterator throw at every 4-byte step; past this many in one page the
    // look-ahead moves on to the next page start (every page starts with a record).
    private const int MaxErrorsPerPage = 64;

    private readonly FasterLog _log;
    private readonly int _pageSizeBits;
    private readonly string _where;

    public LogScanner(FasterLog log, int pageSizeBits, string where)
    {
        _log = log;
        _pageSizeBits = pageSizeBits;
        _where = where;
    }

    /// <summary>Set when the enumeration of <see cref="Records"/> has finished.</summary>
    public ScanOutcome? Outcome { get; private set; }

    public IEnumerable<ReplayRecord> Records()
    {
        long begin = _log.BeginAddress;
        long end = _log.CommittedUntilAddress;
        long expected = begin;
        ulong lastSequence = 0;
        long count = 0;
        string? problem = null;
        using (FasterLogScanIterator iterator = _log.Scan(begin, end))
        {
            while (true)
            {
                (bool found, byte[]? entry, int length, long address, long next, string? error) = TryNext(iterator);
                if (error is not null)
                {
                    problem = error;
                    break;
                }
                if (!found)
                {
                    // The committed address is the end of the last record appended before the commit, or the start of
                    // the page a record that did not fit was moved to, when the commit came before that record.
                    if (expected != end && !UnusedPageEnd(expected, end))
                    {
                        problem = $"the records stop at {expected} but the log was committed up to {end} (zeroed or missing bytes)";
                    }
                    break;
                }
                if (address != expected && !SkippedPageEnd(expected, address, length))
                {
                    problem = $"a record starts at {address} where the previous one ended at {expected}";
                    break;
                }
                (ReplayRecord? record, string? bad) = RecordFrame.TryDecode(entry!, length, address);
                if (record is null)
                {
                    problem = bad;
                    break;
                }
                if (count > 0 && record.Value.Sequence != lastSequence + 1)
                {
                    problem = $"record {record.Value.Sequence} follows record {lastSequence}";
                    break;
                }
                lastSequence = record.Value.Sequence;
                count++;
                expected = next;
                yield return record.Value;
            }
        }
        ReplayTornTail? torn = null;
        if (problem is not null)
        {
            LookForIntactRecordAfter(expected, end, count > 0 ? lastSequence : null, problem);
            torn = new ReplayTornTail(expected, end, lastSequence, problem, Repaired: false);
        }
        Outcome = new ScanOutcome(begin, end, expected, lastSequence, count, torn);
    }

    /// <summary>Runs <see cref="Records"/> to the end and returns its outcome.</summary>
    public ScanOutcome Run(Action<ReplayRecord>? each = null)
    {
        foreach (ReplayRecord r in Records())
        {
            each?.Invoke(r);
        }
        return Outcome!;
    }

    /// <summary>
    /// After a bad record at <paramref name="damagedAt"/>: throws <see cref="ReplayLogCorruptException"/> if an intact
    /// record that continues the log (a sequence number above <paramref name="lastSequence"/>) lies further on, in the
    /// same page or at the start of any later page before <paramref name="end"/>.
    /// </summary>
    private void LookForIntactRecordAfter(long damagedAt, long end, ulong? lastSequence, string problem)
    {
        long page = PageOf(damagedAt);
        long lastPage = PageOf(end - 1);
        for (long p = page; p <= lastPage; p++)
        {
            long from = p == page ? damagedAt : p << _pageSizeBits;
            long until = Math.Min(end, (p + 1) << _pageSizeBits);
            if (from >= until)
            {
                continue;
            }
            using FasterLogScanIterator iterator = _log.Scan(from, until);
            int errors = 0;
            bool firstOnly = p != page;
            while (errors < MaxErrorsPerPage)
            {
                (bool found, byte[]? entry, int length, long address, _, string? error) = TryNext(iterator);
                if (error is not null)
                {
                    errors++;
                    if (firstOnly)
                    {
                        break;
                    }
                    continue;
                }
                if (!found)
                {
                    break;
                }
                (ReplayRecord? record, _) = RecordFrame.TryDecode(entry!, length, address);
                if (record is { } r && (lastSequence is null || r.Sequence > lastSequence))
                {
                    throw new ReplayLogCorruptException(
                        $"replay log {_where} is corrupt: the record at address {damagedAt} is damaged ({problem}) but intact record {r.Sequence} " +
                        $"follows at address {r.Address}; a crash only tears the end of the log, so this is damage, and replaying past it would " +
                        "skip changes. Move the directory away to mount without it (losing the changes made after the last checkpoint).");
                }
                if (firstOnly)
                {
                    break;
                }
            }
        }
    }

    private static (bool Found, byte[]? Entry, int Length, long Address, long Next, string? Error) TryNext(FasterLogScanIterator iterator)
    {
        try
        {
            bool found = iterator.GetNext(out byte[] entry, out int length, out long address, out long next);
            return (found, entry, length, address, next, null);
        }
        catch (FasterException e)
        {
            // FasterLog's iterator throws on an entry length that cannot be right and on a zeroed page start.
            return (false, null, 0, iterator.NextAddress, iterator.NextAddress, "FasterLog: " + e.Message);
        }
    }

    /// <summary>A record placed at the next page because it did not fit in what was left of the previous one.</summary>
    private bool SkippedPageEnd(long expected, long address, int length)
    {
        long nextPage = (PageOf(expected) + 1) << _pageSizeBits;
        long size = _log.HeaderSize + ((length + 3) & ~3L);
        return address == nextPage && expected + size > nextPage;
    }

    /// <summary>
    /// The log was committed up to the start of the page after <paramref name="expected"/>: FasterLog moves its tail
    /// there when a record does not fit in the rest of a page, so a commit at that moment covers the unused end of the
    /// page and none of the record, which is not lost: it was never acknowledged.
    /// </summary>
    private bool UnusedPageEnd(long expected, long end)
    {
        long pageMask = (1L << _pageSizeBits) - 1;
        return (end & pageMask) == 0 && (expected & pageMask) != 0 && PageOf(expected) + 1 == PageOf(end);
    }

    private long PageOf(long address) => address >> _pageSizeBits;
}
