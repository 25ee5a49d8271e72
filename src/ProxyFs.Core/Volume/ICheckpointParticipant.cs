namespace ProxyFs.Core.Volume;

/// <summary>What changes a volume's tree, as a checkpoint sees it.</summary>
public interface ICheckpointParticipant
{
    /// <summary>
    /// Waits until no change is half made, brings into the tree whatever is kept aside (e.g. segment usage counts),
    /// and holds further changes off until the result is disposed. The checkpoint snapshots the tree meanwhile, which
    /// takes no I/O; nothing else is held by the caller.
    /// </summary>
    IDisposable Quiesce();
}
