namespace ProxyFs.Core.HeadHunter;

/// <summary>A snapshot of a tree's page cache and dirty state.</summary>
/// <param name="Hits">Lookups of a stored page or blob served from memory.</param>
/// <param name="Misses">Lookups that read the page source.</param>
/// <param name="Evictions">Clean records dropped to stay within the budget.</param>
/// <param name="CachedBytes">Bytes of records in the cache (at most the budget).</param>
/// <param name="CachedRecords">Records in the cache.</param>
/// <param name="InFlightSegmentBytes">
/// The image of the checkpoint in flight (between BeginCheckpoint and CompleteCheckpoint), held outside the budget:
/// its records are served from it until the store has them.
/// </param>
/// <param name="BudgetBytes">The configured budget for clean records.</param>
/// <param name="DirtyPages">Nodes modified since the last checkpoint (held in memory, outside the budget).</param>
public readonly record struct PageCacheStatistics(
    long Hits,
    long Misses,
    long Evictions,
    long CachedBytes,
    long CachedRecords,
    long InFlightSegmentBytes,
    long BudgetBytes,
    long DirtyPages);
