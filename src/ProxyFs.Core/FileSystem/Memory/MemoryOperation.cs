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

    private MemoryInodeStore? _store;

    public static MemoryOperation Begin(MemoryInodeStore store, OperationKind kind)
    {
        MemoryOperation op = _perThread ??= new MemoryOperation();
        op.Start(store, kind); // throws when a scope is active on this thread
        op._store = store;
        return op;
    }

    protected override void OnCommit()
    {
        // Every change is already in place and visible; memory has no log to append to.
    }

    protected override void OnEnd(bool abandoned)
    {
        if (abandoned)
        {
            _store!.ReportAbandoned();
        }
        _store = null;
    }
}
