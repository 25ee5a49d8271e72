namespace ProxyFs.Core.FileSystem.Inodes;

/// <summary>
/// One inode in memory, handed out by an <see cref="IInodeStore"/>: its record (the attribute fields below, guarded
/// by <see cref="Sync"/>), its parts (directory entries, file data, xattrs, as the store implements them), the
/// kernel's and the open files' references to it, and the pin count of operations in progress.
/// </summary>
/// <remarks>
/// <para><b>References.</b> An inode object is <em>referenced</em> while <see cref="Lookups"/> &gt; 0 (the kernel
/// knows it), <see cref="Opens"/> &gt; 0 (open handles point at it) or it is pinned (an operation in progress got
/// it from <see cref="IInodeStore.Acquire"/> or <see cref="IInodeStore.Pin"/> and has not yet called
/// <see cref="IInodeStore.Unpin"/>). The store never evicts a referenced inode object; an unreferenced one may be
/// dropped at any moment and a later Acquire gives a new object loaded from the record. An object that only the kernel
/// references (lookups, no open handle) may be dropped too when the record gives it back (<see cref="IsEvictable"/>):
/// its lookups are kept and handed to the next object. So whoever uses an inode object holds a pin or an open handle
/// for as long as it uses it, and changes <see cref="Lookups"/> and
/// <see cref="Opens"/> only while it holds a pin (or under the inode's lock while one of the others keeps it).</para>
/// <para><b>Changes.</b> The record fields are changed under <see cref="Sync"/>, inside an operation, and each
/// change is reported with <see cref="IInodeStore.Update"/> before the lock is let go (atime alone after a read:
/// <see cref="IInodeStore.UpdateAtime"/>). The parts change through their own methods, which take the operation.</para>
/// <para><b>Runtime state</b> (<see cref="Lookups"/>, <see cref="Opens"/>, <see cref="Linkable"/>,
/// <see cref="Freed"/>) belongs to the POSIX layer and lives as long as this mount; it is never persisted.</para>
/// </remarks>
public sealed class Inode
{
    /// <summary>Pins of an inode being evicted: any pin attempt sees a value &lt;= 0 and backs off.</summary>
    internal const int Evicting = int.MinValue;

    /// <summary>Pin count of operations in progress; <see cref="Evicting"/> while the cache drops the object.</summary>
    internal int Pins;

    /// <summary>Set while the object waits in the cache's eviction queue.</summary>
    internal int Queued;

    /// <summary>Dropped by the cache: the object is dead, a new one stands for the inode.</summary>
    internal bool Evicted;

    private readonly ulong _blocksWithoutData;

    public Inode(ulong ino, ulong generation, in InodeRecord record, byte[]? symlinkTarget, IDirectory? directory, IFileData? data, IXattrs xattrs, ulong blocksWithoutData = 0)
    {
        ArgumentNullException.ThrowIfNull(xattrs);
        Ino = ino;
        Generation = generation;
        SymlinkTarget = symlinkTarget;
        Directory = directory;
        Data = data;
        Xattrs = xattrs;
        _blocksWithoutData = blocksWithoutData;
        Restore(record);
    }

    public ulong Ino { get; }

    /// <summary>With <see cref="Ino"/>, unique over the volume's whole life (the store chooses it).</summary>
    public ulong Generation { get; }

    /// <summary>Guards the record fields, the runtime state and the parts' content.</summary>
    public Lock Sync { get; } = new();

    // ---- the record ----

    public uint Mode;
    public uint Uid;
    public uint Gid;
    public uint Nlink;
    public uint Rdev;
    public long Size;
    public Timespec Atime;
    public Timespec Mtime;
    public Timespec Ctime;

    /// <summary>A directory's parent inode number (guarded by the POSIX layer's namespace lock and by <see cref="Sync"/>).</summary>
    public ulong Parent;

    /// <summary>A symlink's target, fixed at creation; null for every other type.</summary>
    public byte[]? SymlinkTarget { get; }

    // ---- the parts ----

    /// <summary>The entries of a directory; null for every other type.</summary>
    public IDirectory? Directory { get; }

    /// <summary>The contents of a regular file; null for every other type.</summary>
    public IFileData? Data { get; }

    /// <summary>Extended attributes (every type has them).</summary>
    public IXattrs Xattrs { get; }

    // ---- runtime state of the POSIX layer ----

    /// <summary>References the kernel holds (Lookup and friends add, Forget takes away).</summary>
    public ulong Lookups;

    /// <summary>Open handles.</summary>
    public int Opens;

    /// <summary>Made by TmpFile and not yet linked: the one case where an inode with no links may be linked.</summary>
    public bool Linkable;

    /// <summary>Freed: gone from the store; any further use is ENOENT.</summary>
    public bool Freed;

    public bool IsDirectory => ModeBits.IsDirectory(Mode);
    public bool IsRegular => ModeBits.IsRegular(Mode);
    public bool IsSymlink => ModeBits.IsSymlink(Mode);

    /// <summary>The file type bits of <see cref="Mode"/> (S_IFMT).</summary>
    public uint Type => Mode & ModeBits.S_IFMT;

    /// <summary>st_blocks (512-byte units): the data's allocation, or what the store charges for a symlink.</summary>
    public ulong Blocks => Data?.AllocatedBlocks ?? _blocksWithoutData;

    /// <summary>True while kernel lookups or open handles keep the object (pins aside).</summary>
    public bool IsReferenced => Lookups != 0 || Opens != 0;

    /// <summary>
    /// The cache may drop the object when no operation pins it: no handle has it open, and the kernel's lookups (if any)
    /// can be kept apart because the record gives the rest back (it has links, and is not an O_TMPFILE waiting for its
    /// first). See <see cref="InodeCache"/>.
    /// </summary>
    public bool IsEvictable => Opens == 0 && (Lookups == 0 || (Nlink != 0 && !Linkable));

    /// <summary>The record as it is now; the caller holds <see cref="Sync"/> (or nothing else can reach the inode).</summary>
    public InodeRecord Snapshot() => new()
    {
        Mode = Mode,
        Uid = Uid,
        Gid = Gid,
        Nlink = Nlink,
        Rdev = Rdev,
        Size = Size,
        Atime = Atime,
        Mtime = Mtime,
        Ctime = Ctime,
        Parent = Parent,
    };

    private void Restore(in InodeRecord record)
    {
        Mode = record.Mode;
        Uid = record.Uid;
        Gid = record.Gid;
        Nlink = record.Nlink;
        Rdev = record.Rdev;
        Size = record.Size;
        Atime = record.Atime;
        Mtime = record.Mtime;
        Ctime = record.Ctime;
        Parent = record.Parent;
    }

    public override string ToString() => $"inode {Ino} mode {Convert.ToString(Mode, 8)} nlink {Nlink} size {Size}";
}
