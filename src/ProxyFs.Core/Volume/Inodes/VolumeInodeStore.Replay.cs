using Microsoft.Extensions.Logging;
using ProxyFs.Core.ReplayLog;
using ProxyFs.ObjectStore;

namespace ProxyFs.Core.Volume.Inodes;

public sealed partial class VolumeInodeStore
{
    /// <summary>
    /// Applies the replay-log records the mounted checkpoint does not hold (epoch ≥ the root pointer's), in log order,
    /// before anything else reads the tree.
    /// </summary>
    /// <remarks>
    /// <para>Records are images (a put carries the whole value), so replaying onto the checkpoint gives the same tree
    /// however often it is done, crashes during replay included. An operation split over several records is applied
    /// only when its last record is there.</para>
    /// <para><b>Data that never reached the store.</b> A record may be committed before the data segment its extents
    /// point into is uploaded (the group commit runs every few milliseconds, a segment is flushed by size or age or
    /// by fsync). Such an extent becomes a zeroed extent of the same length: the file keeps its size and layout and
    /// those bytes read as zeros. fsync stores the segments before it commits the log, so this never touches fsynced
    /// data. The nonce of a lost segment is never used again (nonces are reserved in the root pointer first).</para>
    /// <para>Segment usage ('S') follows the replayed extents; inode numbers used by replayed records are not handed
    /// out again; new records are tagged at or above the highest epoch replayed, so trimming never keeps a replayed
    /// record after a newer one.</para>
    /// </remarks>
    private void Replay()
    {
        VolumeJournal? journal = _core.Journal;
        if (journal is null)
        {
            return;
        }
        ulong from = _core.Root.ReplayLogEpoch;
        var pending = new List<JournalRecord>();
        var segments = new Dictionary<ulong, bool>();
        var counts = new ReplayCounts { MaxEpoch = from };
        ReplayScan scan = journal.Log.Replay(from);
        foreach (ReplayRecord record in scan)
        {
            counts.Records++;
            counts.MaxEpoch = Math.Max(counts.MaxEpoch, record.Epoch);
            counts.FirstSequence = counts.FirstSequence == 0 ? record.Sequence : counts.FirstSequence;
            counts.LastSequence = record.Sequence;
            JournalRecord decoded = JournalRecord.Decode(record.Payload, record.Sequence);
            pending.Add(decoded);
            if (decoded.Continued)
            {
                continue;
            }
            foreach (JournalRecord part in pending)
            {
                foreach (JournalChange change in part.Changes)
                {
                    Apply(change, segments, ref counts);
                }
            }
            pending.Clear();
            counts.Operations++;
        }
        journal.RaiseEpoch(counts.MaxEpoch);
        if (counts.MaxInode != 0)
        {
            _core.ReserveInodesBelow(counts.MaxInode + 1);
        }
        ReplayOutcome? outcome = scan.Outcome;
        if (counts.Records == 0 && outcome?.TornTail is null)
        {
            return;
        }
        int lostSegments = segments.Count(s => !s.Value);
        _log.LogWarning(
            "{Location}: replayed {Operations} operations ({Records} records, sequence {First}..{Last}, epochs {From}..{To}) from {Directory}; "
            + "{Zeroed} extents in {LostSegments} data segments that never reached the store read as zeros; {Incomplete} records of an unfinished operation ignored{Torn}",
            _core.Location, counts.Operations, counts.Records, counts.FirstSequence, counts.LastSequence, from, counts.MaxEpoch, journal.Directory,
            counts.Zeroed, lostSegments, pending.Count, outcome?.TornTail is { } torn ? $"; {torn}" : "");
    }

    private void Apply(in JournalChange change, Dictionary<ulong, bool> segments, ref ReplayCounts counts)
    {
        ReadOnlySpan<byte> key = change.Key.Span;
        switch (key[0])
        {
            case VolumeKeys.Extent when key.Length == 17:
                ApplyExtent(change, segments, ref counts);
                return;
            case VolumeKeys.Inode when change.IsPut && key.Length == 9:
                counts.MaxInode = Math.Max(counts.MaxInode, VolumeKeys.FirstNumber(key));
                break;
            case VolumeKeys.Orphan:
                ulong ino = VolumeKeys.FirstNumber(key);
                if (change.IsPut)
                {
                    _orphans.TryAdd(ino, 0);
                }
                else
                {
                    _orphans.TryRemove(ino, out _);
                }
                break;
        }
        if (change.IsPut)
        {
            Tree.Put(key, change.Value.Span);
        }
        else
        {
            Tree.Delete(key);
        }
    }

    /// <summary>An extent change: segment usage follows it, and an extent into a segment that is not in the store reads as zeros.</summary>
    private void ApplyExtent(in JournalChange change, Dictionary<ulong, bool> segments, ref ReplayCounts counts)
    {
        ReadOnlySpan<byte> key = change.Key.Span;
        if (Tree.TryGet(key, out byte[]? old) && ExtentValue.Decode(old) is { Kind: ExtentKind.Data } before)
        {
            CountUsage(before.Nonce, -(long)before.Length, 0);
        }
        if (!change.IsPut)
        {
            Tree.Delete(key);
            return;
        }
        ExtentValue value = ExtentValue.Decode(change.Value.Span);
        if (value.Kind == ExtentKind.Data)
        {
            if (!segments.TryGetValue(value.Nonce, out bool stored))
            {
                stored = _core.DataStore.TryHeadAsync(VolumeLayout.DataSegments.KeyOf(value.Nonce)).GetAwaiter().GetResult() is not null;
                segments[value.Nonce] = stored;
            }
            if (stored)
            {
                CountUsage(value.Nonce, (long)value.Length, (long)(value.SegmentOffset + value.Length));
            }
            else
            {
                value = new ExtentValue(ExtentKind.Zeroed, value.Length, 0, 0);
                counts.Zeroed++;
            }
        }
        Span<byte> encoded = stackalloc byte[ExtentValue.EncodedLength];
        value.Encode(encoded);
        Tree.Put(key, encoded);
    }

    private struct ReplayCounts
    {
        public long Records;
        public long Operations;
        public long Zeroed;
        public ulong FirstSequence;
        public ulong LastSequence;
        public ulong MaxEpoch;
        public ulong MaxInode;
    }
}
