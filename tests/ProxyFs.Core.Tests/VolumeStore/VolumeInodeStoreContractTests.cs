using ProxyFs.Core.FileSystem.Inodes;
using ProxyFs.Testing.Inodes;

namespace ProxyFs.Core.Tests.VolumeStore;

/// <summary>The inode store contract on the volume's store, keeping three unreferenced objects (or none, eagerly evicting).</summary>
public sealed class VolumeInodeStoreContractTests : InodeStoreContract
{
    protected override IInodeStore CreateStore(bool evictEagerly = false) => VolumeStoreFixture.NewStore(evictEagerly);

    /// <summary>Not yet: HeadHunter lookups allocate a read context and copy the value, and extent lookups build lists.</summary>
    protected override bool HotPathsAllocateNothing => false;
}
