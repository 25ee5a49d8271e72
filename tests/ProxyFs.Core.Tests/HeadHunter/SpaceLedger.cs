using ProxyFs.Core.HeadHunter;

namespace ProxyFs.Core.Tests.HeadHunter;

/// <summary>
/// What a volume would keep from checkpoint reports: the set of live stored records and live bytes per segment.
/// Checks that nothing is superseded twice or before it was written.
/// </summary>
internal sealed class SpaceLedger
{
    private readonly HashSet<PageAddress> _live = [];
    private readonly Dictionary<ulong, long> _liveBytes = [];

    public IReadOnlySet<PageAddress> Live => _live;

    public IReadOnlyDictionary<ulong, long> LiveBytesBySegment => _liveBytes;

    public void Apply(HeadHunterCheckpoint checkpoint)
    {
        foreach (var address in checkpoint.Superseded)
        {
            Assert.True(_live.Remove(address), $"superseded {address}, which was not live");
            _liveBytes[address.SegmentNonce] -= address.Length;
        }
        foreach (var address in checkpoint.Written)
        {
            Assert.True(_live.Add(address), $"wrote {address} twice");
            _liveBytes[address.SegmentNonce] = _liveBytes.GetValueOrDefault(address.SegmentNonce) + address.Length;
        }
    }

    /// <summary>After a checkpoint (nothing dirty): the records reachable from the root are exactly the live ones.</summary>
    public void AssertMatches(HeadHunterTree tree)
    {
        var reachable = new HashSet<PageAddress>();
        var bySegment = new Dictionary<ulong, long>();
        var shape = tree.Verify((address, _) =>
        {
            Assert.True(reachable.Add(address), $"{address} reachable twice");
            bySegment[address.SegmentNonce] = bySegment.GetValueOrDefault(address.SegmentNonce) + address.Length;
        });
        Assert.Equal(0, shape.DirtyNodes);
        Assert.True(reachable.SetEquals(_live), $"reachable {reachable.Count} records, ledger says {_live.Count}");
        foreach (var (segment, bytes) in _liveBytes)
        {
            Assert.Equal(bytes, bySegment.GetValueOrDefault(segment));
        }
        Assert.Equal(_live.Sum(a => (long)a.Length), shape.StoredBytes);
    }
}
