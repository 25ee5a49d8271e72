using System.Buffers;
using System.Numerics;
using ProxyFs.Core.FileSystem.Inodes;

namespace ProxyFs.Core.FileSystem.Memory;

/// <summary>
/// The contents of a regular file: a sparse set of 256 KiB chunks, each made of 64 pages of 4 KiB. A page is
/// <em>allocated</em> when it counts in st_blocks (written, or reserved by fallocate) and <em>written</em> when its
/// memory holds the data. Holes and allocated-but-unwritten pages read as zeros and are holes for SEEK_DATA, as in
/// tmpfs, so a 1 TB sparse file costs one entry per written chunk. Memory of a chunk is allocated on its first
/// write; a page's bytes that no write covered are zeroed when the page becomes written, so a written page never
/// shows stale memory. Every change reserves its new pages from the store's <see cref="MemorySpace"/> first (ENOSPC
/// with nothing changed) and gives freed pages back. Not thread-safe: the owning inode's lock guards it.
/// </summary>
internal sealed class SparseData(MemoryInodeStore store, MemorySpace space) : IFileData
{
    public const int PageShift = 12;
    public const int PageSize = 1 << PageShift;
    private const int ChunkShift = 18;
    private const int ChunkSize = 1 << ChunkShift;
    private const int PagesPerChunk = ChunkSize / PageSize;
    private const int CopyBufferSize = 256 * 1024;

    private readonly SortedList<long, Chunk> _chunks = new();

    /// <summary>Pages counted in st_blocks.</summary>
    public long AllocatedPages { get; private set; }

    public ulong AllocatedBlocks => (ulong)AllocatedPages * (PageSize / 512);

    public int Write(InodeOperation op, long offset, ReadOnlySpan<byte> source)
    {
        if (!space.TryReserve(PagesToAllocate(offset, source.Length)))
        {
            return Errno.ENOSPC;
        }
        op.Record(store);
        Write(offset, source);
        return 0;
    }

    public void Truncate(InodeOperation op, long size)
    {
        op.Record(store);
        long before = AllocatedPages;
        Truncate(size);
        space.Release(before - AllocatedPages);
    }

    public void PunchHole(InodeOperation op, long offset, long length)
    {
        op.Record(store);
        long before = AllocatedPages;
        PunchHole(offset, length);
        space.Release(before - AllocatedPages);
    }

    /// <summary>Punches, then allocates: whole pages inside are freed and allocated again, so the space needed is the range's unallocated pages.</summary>
    public int ZeroRange(InodeOperation op, long offset, long length)
    {
        long needed = PagesToAllocate(offset, length);
        if (!space.TryReserve(needed))
        {
            return Errno.ENOSPC;
        }
        op.Record(store);
        long before = AllocatedPages;
        PunchHole(offset, length);
        Allocate(offset, length);
        space.Release(needed - (AllocatedPages - before));
        return 0;
    }

    public int Allocate(InodeOperation op, long offset, long length)
    {
        if (!space.TryReserve(PagesToAllocate(offset, length)))
        {
            return Errno.ENOSPC;
        }
        op.Record(store);
        Allocate(offset, length);
        return 0;
    }

    /// <summary>Copies the bytes through a pooled buffer: holes of the source become written zeros, as tmpfs's splice copy makes them.</summary>
    public int CopyFrom(InodeOperation op, IFileData source, long sourceOffset, long offset, long length)
    {
        if (source is not SparseData from)
        {
            throw new ArgumentException("copy from the data of another store", nameof(source));
        }
        if (!space.TryReserve(PagesToAllocate(offset, length)))
        {
            return Errno.ENOSPC;
        }
        op.Record(store);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            for (long done = 0; done < length;)
            {
                int n = (int)Math.Min(CopyBufferSize, length - done);
                from.Read(sourceOffset + done, buffer.AsSpan(0, n));
                Write(offset + done, buffer.AsSpan(0, n));
                done += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return 0;
    }

    /// <summary>Frees every page (the inode is freed).</summary>
    public void ReleaseAll()
    {
        space.Release(AllocatedPages);
        AllocatedPages = 0;
        _chunks.Clear();
    }

    /// <summary>Pages that would newly be allocated by writing or reserving [offset, offset+length).</summary>
    private long PagesToAllocate(long offset, long length)
    {
        if (length <= 0)
        {
            return 0;
        }
        long first = offset >> PageShift;
        long last = (offset + length - 1) >> PageShift;
        long missing = 0;
        for (long chunkIndex = first / PagesPerChunk; chunkIndex <= last / PagesPerChunk; chunkIndex++)
        {
            long chunkFirstPage = chunkIndex * PagesPerChunk;
            int from = (int)Math.Max(first - chunkFirstPage, 0);
            int to = (int)Math.Min(last - chunkFirstPage, PagesPerChunk - 1);
            ulong mask = RangeMask(from, to);
            ulong allocated = _chunks.TryGetValue(chunkIndex, out Chunk? chunk) ? chunk.Allocated : 0;
            missing += BitOperations.PopCount(mask & ~allocated);
        }
        return missing;
    }

    /// <summary>Copies [offset, offset+destination.Length) into <paramref name="destination"/>; holes read as zeros.</summary>
    public void Read(long offset, Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            long chunkIndex = offset >> ChunkShift;
            int inChunk = (int)(offset & (ChunkSize - 1));
            int count = Math.Min(destination.Length, ChunkSize - inChunk);
            Span<byte> part = destination[..count];
            if (!_chunks.TryGetValue(chunkIndex, out Chunk? chunk) || chunk.Data is null || chunk.Written == 0)
            {
                part.Clear();
            }
            else
            {
                ReadChunk(chunk, inChunk, part);
            }
            destination = destination[count..];
            offset += count;
        }
    }

