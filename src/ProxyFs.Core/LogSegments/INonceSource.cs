namespace ProxyFs.Core.LogSegments;

/// <summary>
/// Where a <see cref="SegmentWriter"/> gets the nonce of each new segment. The volume implements it: it reserves nonces
/// in large batches and records the end of each batch in its checkpoint before handing out any of them, so a nonce is
/// never given twice, even after a crash.
/// </summary>
public interface INonceSource
{
    /// <summary>
    /// A nonce never returned before for this volume. Called once per segment, while the writer holds its append lock:
    /// it should be fast (it may block briefly to reserve the next batch). An exception fails the append that needed it.
    /// </summary>
    ulong Next();
}
