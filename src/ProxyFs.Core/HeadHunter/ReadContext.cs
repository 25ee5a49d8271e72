namespace ProxyFs.Core.HeadHunter;

/// <summary>
/// The pages one tree operation has fetched itself, so that a retry after a miss finds them even if the cache
/// evicted them meanwhile (every restart makes progress), and the address that the last attempt missed.
/// Allocates its arrays only when the operation actually misses.
/// </summary>
internal sealed class ReadContext
{
    private const int Capacity = 32;
    private PageAddress[]? _addresses;
    private byte[]?[]? _records;
    private int _next;

    /// <summary>When true a miss reads the page source at once (under the caller's lock) instead of failing.</summary>
    public bool LoadUnderLock { get; set; }

    /// <summary>The address whose absence ended the last attempt.</summary>
    public PageAddress Missing { get; set; }

    /// <summary>Leaves a scan will need after <see cref="Missing"/>, to read in the same batch.</summary>
    public List<PageAddress> ReadAhead { get; } = [];

    public byte[]? Find(PageAddress address)
    {
        if (_records is null)
        {
            return null;
        }
        for (var i = 0; i < Capacity; i++)
        {
            if (_records[i] is { } record && _addresses![i] == address)
            {
                return record;
            }
        }
        return null;
    }

    public void Keep(PageAddress address, byte[] record)
    {
        _addresses ??= new PageAddress[Capacity];
        _records ??= new byte[]?[Capacity];
        _addresses[_next] = address;
        _records[_next] = record;
        _next = (_next + 1) % Capacity;
    }
}
