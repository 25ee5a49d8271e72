namespace ProxyFs.Core.HeadHunter;

/// <summary>Tuning of a <see cref="HeadHunterTree"/>. The page size and inline limit are a volume's format choice.</summary>
public sealed class HeadHunterOptions
{
    /// <summary>Smallest accepted <see cref="PageSize"/>.</summary>
    public const int MinPageSize = 4096;

    /// <summary>Largest accepted <see cref="PageSize"/> (slot offsets are 16-bit).</summary>
    public const int MaxPageSize = 65536;

    /// <summary>Smallest value that the inline limit may be.</summary>
    public const int MinInlineValueLength = 16;

    /// <summary>Largest serialized page in bytes (default 16 KiB).</summary>
    public int PageSize { get; init; } = 16 * 1024;

    /// <summary>
    /// Values longer than this are stored out of line as blobs. 0 (the default) means a quarter page, capped so
    /// that any three entries of maximal key and inline value fit in a page (a split always succeeds).
    /// </summary>
    public int MaxInlineValueLength { get; init; }

    /// <summary>Byte budget of the clean page cache (default 64 MiB). Dirty pages and the image of a checkpoint in flight are not limited by it.</summary>
    public long CacheBudgetBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>The effective inline limit for these options; throws if the options are unusable.</summary>
    public int EffectiveMaxInlineValueLength
    {
        get
        {
            Validate();
            var cap = LargestInlineFor(PageSize);
            return MaxInlineValueLength == 0 ? Math.Min(PageSize / 4, cap) : MaxInlineValueLength;
        }
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> when the options cannot work.</summary>
    public void Validate()
    {
        if (PageSize is < MinPageSize or > MaxPageSize)
        {
            throw new ArgumentOutOfRangeException(nameof(PageSize), PageSize, $"page size must be {MinPageSize}..{MaxPageSize}");
        }
        var cap = LargestInlineFor(PageSize);
        if (MaxInlineValueLength != 0 && (MaxInlineValueLength < MinInlineValueLength || MaxInlineValueLength > cap))
        {
            throw new ArgumentOutOfRangeException(
                nameof(MaxInlineValueLength), MaxInlineValueLength, $"inline limit must be {MinInlineValueLength}..{cap} for {PageSize}-byte pages");
        }
        if (CacheBudgetBytes < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(CacheBudgetBytes), CacheBudgetBytes, "cache budget must not be negative");
        }
    }

    /// <summary>Largest inline value such that one leaf entry takes at most a third of a page's payload.</summary>
    internal static int LargestInlineFor(int pageSize)
    {
        var third = (pageSize - PageFormat.HeaderLength) / 3;
        return third - PageFormat.MaxLeafEntryOverhead - HeadHunterTree.MaxKeyLength;
    }
}
