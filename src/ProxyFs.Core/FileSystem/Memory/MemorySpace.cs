namespace ProxyFs.Core.FileSystem.Memory;

/// <summary>The pages a <see cref="MemoryInodeStore"/> may hold (its capacity) and those in use. Thread-safe.</summary>
internal sealed class MemorySpace(long capacityPages)
{
    private long _used;

    public long CapacityPages { get; } = capacityPages;

    public long UsedPages => Interlocked.Read(ref _used);

    /// <summary>Takes <paramref name="pages"/> of the capacity; false (ENOSPC) when they are not there.</summary>
    public bool TryReserve(long pages)
    {
        if (pages <= 0)
        {
            return true;
        }
        if (Interlocked.Add(ref _used, pages) > CapacityPages)
        {
            Interlocked.Add(ref _used, -pages);
            return false;
        }
        return true;
    }

    public void Release(long pages)
    {
        if (pages != 0)
        {
            Interlocked.Add(ref _used, -pages);
        }
    }
}
