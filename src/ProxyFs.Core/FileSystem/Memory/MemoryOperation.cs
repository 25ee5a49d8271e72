using ProxyFs.Core.FileSystem.Inodes;

namespace ProxyFs.Core.FileSystem.Memory;

/// <summary>
/// The operation scope of a <see cref="MemoryInodeStore"/>: changes are applied in place as they are made, so there
/// is nothing to gather; the scope only enforces the rules of <see cref="InodeOperation"/>. One object per thread,
/// reused, so beginning a scope allocates nothing.
/// </summary>
internal sealed class MemoryOperation : InodeOperation
{
    [ThreadStatic]
    private static MemoryOperation? _perThread;

    /// <summary>Inodes whose records changed in this scope (kept only when the store checks its user).</summary>
    private readonly List<Inode> _updated = [];
    private MemoryInodeStore? _store;

    public static MemoryOperation Begin(MemoryInodeStore store, OperationKind kind)
    {
        MemoryOperation op = _perThread ??= new MemoryOperation();
        op.Start(store, kind); // throws when a scope is active on this thread
        op._store = store;
        op._updated.Clear();
        return op;
    }

    /// <summary>Remembers an inode whose record changed, to check at commit that its lock is still held.</summary>
    public void Updated(Inode inode) => _updated.Add(inode);

    protected override void OnCommit()
    {
        // Every change is already in place and visible: memory has no log to append to. What is checked is the
        // rule that makes a log's order right: the commit comes before the changed inodes' locks are let go.
        foreach (Inode inode in _updated)
        {
            if (!inode.Sync.IsHeldByCurrentThread)
            {
                throw new InvalidOperationException($"{Kind} committed after letting go of the lock of inode {inode.Ino}, which it changed");
            }
        }
    }

    protected override void OnEnd(bool abandoned)
    {
        if (abandoned)
        {
            _store!.ReportAbandoned();
        }
        _store = null;
        _updated.Clear();
    }
}
