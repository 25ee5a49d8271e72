using ProxyFs.Core.FileSystem.Memory;
using ProxyFs.Core.FileSystem.Posix;

namespace ProxyFs.Core.Tests.Posix;

/// <summary>
/// The POSIX layer over a memory store that evicts every inode object the moment nobody references it and reloads it
/// from a record copy, checking at each eviction that the object agrees with what the layer reported through
/// Update. Any inode the layer uses without a reference, or changes without reporting it, shows up as a divergence
/// from tmpfs or an exception; <see cref="AssertQuiescent"/> adds the checks that need the run to be over.
/// </summary>
internal sealed class EvictingStore
{
    public EvictingStore(MemoryFileSystemOptions? options = null)
    {
        Store = new MemoryInodeStore(options ?? new MemoryFileSystemOptions(), unreferencedBudget: 0);
        Fs = new PosixFileSystem(Store);
    }

    public MemoryInodeStore Store { get; }

    public PosixFileSystem Fs { get; }

    /// <summary>
    /// Nothing in progress: no pins left, no scope abandoned after changes, no lookup lost (a lookup counted on an
    /// object that was evicted meanwhile is forgotten later on its successor, which never had it), and objects
    /// really were evicted.
    /// </summary>
    public void AssertQuiescent()
    {
        Assert.Empty(Store.PinnedInodes());
        Assert.Equal(0, Store.AbandonedOperations);
        Assert.Equal(0, Fs.UnmatchedForgets);
        Assert.True(Store.Evictions > 0, "no inode object was ever evicted: the run did not exercise reloading");
    }
}