    private static void ReadChunk(Chunk chunk, int inChunk, Span<byte> part)
    {
        while (!part.IsEmpty)
        {
            int page = inChunk >> PageShift;
            int inPage = inChunk & (PageSize - 1);
            int count = Math.Min(part.Length, PageSize - inPage);
            if ((chunk.Written & (1UL << page)) != 0)
            {
                chunk.Data.AsSpan(inChunk, count).CopyTo(part);
            }
            else
            {
                part[..count].Clear();
            }
            part = part[count..];
            inChunk += count;
        }
    }

    /// <summary>Stores <paramref name="source"/> at <paramref name="offset"/>, allocating pages as needed.</summary>
    private void Write(long offset, ReadOnlySpan<byte> source)
    {
        while (!source.IsEmpty)
        {
            long chunkIndex = offset >> ChunkShift;
            int inChunk = (int)(offset & (ChunkSize - 1));
            int count = Math.Min(source.Length, ChunkSize - inChunk);
            Chunk chunk = GetOrAddChunk(chunkIndex);
            chunk.Data ??= GC.AllocateUninitializedArray<byte>(ChunkSize);
            int firstPage = inChunk >> PageShift;
            int lastPage = (inChunk + count - 1) >> PageShift;
            ulong fresh = RangeMask(firstPage, lastPage) & ~chunk.Written;
            if (fresh != 0)
            {
                // Zero the parts of newly written pages that this write does not cover.
                if ((fresh & (1UL << firstPage)) != 0)
                {
                    int pageStart = firstPage << PageShift;
                    chunk.Data.AsSpan(pageStart, inChunk - pageStart).Clear();
                }
                if ((fresh & (1UL << lastPage)) != 0)
                {
                    int end = inChunk + count;
                    int pageEnd = (lastPage + 1) << PageShift;
                    chunk.Data.AsSpan(end, pageEnd - end).Clear();
                }
                AllocatedPages += BitOperations.PopCount(fresh & ~chunk.Allocated);
                chunk.Allocated |= fresh;
                chunk.Written |= fresh;
            }
            source[..count].CopyTo(chunk.Data.AsSpan(inChunk, count));
            source = source[count..];
            offset += count;
        }
    }

    /// <summary>
    /// Reserves the pages of [offset, offset+length) (fallocate): they count in st_blocks and read as zeros. As in
    /// tmpfs, a page reserved by an earlier fallocate and still unwritten is zeroed and becomes data when reserved
    /// again (shmem_get_folio initializes a fallocated folio it meets a second time); a new page stays a hole.
    /// </summary>
    private void Allocate(long offset, long length)
    {
        ForEachChunk(offset, length, (chunkIndex, from, to, data) =>
        {
            Chunk chunk = data.GetOrAddChunk(chunkIndex);
            ulong mask = RangeMask(from, to);
            ulong again = mask & chunk.Allocated & ~chunk.Written;
            if (again != 0)
            {
                chunk.Data ??= GC.AllocateUninitializedArray<byte>(ChunkSize);
                for (ulong bits = again; bits != 0; bits &= bits - 1)
                {
                    chunk.Data.AsSpan(BitOperations.TrailingZeroCount(bits) << PageShift, PageSize).Clear();
                }
                chunk.Written |= again;
            }
            data.AllocatedPages += BitOperations.PopCount(mask & ~chunk.Allocated);
            chunk.Allocated |= mask;
        });
    }

    /// <summary>
    /// Makes [offset, offset+length) read as zeros: whole pages are freed, the covered part of partial pages is
    /// zeroed (those pages stay allocated), as tmpfs's hole punching does.
    /// </summary>
    private void PunchHole(long offset, long length)
    {
        if (length <= 0)
        {
            return;
        }
        long end = offset + length;
        long firstWhole = (offset + PageSize - 1) >> PageShift;
        long endWhole = end >> PageShift; // exclusive
        if (firstWhole < endWhole)
        {
            ZeroWritten(offset, firstWhole << PageShift);
            FreePages(firstWhole, endWhole);
            ZeroWritten(endWhole << PageShift, end);
        }
        else
        {
            ZeroWritten(offset, end);
        }
    }

    /// <summary>
    /// Drops everything at and after <paramref name="size"/>: pages wholly past it are freed (fallocated ones too),
    /// the tail of the page holding it is zeroed.
    /// </summary>
    private void Truncate(long size)
    {
        long firstFree = (size + PageSize - 1) >> PageShift;
        ZeroWritten(size, firstFree << PageShift);
        FreePages(firstFree, long.MaxValue >> PageShift);
    }

