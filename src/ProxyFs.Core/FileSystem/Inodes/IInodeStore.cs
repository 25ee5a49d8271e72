namespace ProxyFs.Core.FileSystem.Inodes;

/// <summary>
/// Where a <see cref="Posix.PosixFileSystem"/> keeps its inodes: records, directory entries, file data, xattrs,
/// symlink targets. The POSIX rules are all in the layer above; a store holds state, hands out inode objects, makes
/// changes atomic per operation, and answers for durability and space. The memory store
/// (<see cref="Memory.MemoryInodeStore"/>) and the object-store volume implement it.
/// </summary>
/// <remarks>
/// <para><b>Inode objects.</b> <see cref="Acquire"/> gives the object of an inode number, loading its record on a
/// miss, pinned; <see cref="Unpin"/> gives the pin back. There is at most one object per inode number at a time. An
/// object that is not referenced (see <see cref="Inode"/>: no lookups, no opens, no pins) may be evicted whenever the
/// store likes; a referenced one never is. The volume keeps a bounded number of unreferenced objects
/// (<see cref="InodeCache"/> implements this protocol for every store).</para>
/// <para><b>Operations.</b> Every change runs inside a scope from <see cref="BeginOperation"/> and names it; reads
/// need none. Record changes are reported with <see cref="Update"/> under the inode's lock, right after they are
/// made. <see cref="Free"/> ends an inode: no links, no lookups, no opens.</para>
/// <para><b>Locking.</b> The layer orders: scope, then its namespace lock, then inode locks (by inode number). A
/// store takes only its own internal locks inside those, and never calls back into the layer.</para>
/// <para><b>Failures.</b> Expected outcomes (ENOENT for a missing inode, ENOSPC) are errno results; faults of the
/// backing storage are exceptions (the volume then stops writing).</para>
/// </remarks>
public interface IInodeStore
{
    /// <summary>Limits POSIX rules depend on; fixed for the store's life.</summary>
    StoreLimits Limits { get; }

    /// <summary>The time of a change: strictly increasing.</summary>
    Timespec Now();

    // ---- inode objects ----

    /// <summary>
    /// The object of <paramref name="ino"/>, pinned (loaded from the record if it is not in memory). ENOENT when the
    /// inode does not exist (never created, or freed).
    /// </summary>
    int Acquire(ulong ino, out Inode inode);

    /// <summary>Pins an object the caller already holds through another reference (an open handle, a lookup).</summary>
    void Pin(Inode inode);

    /// <summary>Gives back a pin of <see cref="Acquire"/>, <see cref="Pin"/> or <see cref="CreateInode"/>; the object may be evicted once unreferenced.</summary>
    void Unpin(Inode inode);

    // ---- changes ----

    /// <summary>Begins the scope of one mutating operation on this thread (see <see cref="InodeOperation"/>).</summary>
    InodeOperation BeginOperation(OperationKind kind);

    /// <summary>False when the store has no room for another inode (ENOSPC before the layer checks anything else).</summary>
    bool HasRoomForInode { get; }

    /// <summary>
    /// Creates an inode with a new number (never given before in this volume) and the store's generation, with the
    /// parts its type needs (directory entries, file data), zero links and size; returned pinned. ENOSPC.
    /// </summary>
    int CreateInode(InodeOperation op, in InodeInit init, out Inode inode);

    /// <summary>The record fields of <paramref name="inode"/> changed in <paramref name="op"/>. Under the inode's lock; the inode is referenced.</summary>
    void Update(InodeOperation op, Inode inode);

    /// <summary>
    /// Only atime changed, because of a read, outside any operation. Under the inode's lock. The store may write it
    /// lazily and lose it in a crash (as lazytime does).
    /// </summary>
    void UpdateAtime(Inode inode);

    /// <summary>
    /// Ends an inode that has no links, lookups or opens: its record, entries (a directory must be empty), data and
    /// xattrs go, its space is released, and its number is never found again. Under the inode's lock, pinned;
    /// <see cref="Inode.Freed"/> is already set.
    /// </summary>
    void Free(InodeOperation op, Inode inode);

    // ---- durability and the whole store ----

    /// <summary>close(2) of a file descriptor of <paramref name="inode"/>: the store may start writing its data. No locks held.</summary>
    int Flush(Inode inode);

    /// <summary>
    /// False when <see cref="Flush"/> does nothing and always succeeds: the layer then tells the kernel not to send a
    /// flush on close (one request less per close(2)). True unless a store says otherwise.
    /// </summary>
    bool FlushesOnClose => true;

    /// <summary>An open handle of <paramref name="inode"/> was released (after the Release operation; pinned, no locks held).</summary>
    void HandleReleased(Inode inode);

    /// <summary>Returns once the inode's data (and, unless <paramref name="dataOnly"/>, its record) is durable. No locks held.</summary>
    int Fsync(Inode inode, bool dataOnly);

    /// <summary>Returns once the directory's entries and record are durable. No locks held.</summary>
    int FsyncDirectory(Inode directory, bool dataOnly);

    /// <summary>Returns once everything changed so far is durable (syncfs). No locks held.</summary>
    int SyncAll();

    /// <summary>statfs figures: blocks, files, block and fragment size (the layer sets the name length).</summary>
    void GetStats(out FsStats stats);
}
