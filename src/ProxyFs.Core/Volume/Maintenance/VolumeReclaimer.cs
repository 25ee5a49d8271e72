using System.Runtime.CompilerServices;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ProxyFs.Core.LogSegments;
using ProxyFs.Core.Volume.Inodes;
using ProxyFs.ObjectStore;

namespace ProxyFs.Core.Volume.Maintenance;

/// <summary>How a space reclamation pass runs.</summary>
public sealed record ReclaimOptions
{
    /// <summary>
    /// How long a dead segment stays in the store after it was found dead (and an orphan object after it was written):
    /// a reader that opened an older generation before it expired keeps working this long.
    /// </summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Count only: delete nothing, change nothing.</summary>
    public bool DryRun { get; init; }

    /// <summary>Compact data segments whose live bytes are below this share of their data (0: never).</summary>
    public double CompactBelow { get; init; } = 0.5;

    /// <summary>At most this many live bytes are moved by one pass's compaction.</summary>
    public long CompactBytesPerPass { get; init; } = 256L << 20;

    /// <summary>Also walk the kept generations' trees to find unreachable metadata segments (reads every page).</summary>
    public bool Metadata { get; init; } = true;
}

/// <summary>What a pass found and did. Bytes are object sizes as listed by the store.</summary>
public sealed record ReclaimReport
{
    public int DataSegments { get; init; }
    public long DataSegmentBytes { get; init; }
    /// <summary>Bytes of data segments still referenced by some extent (the 'S' records).</summary>
    public long LiveBytes { get; init; }
    public int MetadataSegments { get; init; }
    public long MetadataSegmentBytes { get; init; }
    /// <summary>Data segments no extent references ('P' records), deletable or not yet.</summary>
    public int DeadSegments { get; init; }
    public long DeadBytes { get; init; }
    /// <summary>Of those, the ones still reachable from a kept checkpoint generation or within the grace period.</summary>
    public int WaitingSegments { get; init; }
    public long WaitingBytes { get; init; }
    /// <summary>Objects nothing refers to: data segments of no record, metadata segments of no kept generation.</summary>
    public int OrphanObjects { get; init; }
    public long OrphanBytes { get; init; }
    /// <summary>Data segments whose live extents this pass moved into new segments (deleted by a later pass).</summary>
    public int CompactedSegments { get; init; }
    public long CompactedBytes { get; init; }
    public int DeletedObjects { get; init; }
    public long DeletedBytes { get; init; }
    public bool DryRun { get; init; }

    /// <summary>Share of the stored segment bytes that is not live data or reachable metadata (0 to 1).</summary>
    [JsonIgnore]
    public double DeadRatio => DataSegmentBytes + MetadataSegmentBytes == 0 ? 0
        : Math.Clamp(1 - ((double)LiveBytes + ReachableMetadataBytes) / (DataSegmentBytes + MetadataSegmentBytes), 0, 1);

    public long ReachableMetadataBytes { get; init; }

    /// <summary>Bytes a pass with no grace period and no kept generation would delete.</summary>
    [JsonIgnore]
    public long ReclaimableBytes => DeadBytes + OrphanBytes;
}

/// <summary>
/// Deletes what a volume no longer needs: data segments whose last live byte is gone ('P' records, once no kept
/// checkpoint generation reaches them and the grace period is over), data segments no record names (left by a
/// mount that crashed before its checkpoint) and metadata segments no kept generation reaches. Runs on a mounted
/// volume (from the daemon) or on one opened for the pass (`proxyfs gc`).
/// </summary>
/// <remarks>
/// Crash safety: a 'P' record is removed only after its object was deleted, and the removal is made durable by the
/// next checkpoint; a crash in between leaves the record, and the next pass deletes again (deletes are idempotent,
/// nonces never reused). Objects newer than the last checkpoint's root are never touched: a running writer's
/// segments and an in-flight checkpoint's metadata segment have higher nonces. The operation gate is held only
/// while the 'S' and 'P' records are read and while the deleted records are removed, never across store I/O.
/// </remarks>
public static class VolumeReclaimer
{
    /// <summary>One pass at a time per volume (a forced pass waits for the background one).</summary>
    private static readonly ConditionalWeakTable<VolumeCore, SemaphoreSlim> Passes = new();

