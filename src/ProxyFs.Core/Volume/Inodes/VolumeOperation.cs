using System.Runtime.InteropServices;
using ProxyFs.Core.Durability;
using ProxyFs.Core.FileSystem.Inodes;

namespace ProxyFs.Core.Volume.Inodes;

/// <summary>
/// The operation scope of a <see cref="VolumeInodeStore"/>: holds the store's gate shared from Begin to Dispose (so a
/// checkpoint never snapshots half of it), gathers the inodes whose records changed, writes those records at commit
/// while the layer still holds their locks, and appends every tree change it made (records, entries, extents, xattrs,
/// orphan marks) to the replay log as one record (<see cref="JournalRecord"/>), so a crash replays all of it or none.
/// One object per thread, reused.
/// </summary>
internal sealed class VolumeOperation : InodeOperation
{
    [ThreadStatic]
    private static VolumeOperation? _perThread;

    private readonly List<Inode> _dirty = [];
    private readonly List<Inode> _updated = [];
    private readonly List<byte> _changes = [];
    private readonly List<int> _starts = [];
    private VolumeInodeStore? _store;
    private string? _stepPoint;

    /// <summary>The scope this thread has open in <paramref name="store"/> (its changes are logged), or null.</summary>
    public static VolumeOperation? Current(VolumeInodeStore store) =>
        _perThread is { IsActive: true } op && ReferenceEquals(op._store, store) ? op : null;

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
        op._changes.Clear();
        op._starts.Clear();
        op._stepPoint = CrashPoints.ArmedName is null ? null : StepPoint(kind);
        return op;
    }

    /// <summary>The crash point hit at each tree change of an operation of this kind, if any.</summary>
    private static string? StepPoint(OperationKind kind) => kind switch
    {
        OperationKind.Rename => CrashPoints.RenameStep,
        OperationKind.Unlink => CrashPoints.UnlinkStep,
        OperationKind.RmDir => CrashPoints.RmdirStep,
        OperationKind.Link => CrashPoints.LinkStep,
        OperationKind.SetAttr or OperationKind.Open => CrashPoints.TruncateStep,
        _ => null,
    };

    /// <summary>The tree now holds <paramref name="value"/> at <paramref name="key"/>: part of this operation's log record.</summary>
    public void LogPut(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        _starts.Add(_changes.Count);
        JournalRecord.AppendPut(_changes, key, value);
        Step();
    }

    /// <summary>The tree no longer holds <paramref name="key"/>: part of this operation's log record.</summary>
    public void LogDelete(ReadOnlySpan<byte> key)
    {
        _starts.Add(_changes.Count);
        JournalRecord.AppendDelete(_changes, key);
        Step();
    }

    private void Step()
    {
        if (_stepPoint is not null)
        {
            CrashPoints.Hit(_stepPoint);
        }
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
        if (_starts.Count != 0)
        {
            _store!.Journal(Kind, CollectionsMarshal.AsSpan(_changes), _starts);
            _changes.Clear();
            _starts.Clear();
        }
    }

    protected override void OnEnd(bool abandoned)
    {
        VolumeInodeStore store = _store!;
        _store = null;
        _dirty.Clear();
        _updated.Clear();
        _changes.Clear();
        _starts.Clear();
        if (_changes.Capacity > 1 << 20)
        {
            _changes.Capacity = 4096; // a huge operation does not pin its buffer on this thread for ever
        }
        store.EndOperation(abandoned);
    }
}
