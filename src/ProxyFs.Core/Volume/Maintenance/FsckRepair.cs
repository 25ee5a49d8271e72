using ProxyFs.Core.HeadHunter;
using ProxyFs.ObjectStore;

namespace ProxyFs.Core.Volume.Maintenance;

/// <summary>What a repair may change: the tree of the volume opened for writing, and objects to delete afterwards.</summary>
public sealed class FsckRepair
{
    internal FsckRepair(HeadHunterTree tree) => Tree = tree;

    public HeadHunterTree Tree { get; }

    /// <summary>Objects to delete once the repaired tree is committed.</summary>
    public List<string> DeleteObjects { get; } = [];

    internal static async Task ApplyAsync(IObjectStore store, IReadOnlyList<FsckProblem> problems, CancellationToken cancellationToken)
    {
        VolumeCore core = await VolumeCore.OpenAsync(store, new VolumeOptions { CheckpointInterval = TimeSpan.Zero }, cancellationToken: cancellationToken).ConfigureAwait(false);
        var repair = new FsckRepair(core.Tree);
        try
        {
            foreach (FsckProblem p in problems)
            {
                p.Repair!(repair);
            }
            await core.CheckpointAsync(cleanUnmount: true, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await core.DisposeAsync().ConfigureAwait(false);
        }
        foreach (string key in repair.DeleteObjects)
        {
            await store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
        }
        foreach (FsckProblem p in problems)
        {
            p.Repaired = true;
        }
    }
}
