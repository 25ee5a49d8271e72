namespace ProxyFs.Core.HeadHunter;

/// <summary>
/// The result of <see cref="HeadHunterTree.BeginCheckpoint"/>: a metadata segment image to store as object
/// <see cref="SegmentNonce"/>, the root address to record in the volume's root pointer once it is stored, and
/// the space accounting of the change.
/// </summary>
public sealed class HeadHunterCheckpoint
{
    internal HeadHunterCheckpoint(
        ulong segmentNonce,
        ReadOnlyMemory<byte> segment,
        PageAddress rootAddress,
        IReadOnlyList<PageAddress> written,
        IReadOnlyList<PageAddress> superseded,
        int pagesWritten,
        int blobsWritten,
        TimeSpan lockHeld,
        TimeSpan elapsed)
    {
        SegmentNonce = segmentNonce;
        Segment = segment;
        RootAddress = rootAddress;
        Written = written;
        Superseded = superseded;
        PagesWritten = pagesWritten;
        BlobsWritten = blobsWritten;
        LockHeld = lockHeld;
        Elapsed = elapsed;
    }

    /// <summary>The nonce the segment image must be stored under (the one passed to BeginCheckpoint).</summary>
    public ulong SegmentNonce { get; }

    /// <summary>The segment object's bytes; empty when nothing changed since the last checkpoint (store nothing then).</summary>
    public ReadOnlyMemory<byte> Segment { get; }

    /// <summary>True when nothing changed: no object to store, <see cref="RootAddress"/> is the current root.</summary>
    public bool IsEmpty => Segment.IsEmpty;

    /// <summary>The root page of the tree as of this checkpoint.</summary>
    public PageAddress RootAddress { get; }

    /// <summary>Every record (page or blob) in the segment; their lengths sum to <see cref="LiveBytesWritten"/>.</summary>
    public IReadOnlyList<PageAddress> Written { get; }

    /// <summary>
    /// Records of earlier checkpoints that this one no longer reaches (pages copied on write, blobs of replaced or
    /// deleted values, pages freed by merges). Subtract their lengths from their segments' live bytes; they are
    /// still reachable from the previous checkpoints' roots, so keep them while those roots may be mounted.
    /// </summary>
    public IReadOnlyList<PageAddress> Superseded { get; }

    /// <summary>Pages in the segment.</summary>
    public int PagesWritten { get; }

    /// <summary>Blobs in the segment.</summary>
    public int BlobsWritten { get; }

    /// <summary>Bytes of records in the segment (its size less header and trailer).</summary>
    public long LiveBytesWritten => Written.Sum(a => (long)a.Length);

    /// <summary>How long BeginCheckpoint held the tree's exclusive lock (freezing and swizzling; not serializing).</summary>
    public TimeSpan LockHeld { get; }

    /// <summary>How long BeginCheckpoint took in all, serialization outside the lock included.</summary>
    public TimeSpan Elapsed { get; }

    internal bool Completed { get; set; }
}
