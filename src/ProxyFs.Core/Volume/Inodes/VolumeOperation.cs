using ProxyFs.Core.FileSystem.Inodes;

namespace ProxyFs.Core.Volume.Inodes;

/// <summary>
/// The operation scope of a <see cref="VolumeInodeStore"/>: holds the store's gate shared from Begin to Dispose (so a
/// checkpoint never snapshots half of it), gathers the inodes whose records changed, and writes those records at
/// commit, while the layer still holds their locks. One object per thread, reused.
/// </summary>
internal sealed class VolumeOperation : InodeOperation
{
    [ThreadStatic]
    private static VolumeOperation? _perThread;

    private readonly List<Inode> _dirty = [];
    private readonly List<Inode> _updated = [];
    private VolumeInodeStore? _store;

    /// <summary>Refuses a scope begun while another is active on this thread (before the store's gate is taken).</summary>
    public static void ThrowIfActive(OperationKind kind)
    {
        if (_perThread is { IsActive: true } active)
        {
            throw new InvalidOperationException($"a {kind} scope begun while a {active.Kind} scope is active on this thread: scopes do not nest");
        }
    }

    public static VolumeOperation Begin(VolumeInodeStore store, OperationKind kind)
    {
        VolumeOperation op = _perThread ??= new VolumeOperation();
        op.Start(store, kind); // throws when a scope is active on this thread
        op._store = store;
        op._dirty.Clear();
        op._updated.Clear();
        return op;
    }

    /// <summary>The record of <paramref name="inode"/> is to be written at commit.</summary>
    public void Dirty(Inode inode)
    {
        foreach (Inode known in _dirty)
        {
            if (ReferenceEquals(known, inode))
            {
                return;
            }
        }
        _dirty.Add(inode);
    }

    /// <summary>The layer reported a change of <paramref name="inode"/>'s record: its lock must still be held at commit.</summary>
    public void Updated(Inode inode)
    {
        Dirty(inode);
        if (!_updated.Contains(inode))
        {
            _updated.Add(inode);
        }
    }

    /// <summary>A freed inode's record is gone: nothing to write for it.</summary>
    public void Forget(Inode inode)
    {
        _dirty.RemoveAll(i => ReferenceEquals(i, inode));
        _updated.RemoveAll(i => ReferenceEquals(i, inode));
    }

    protected override void OnCommit()
    {
        foreach (Inode inode in _updated)
        {
            if (!inode.Sync.IsHeldByCurrentThread)
            {
                throw new InvalidOperationException($"{Kind} committed after letting go of the lock of inode {inode.Ino}, which it changed");
            }
        }
        foreach (Inode inode in _dirty)
        {
            _store!.WriteRecord(inode);
        }
        _dirty.Clear();
        _updated.Clear();
    }

    protected override void OnEnd(bool abandoned)
    {
        VolumeInodeStore store = _store!;
        _store = null;
        _dirty.Clear();
        _updated.Clear();
        store.EndOperation(abandoned);
    }
}
