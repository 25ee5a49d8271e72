namespace ProxyFs.Core.FileSystem.Inodes;

/// <summary>The POSIX operation a scope carries out (the volume tags its replay-log record with it).</summary>
public enum OperationKind
{
    Forget,
    SetAttr,
    Symlink,
    MkNod,
    MkDir,
    Unlink,
    RmDir,
    Rename,
    Link,
    Open,
    Create,
    TmpFile,
    Write,
    Release,
    Fallocate,
    CopyFileRange,
    SetXattr,
    RemoveXattr,
}

/// <summary>
/// The scope of one mutating POSIX operation: every change it makes (inode records, directory entries, data,
/// xattrs, creations and frees) is passed this object, and <see cref="Commit"/> makes them one atomic unit. The
/// memory store's scope costs nothing; the volume gathers the changes into one replay-log record, so a crash never
/// exposes half an operation.
/// </summary>
/// <remarks>
/// <para><b>Rules</b> (the base class enforces them; breaking one throws <see cref="InvalidOperationException"/>):</para>
/// <list type="bullet">
/// <item>Begun with <see cref="IInodeStore.BeginOperation"/> before the POSIX layer takes any lock (the volume may
/// wait there, e.g. for a checkpoint), ended with Dispose (a <c>using</c>). One scope per thread at a time: scopes
/// do not nest. A scope is used only on the thread that began it (checked at Commit, and at every change in debug
/// builds), and not after it is disposed.</item>
/// <item>Changes are recorded only between Begin and Commit; a change after Commit, or a second Commit, throws.</item>
/// <item>Commit is called while the layer still holds the locks guarding what changed, so the order of commits on
/// an object is the order of its changes.</item>
/// <item>A scope disposed without Commit must have recorded no change (the layer checks everything before its first
/// change and commits once it has changed anything). A scope abandoned after changes is reported to the store
/// (<see cref="OnEnd"/>); the volume must then consider its state suspect and stop writing.</item>
/// <item>A committed scope without changes costs nothing and leaves no record.</item>
/// <item>Commit means ordered, not durable: durability comes with the next log commit, or Fsync/SyncFs.</item>
/// </list>
/// </remarks>
public abstract class InodeOperation : IDisposable
{
    private int _thread;
    private bool _committed;
    private object? _owner;

    public OperationKind Kind { get; private set; }

    /// <summary>Changes recorded so far.</summary>
    public int Changes { get; private set; }

    /// <summary>True between Begin and Dispose.</summary>
    public bool IsActive => _thread != 0;

    public bool IsCommitted => _committed;

    /// <summary>Makes the recorded changes one atomic unit (the volume appends its log record here).</summary>
    public void Commit()
    {
        if (_committed || _thread != Environment.CurrentManagedThreadId)
        {
            ThrowUnusable();
        }
        _committed = true;
        if (Changes != 0)
        {
            OnCommit();
        }
    }

    public void Dispose()
    {
        if (_thread == 0)
        {
            return;
        }
#if DEBUG
        if (_thread != Environment.CurrentManagedThreadId)
        {
            ThrowUnusable();
        }
#endif
        bool abandoned = !_committed && Changes != 0;
        _thread = 0;
        _owner = null;
        OnEnd(abandoned);
    }

    /// <summary>
    /// Called by a store (or one of its parts) before it makes a change in this scope: checks the scope may take it
    /// and counts it. <paramref name="owner"/> is the store the change is made in.
    /// </summary>
    public void Record(object owner)
    {
        // Not begun or disposed: no owner. The thread is checked here in debug builds (every test run) and at Commit
        // always; reading the thread id costs as much as the rest of a scope.
        if (_committed || !ReferenceEquals(owner, _owner)
#if DEBUG
            || _thread != Environment.CurrentManagedThreadId
#endif
            )
        {
            ThrowUnusable(owner);
        }
        Changes++;
    }

    /// <summary>Starts the scope of <paramref name="owner"/> on the current thread (the store calls this from BeginOperation).</summary>
    protected void Start(object owner, OperationKind kind)
    {
        if (_thread != 0)
        {
            throw new InvalidOperationException($"a {kind} scope begun while a {Kind} scope is active on this thread: scopes do not nest");
        }
        _thread = Environment.CurrentManagedThreadId;
        _owner = owner;
        Kind = kind;
        Changes = 0;
        _committed = false;
    }

    /// <summary>The changes are one unit now (only called when there are changes).</summary>
    protected abstract void OnCommit();

    /// <summary>The scope ended; <paramref name="abandoned"/> when it recorded changes and was not committed.</summary>
    protected abstract void OnEnd(bool abandoned);

    /// <summary>Says which rule a use of the scope broke (kept out of the fast paths).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void ThrowUnusable(object? owner = null)
    {
        if (_thread == 0)
        {
            throw new InvalidOperationException("a change or commit outside an operation scope (not begun, or already disposed)");
        }
        if (_thread != Environment.CurrentManagedThreadId)
        {
            throw new InvalidOperationException($"a {Kind} scope used on a thread other than the one that began it");
        }
        if (_committed)
        {
            throw new InvalidOperationException($"a change or commit after the {Kind} scope was committed");
        }
        throw new InvalidOperationException($"a change of one store recorded in a {Kind} scope of another ({owner})");
    }
}
