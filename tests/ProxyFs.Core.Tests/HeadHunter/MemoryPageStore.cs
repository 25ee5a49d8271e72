using System.Collections.Concurrent;
using ProxyFs.Core.HeadHunter;

namespace ProxyFs.Core.Tests.HeadHunter;

/// <summary>
/// An object store of metadata segments in memory: holds exactly what checkpoints produced, so a tree reopened
/// on it with an empty cache is a simulated reboot. Counts reads.
/// </summary>
internal sealed class MemoryPageStore : IPageSource
{
    private readonly ConcurrentDictionary<ulong, byte[]> _segments = new();
    private long _reads;
    private ulong _nextNonce = 1;

    public long Reads => Interlocked.Read(ref _reads);

    public long StoredBytes => _segments.Values.Sum(s => (long)s.Length);

    public int SegmentCount => _segments.Count;

    public byte[] Segment(ulong nonce) => _segments[nonce];

    public bool Contains(ulong nonce) => _segments.ContainsKey(nonce);

    public byte[] ReadPage(PageAddress address)
    {
        Interlocked.Increment(ref _reads);
        if (!_segments.TryGetValue(address.SegmentNonce, out var segment))
        {
            throw new KeyNotFoundException($"metadata segment {address.SegmentNonce:x16} is not stored");
        }
        var start = (int)Math.Min(address.Offset, (uint)segment.Length);
        var end = (int)Math.Min((long)address.Offset + address.Length, segment.Length);
        return segment[start..end];
    }

    /// <summary>A nonce never used before in this store (the volume reserves these in batches).</summary>
    public ulong NextNonce() => Interlocked.Increment(ref _nextNonce) - 1;

    public void Store(HeadHunterCheckpoint checkpoint)
    {
        if (!checkpoint.IsEmpty)
        {
            SegmentFormat.Validate(checkpoint.Segment.Span, checkpoint.SegmentNonce);
            Assert.True(_segments.TryAdd(checkpoint.SegmentNonce, checkpoint.Segment.ToArray()), "segment nonce reused");
        }
    }

    /// <summary>Begin, store, complete: one full checkpoint. Returns it for its accounting.</summary>
    public HeadHunterCheckpoint Checkpoint(HeadHunterTree tree)
    {
        var checkpoint = tree.BeginCheckpoint(NextNonce());
        Store(checkpoint);
        tree.CompleteCheckpoint(checkpoint);
        return checkpoint;
    }

    /// <summary>Deletes a segment (space reclamation: nothing live is left in it).</summary>
    public void Delete(ulong nonce) => _segments.TryRemove(nonce, out _);

    /// <summary>Replaces a stored segment's bytes (for corruption tests).</summary>
    public void Overwrite(ulong nonce, byte[] bytes) => _segments[nonce] = bytes;
}
