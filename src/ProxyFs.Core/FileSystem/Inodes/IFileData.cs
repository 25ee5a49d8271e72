namespace ProxyFs.Core.FileSystem.Inodes;

/// <summary>
/// The contents of one regular file. The memory store keeps tmpfs-like pages; the volume keeps an extent map over
/// log segments. The file's size is not kept here: it is the record's <see cref="Inode.Size"/>, which the POSIX
/// layer maintains and uses to bound reads and seeks.
/// </summary>
/// <remarks>
/// <para><b>Locking.</b> The owning inode's <see cref="Inode.Sync"/> is held for every call, of this file and (for
/// <see cref="CopyFrom"/>) of the source too.</para>
/// <para><b>Results.</b> A change either happens whole and returns 0, or returns ENOSPC having changed nothing.
/// Faults of the backing storage are exceptions.</para>
/// <para><b>Zeros.</b> Bytes never written, punched, zeroed or cut off by <see cref="Truncate"/> read as zeros, also
/// when the file grows over them again (growing is only a change of <see cref="Inode.Size"/>).</para>
/// </remarks>
public interface IFileData
{
    /// <summary>Space the file takes, in 512-byte units (st_blocks).</summary>
    ulong AllocatedBlocks { get; }

    /// <summary>Fills <paramref name="destination"/> with the bytes at <paramref name="offset"/>; holes read as zeros.</summary>
    void Read(long offset, Span<byte> destination);

    /// <summary>
    /// Resolves [offset, offset + length) to where its bytes are, under the inode's lock, so that the bytes can be read
    /// after the lock is released (<see cref="FileReadPlan.TryRead"/>, on the same thread, before this thread plans
    /// another read): a read waiting for the object store then holds back no other operation on the file. Null when
    /// the bytes must be read under the lock, with <see cref="Read"/> (the memory store's pages change in place).
    /// </summary>
    FileReadPlan? PlanRead(long offset, int length) => null;

    /// <summary>Stores <paramref name="source"/> at <paramref name="offset"/>. ENOSPC when there is no room.</summary>
    int Write(InodeOperation op, long offset, ReadOnlySpan<byte> source);

    /// <summary>
    /// Drops everything at and after <paramref name="size"/> (the layer calls it when a file shrinks or is
    /// truncated to its own size): it reads as zeros afterwards and its space is released, except as much of a
    /// partial last block as the implementation keeps.
    /// </summary>
    void Truncate(InodeOperation op, long size);

    /// <summary>Makes [offset, offset+length) read as zeros and releases the whole blocks in it (FALLOC_FL_PUNCH_HOLE).</summary>
    void PunchHole(InodeOperation op, long offset, long length);

    /// <summary>Makes [offset, offset+length) read as zeros with its space allocated (FALLOC_FL_ZERO_RANGE). ENOSPC.</summary>
    int ZeroRange(InodeOperation op, long offset, long length);

    /// <summary>Reserves the space of [offset, offset+length); what was not written reads as zeros (fallocate). ENOSPC.</summary>
    int Allocate(InodeOperation op, long offset, long length);

    /// <summary>SEEK_DATA: the first offset at or after <paramref name="offset"/> that holds data, or -1 when none.</summary>
    long NextData(long offset);

    /// <summary>SEEK_HOLE: the first offset at or after <paramref name="offset"/> that is a hole (data ends somewhere).</summary>
    long NextHole(long offset);

    /// <summary>
    /// Makes [offset, offset+length) of this file read as [sourceOffset, sourceOffset+length) of
    /// <paramref name="source"/> (another file's data of the same store, or this one with the ranges apart).
    /// The memory store copies bytes, holes becoming written zeros as tmpfs does; the volume shares extents. ENOSPC.
    /// </summary>
    int CopyFrom(InodeOperation op, IFileData source, long sourceOffset, long offset, long length);
}

/// <summary>
/// Where the bytes of a read are, resolved under the inode's lock by <see cref="IFileData.PlanRead"/> and read without
/// it. What it points at does not change (log segments are immutable); it can only disappear, when a later change of
/// the file let the segment be collected before this read got to it.
/// </summary>
public abstract class FileReadPlan
{
    /// <summary>Fills <paramref name="destination"/> (the planned length). False when what the plan points at is gone: read again under the lock.</summary>
    public abstract bool TryRead(Span<byte> destination);
}