    /// <summary>Runs one pass over the volume <paramref name="inodes"/> serves (waits for a pass already running).</summary>
    public static async Task<ReclaimReport> RunAsync(VolumeInodeStore inodes, ReclaimOptions options, ILogger? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inodes);
        ArgumentNullException.ThrowIfNull(options);
        SemaphoreSlim pass = Passes.GetValue(inodes.Core, _ => new SemaphoreSlim(1, 1));
        await pass.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await RunPassAsync(inodes, options, log ?? NullLogger.Instance, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            pass.Release();
        }
    }

    private static async Task<ReclaimReport> RunPassAsync(VolumeInodeStore inodes, ReclaimOptions options, ILogger log, CancellationToken cancellationToken)
    {
        VolumeCore core = inodes.Core;
        bool write = !options.DryRun && !core.ReadOnly;
        if (write)
        {
            // Makes the segment usage counted so far, and the pending deletions it creates, part of a committed root.
            await core.CheckpointAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        (int compactedSegments, long compactedBytes) = write
            ? VolumeCompactor.Run(inodes, options.CompactBelow, options.CompactBytesPerPass, cancellationToken)
            : (0, 0);
        if (compactedSegments > 0)
        {
            // The moved extents and the emptied segments' pending deletions become part of a committed root.
            await core.CheckpointAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        RootPointer root = core.Root;
        ulong rootNonce = root.TreeRoot.SegmentNonce;
        // Below this every segment is either named by the tree or nobody's: earlier mounts' nonces (those mounts are
        // gone) and this mount's up to its last committed root. A running writer's newer segments stay out of reach.
        ulong accountedBelow = Math.Max(rootNonce, core.OpenedReservation);
        long now = Nanoseconds(core.TimeProvider);
        Dictionary<ulong, ObjectInfo> data = await ListAsync(core.Store, VolumeLayout.DataSegments, cancellationToken).ConfigureAwait(false);
        Dictionary<ulong, ObjectInfo> meta = await ListAsync(core.Store, VolumeLayout.MetadataSegments, cancellationToken).ConfigureAwait(false);

        Dictionary<ulong, SegmentUsage> live;
        Dictionary<ulong, PendingDeletion> pending;
        using (write ? inodes.Quiesce() : null)
        {
            (live, pending) = SegmentLiveness.Read(core.Tree);
            if (write)
            {
                // 'S' records at 0 written before pending deletions existed: dead in this tree and every later one.
                foreach ((ulong nonce, SegmentUsage u) in live.Where(p => p.Value.LiveBytes == 0).ToList())
                {
                    SegmentLiveness.MarkDead(core.Tree, nonce, u.DataBytes, rootNonce, now);
                    live.Remove(nonce);
                    pending[nonce] = new PendingDeletion(u.DataBytes, rootNonce, now);
                }
            }
        }

        var deletions = new List<(string Key, long Bytes, ulong? Pending)>();
        int waiting = 0;
        long waitingBytes = 0, deadBytes = 0;
        foreach ((ulong nonce, PendingDeletion p) in pending)
        {
            long size = data.TryGetValue(nonce, out ObjectInfo? o) ? o.Size : 0;
            deadBytes += size;
            if (p.Deletable(root, now, options.Grace))
            {
                deletions.Add((VolumeLayout.DataSegments.KeyOf(nonce), size, nonce));
            }
            else
            {
                waiting++;
                waitingBytes += size;
            }
        }
        int orphans = 0;
        long orphanBytes = 0;
        TimeSpan grace = options.Grace;
        DateTimeOffset utcNow = core.TimeProvider.GetUtcNow();
        foreach ((ulong nonce, ObjectInfo o) in data)
        {
            if (nonce < accountedBelow && !live.ContainsKey(nonce) && !pending.ContainsKey(nonce))
            {
                orphans++;
                orphanBytes += o.Size;
                if (utcNow - o.LastModified >= grace)
                {
                    deletions.Add((o.Key, o.Size, null));
                }
            }
        }
        long reachableMeta = 0;
        if (options.Metadata)
        {
            var walker = new TreeWalker(new StorePageSource(core.Store, VolumeLayout.MetadataSegments));
            walker.WalkKept(root);
            if (walker.Errors.Count > 0)
            {
                // A tree that cannot be read fully cannot prove a metadata segment unreachable: leave them all.
                log.LogError("{Location}: metadata not reclaimed: {Count} records unreadable, first: {First} (run proxyfs fsck)",
                    core.Location, walker.Errors.Count, walker.Errors[0]);
            }
            else
            {
                reachableMeta = walker.BytesBySegment.Values.Sum();
                foreach ((ulong nonce, ObjectInfo o) in meta)
                {
                    if (nonce < accountedBelow && !walker.BytesBySegment.ContainsKey(nonce))
                    {
                        orphans++;
                        orphanBytes += o.Size;
                        if (utcNow - o.LastModified >= grace)
                        {
                            deletions.Add((o.Key, o.Size, null));
                        }
                    }
                }
            }
        }

        int deleted = 0;
        long deletedBytes = 0;
        var done = new List<ulong>();
        if (write)
        {
            foreach ((string key, long bytes, ulong? nonce) in deletions)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await core.Store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
                deleted++;
                deletedBytes += bytes;
                if (nonce is ulong n)
                {
                    done.Add(n);
                }
            }
            if (done.Count > 0)
            {
                using (inodes.Quiesce())
                {
                    Span<byte> key = stackalloc byte[9];
                    foreach (ulong n in done)
                    {
                        core.Tree.Delete(key[..VolumeKeys.OfPendingDeletion(key, n)]);
                    }
                }
                await core.CheckpointAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            if (deleted > 0)
            {
                log.LogInformation("{Location}: reclaimed {Count} objects, {Bytes} bytes", core.Location, deleted, deletedBytes);
            }
        }
        return new ReclaimReport
        {
            DataSegments = data.Count,
            DataSegmentBytes = data.Values.Sum(o => o.Size),
            LiveBytes = live.Values.Sum(u => (long)u.LiveBytes),
            MetadataSegments = meta.Count,
            MetadataSegmentBytes = meta.Values.Sum(o => o.Size),
            ReachableMetadataBytes = reachableMeta,
            DeadSegments = pending.Count,
            DeadBytes = deadBytes,
            WaitingSegments = waiting,
            WaitingBytes = waitingBytes,
            OrphanObjects = orphans,
            OrphanBytes = orphanBytes,
            CompactedSegments = compactedSegments,
            CompactedBytes = compactedBytes,
            DeletedObjects = deleted,
            DeletedBytes = deletedBytes,
            DryRun = !write,
        };
    }

    /// <summary>The segment objects under <paramref name="keys"/>' prefix, by nonce (keys that are not segment keys are skipped).</summary>
    public static async Task<Dictionary<ulong, ObjectInfo>> ListAsync(IObjectStore store, SegmentKeys keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(keys);
        var found = new Dictionary<ulong, ObjectInfo>();
        await foreach (ObjectInfo o in store.ListAllAsync(keys.Prefix, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (keys.TryParse(o.Key, out ulong nonce))
            {
                found[nonce] = o;
            }
        }
        return found;
    }

    internal static long Nanoseconds(TimeProvider time) => (time.GetUtcNow().UtcTicks - DateTime.UnixEpoch.Ticks) * 100;
}
