namespace ProxyFs.Core.FileSystem.Inodes;

/// <summary>Fixed properties of a store that POSIX rules depend on (the superblock's s_maxbytes and link limit).</summary>
/// <param name="MaxFileSize">Largest file size; writes and truncates past it fail with EFBIG.</param>
/// <param name="MaxLinks">The most hard links an inode (and subdirectories a directory) may have; 0: no limit.</param>
/// <param name="BlockSize">The preferred I/O size reported as st_blksize.</param>
public readonly record struct StoreLimits(long MaxFileSize, uint MaxLinks, uint BlockSize);
