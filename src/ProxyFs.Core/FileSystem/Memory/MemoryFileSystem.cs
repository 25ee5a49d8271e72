using ProxyFs.Core.FileSystem.Posix;

namespace ProxyFs.Core.FileSystem.Memory;

/// <summary>
/// The reference POSIX filesystem, held in memory: the model every other <see cref="IFileSystem"/> is checked
/// against, and what <c>memory://</c> serves. It is the POSIX layer (<see cref="PosixFileSystem"/>, where every rule
/// lives) over a <see cref="MemoryInodeStore"/> (tmpfs-like pages, hash-table directories), and so behaves as tmpfs
/// does on Linux, st_blocks and SEEK_DATA page for page, with the differences <see cref="PosixFileSystem"/> lists and
/// these of the store: user xattrs are not charged against an inode-space budget; copy_file_range copies holes as
/// written zeros, as the kernel's splice fallback that tmpfs uses does.
/// </summary>
public sealed class MemoryFileSystem : PosixFileSystem
{
    public MemoryFileSystem()
        : this(new MemoryFileSystemOptions())
    {
    }

    public MemoryFileSystem(MemoryFileSystemOptions options)
        : this(new MemoryInodeStore(options), options)
    {
    }

    private MemoryFileSystem(MemoryInodeStore store, MemoryFileSystemOptions options)
        : base(store, new PosixFileSystemOptions { Atime = options.Atime, ProtectedHardlinks = options.ProtectedHardlinks })
    {
        MemoryStore = store;
    }

    /// <summary>The store under the POSIX layer.</summary>
    public MemoryInodeStore MemoryStore { get; }

    /// <summary>Inodes alive now (linked, looked up or open), the root included.</summary>
    public long InodeCount => MemoryStore.InodeCount;
}
