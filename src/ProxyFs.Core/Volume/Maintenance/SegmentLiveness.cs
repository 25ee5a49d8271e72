using System.Buffers.Binary;
using ProxyFs.Core.HeadHunter;

namespace ProxyFs.Core.Volume.Maintenance;

/// <summary>
/// The value of a 'P' record (docs/FORMAT.md): a data segment no extent references any more, waiting to be deleted
/// from the store. 24 bytes: data bytes u64 (the segment's size, for reports), dead-below-root u64, marked i64.
/// </summary>
/// <param name="DataBytes">The segment's data length as its 'S' record knew it.</param>
/// <param name="DeadBelowRoot">
/// The metadata segment nonce of the tree root that was current when the segment was found dead. Every tree written
/// afterwards has a root in a later metadata segment and no extent into the segment; so once every checkpoint
/// generation the root pointer keeps has a root nonce above this value, no mountable generation reaches the segment.
/// </param>
/// <param name="MarkedNanoseconds">When it was found dead, ns since the Unix epoch (the grace period counts from here).</param>
public readonly record struct PendingDeletion(ulong DataBytes, ulong DeadBelowRoot, long MarkedNanoseconds)
{
    public const int EncodedLength = 24;

    public void Encode(Span<byte> b)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(b, DataBytes);
        BinaryPrimitives.WriteUInt64LittleEndian(b[8..], DeadBelowRoot);
        BinaryPrimitives.WriteInt64LittleEndian(b[16..], MarkedNanoseconds);
    }

    public static PendingDeletion Decode(ReadOnlySpan<byte> b) =>
        b.Length == EncodedLength
            ? new PendingDeletion(BinaryPrimitives.ReadUInt64LittleEndian(b), BinaryPrimitives.ReadUInt64LittleEndian(b[8..]), BinaryPrimitives.ReadInt64LittleEndian(b[16..]))
            : throw new VolumeFormatException($"pending deletion value of {b.Length} bytes; expected {EncodedLength}");

    /// <summary>True when no generation <paramref name="root"/> keeps can reach the segment and the grace period is over.</summary>
    public bool Deletable(RootPointer root, long nowNanoseconds, TimeSpan grace) =>
        SegmentLiveness.OldestKeptRootNonce(root) > DeadBelowRoot && nowNanoseconds - MarkedNanoseconds >= (long)grace.TotalNanoseconds;
}

/// <summary>
/// The live bytes of data segments, kept in the volume's tree: an 'S' record while some extent references the segment,
/// a 'P' record (<see cref="PendingDeletion"/>) once none does. Usage counted between checkpoints is applied here
/// under the checkpoint's quiesce, so the records of a checkpoint always match its extents.
/// </summary>
public static class SegmentLiveness
{
    /// <summary>
    /// Applies <paramref name="delta"/> live bytes to segment <paramref name="nonce"/> (whose data reaches at least
    /// <paramref name="end"/>). A segment whose live bytes reach 0 becomes a pending deletion dead below
    /// <paramref name="currentRootNonce"/>; a pending one that gains bytes (bytes appended to a segment still open
    /// when it was marked) becomes live again.
    /// </summary>
    public static void Apply(HeadHunterTree tree, ulong nonce, long delta, long end, ulong currentRootNonce, long nowNanoseconds)
    {
        ArgumentNullException.ThrowIfNull(tree);
        Span<byte> usageKey = stackalloc byte[9];
        Span<byte> pendingKey = stackalloc byte[9];
        VolumeKeys.OfSegmentUsage(usageKey, nonce);
        VolumeKeys.OfPendingDeletion(pendingKey, nonce);
        SegmentUsage before = default;
        bool pending = false;
        if (tree.TryGet(usageKey, out byte[]? old))
        {
            before = SegmentUsage.Decode(old);
        }
        else if (tree.TryGet(pendingKey, out byte[]? marked))
        {
            before = new SegmentUsage(0, PendingDeletion.Decode(marked).DataBytes);
            pending = true;
        }
        long live = (long)before.LiveBytes + delta;
        if (live < 0)
        {
            throw new InvalidOperationException($"segment {nonce:x16}: live bytes would fall to {live}");
        }
        ulong dataBytes = Math.Max(before.DataBytes, (ulong)Math.Max(0, end));
        if (live == 0)
        {
            if (!pending)
            {
                MarkDead(tree, nonce, dataBytes, currentRootNonce, nowNanoseconds);
            }
            return;
        }
        if (pending)
        {
            tree.Delete(pendingKey);
        }
        Span<byte> value = stackalloc byte[SegmentUsage.EncodedLength];
        new SegmentUsage((ulong)live, dataBytes).Encode(value);
        tree.Put(usageKey, value);
    }

    /// <summary>Replaces the 'S' record of <paramref name="nonce"/> (if any) with a pending deletion.</summary>
    public static void MarkDead(HeadHunterTree tree, ulong nonce, ulong dataBytes, ulong currentRootNonce, long nowNanoseconds)
    {
        ArgumentNullException.ThrowIfNull(tree);
        Span<byte> key = stackalloc byte[9];
        tree.Delete(key[..VolumeKeys.OfSegmentUsage(key, nonce)]);
        Span<byte> value = stackalloc byte[PendingDeletion.EncodedLength];
        new PendingDeletion(dataBytes, currentRootNonce, nowNanoseconds).Encode(value);
        tree.Put(key[..VolumeKeys.OfPendingDeletion(key, nonce)], value);
    }

    /// <summary>The smallest metadata segment nonce among the tree roots of every generation <paramref name="root"/> keeps (itself included).</summary>
    public static ulong OldestKeptRootNonce(RootPointer root)
    {
        ArgumentNullException.ThrowIfNull(root);
        ulong oldest = root.TreeRoot.SegmentNonce;
        foreach (CheckpointGeneration g in root.History)
        {
            oldest = Math.Min(oldest, g.TreeRoot.SegmentNonce);
        }
        return oldest;
    }

    /// <summary>Every 'S' and 'P' record of the tree.</summary>
    public static (Dictionary<ulong, SegmentUsage> Live, Dictionary<ulong, PendingDeletion> Pending) Read(HeadHunterTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var live = new Dictionary<ulong, SegmentUsage>();
        var pending = new Dictionary<ulong, PendingDeletion>();
        tree.ScanPrefix([VolumeKeys.SegmentUsage], (k, v) =>
        {
            live[VolumeKeys.FirstNumber(k)] = SegmentUsage.Decode(v);
            return true;
        });
        tree.ScanPrefix([VolumeKeys.PendingDeletion], (k, v) =>
        {
            pending[VolumeKeys.FirstNumber(k)] = PendingDeletion.Decode(v);
            return true;
        });
        return (live, pending);
    }
}
