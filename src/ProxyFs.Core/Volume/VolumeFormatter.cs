using ProxyFs.Core.FileSystem;
using ProxyFs.ObjectStore;

namespace ProxyFs.Core.Volume;

/// <summary>Who owns the root directory of a new volume, and its permissions.</summary>
public sealed record RootDirectoryOptions(uint Mode = 0x1ED /* 0755 */, uint Uid = 0, uint Gid = 0);

/// <summary>Formats a volume with an empty root directory (inode 1).</summary>
public static class VolumeFormatter
{
    public static Task<VolumeDescriptor> FormatAsync(IObjectStore store, VolumeFormatOptions format, RootDirectoryOptions root,
        TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(root);
        if ((root.Mode & ~ModeBits.PermissionMask) != 0)
        {
            throw new ArgumentException($"the root directory's mode holds permission bits only (0..07777), not {Convert.ToString(root.Mode, 8)}");
        }
        return VolumeCore.FormatAsync(store, format, (tree, nextInode) =>
        {
            ulong ino = nextInode();
            if (ino != IFileSystem.RootIno)
            {
                throw new InvalidOperationException($"the root directory must be inode {IFileSystem.RootIno}, not {ino}");
            }
            Timespec now = Timespec.FromDateTime((time ?? TimeProvider.System).GetUtcNow().UtcDateTime);
            var record = VolumeInodeRecord.From(FileSystem.Inodes.InodeRecord.Root(root.Mode, root.Uid, root.Gid, now), generation: 1,
                nextCookie: Inodes.VolumeInodeStore.FirstCookie, blocks: 0, symlinkTarget: null);
            Span<byte> key = stackalloc byte[VolumeKeys.MaxLength];
            byte[] value = new byte[record.EncodedLength];
            record.Encode(value);
            tree.Put(key[..VolumeKeys.OfInode(key, ino)], value);
        }, time, cancellationToken);
    }
}