    /// <summary>SEEK_DATA: the first offset at or after <paramref name="offset"/> in a written page, or -1.</summary>
    public long NextData(long offset)
    {
        long page = offset >> PageShift;
        long chunkIndex = page / PagesPerChunk;
        IList<long> keys = _chunks.Keys;
        IList<Chunk> values = _chunks.Values;
        for (int i = LowerBound(chunkIndex); i < keys.Count; i++)
        {
            ulong written = values[i].Written;
            if (keys[i] == chunkIndex)
            {
                written &= ~0UL << (int)(page % PagesPerChunk);
            }
            if (written != 0)
            {
                long found = ((keys[i] * PagesPerChunk) + BitOperations.TrailingZeroCount(written)) << PageShift;
                return Math.Max(found, offset);
            }
        }
        return -1;
    }

    /// <summary>SEEK_HOLE: the first offset at or after <paramref name="offset"/> not in a written page.</summary>
    public long NextHole(long offset)
    {
        long page = offset >> PageShift;
        while (true)
        {
            long chunkIndex = page / PagesPerChunk;
            if (!_chunks.TryGetValue(chunkIndex, out Chunk? chunk))
            {
                return Math.Max(page << PageShift, offset);
            }
            ulong holes = ~chunk.Written & (~0UL << (int)(page % PagesPerChunk));
            if (holes != 0)
            {
                long found = ((chunkIndex * PagesPerChunk) + BitOperations.TrailingZeroCount(holes)) << PageShift;
                return Math.Max(found, offset);
            }
            page = (chunkIndex + 1) * PagesPerChunk;
        }
    }

    private int LowerBound(long key)
    {
        IList<long> keys = _chunks.Keys;
        int lo = 0;
        int hi = keys.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (keys[mid] < key)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo;
    }

    private Chunk GetOrAddChunk(long chunkIndex)
    {
        if (!_chunks.TryGetValue(chunkIndex, out Chunk? chunk))
        {
            chunk = new Chunk();
            _chunks.Add(chunkIndex, chunk);
        }
        return chunk;
    }

    /// <summary>Zeroes the written bytes of [from, to) without freeing pages.</summary>
    private void ZeroWritten(long from, long to)
    {
        while (from < to)
        {
            long pageEnd = ((from >> PageShift) + 1) << PageShift;
            long stop = Math.Min(to, pageEnd);
            if (_chunks.TryGetValue(from >> ChunkShift, out Chunk? chunk) && chunk.Data is not null)
            {
                int inChunk = (int)(from & (ChunkSize - 1));
                if ((chunk.Written & (1UL << (inChunk >> PageShift))) != 0)
                {
                    chunk.Data.AsSpan(inChunk, (int)(stop - from)).Clear();
                }
            }
            from = stop;
        }
    }

    /// <summary>Frees pages [firstPage, endPage).</summary>
    private void FreePages(long firstPage, long endPage)
    {
        if (endPage <= firstPage)
        {
            return;
        }
        long firstChunk = firstPage / PagesPerChunk;
        long lastChunk = (endPage - 1) / PagesPerChunk;
        int i = LowerBound(firstChunk);
        while (i < _chunks.Count)
        {
            long key = _chunks.Keys[i];
            if (key > lastChunk)
            {
                break;
            }
            Chunk chunk = _chunks.Values[i];
            long chunkFirstPage = key * PagesPerChunk;
            int from = (int)Math.Max(firstPage - chunkFirstPage, 0);
            int to = (int)Math.Min(endPage - 1 - chunkFirstPage, PagesPerChunk - 1);
            ulong mask = RangeMask(from, to);
            AllocatedPages -= BitOperations.PopCount(chunk.Allocated & mask);
            chunk.Allocated &= ~mask;
            chunk.Written &= ~mask;
            if (chunk.Allocated == 0)
            {
                _chunks.RemoveAt(i);
            }
            else
            {
                if (chunk.Written == 0)
                {
                    chunk.Data = null;
                }
                i++;
            }
        }
    }

    private void ForEachChunk(long offset, long length, Action<long, int, int, SparseData> action)
    {
        if (length <= 0)
        {
            return;
        }
        long first = offset >> PageShift;
        long last = (offset + length - 1) >> PageShift;
        for (long chunkIndex = first / PagesPerChunk; chunkIndex <= last / PagesPerChunk; chunkIndex++)
        {
            long chunkFirstPage = chunkIndex * PagesPerChunk;
            int from = (int)Math.Max(first - chunkFirstPage, 0);
            int to = (int)Math.Min(last - chunkFirstPage, PagesPerChunk - 1);
            action(chunkIndex, from, to, this);
        }
    }

    /// <summary>Bits from..to inclusive.</summary>
    private static ulong RangeMask(int from, int to)
    {
        ulong upTo = to == 63 ? ulong.MaxValue : (1UL << (to + 1)) - 1;
        return upTo & (ulong.MaxValue << from);
    }

    private sealed class Chunk
    {
        public byte[]? Data;
        public ulong Written;
        public ulong Allocated;
    }
}
