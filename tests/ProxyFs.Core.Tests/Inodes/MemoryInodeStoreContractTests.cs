using ProxyFs.Core.FileSystem.Inodes;
using ProxyFs.Core.FileSystem.Memory;
using ProxyFs.Testing.Inodes;

namespace ProxyFs.Core.Tests.Inodes;

/// <summary>The store contract on the memory store as memory:// uses it: every object kept (eager eviction on request).</summary>
public sealed class MemoryInodeStoreContractTests : InodeStoreContract
{
    protected override IInodeStore CreateStore(bool evictEagerly = false) =>
        new MemoryInodeStore(new MemoryFileSystemOptions(), evictEagerly ? 0 : InodeCache.NeverEvict);
}

/// <summary>The store contract on the memory store keeping a few unreferenced objects, as the volume keeps a bounded number.</summary>
public sealed class BudgetedMemoryInodeStoreContractTests : InodeStoreContract
{
    protected override IInodeStore CreateStore(bool evictEagerly = false) =>
        new MemoryInodeStore(new MemoryFileSystemOptions(), evictEagerly ? 0 : 3);
}
