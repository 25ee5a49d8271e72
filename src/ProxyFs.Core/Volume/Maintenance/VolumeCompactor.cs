using ProxyFs.Core.FileSystem.Inodes;
using ProxyFs.Core.Volume.Inodes;

namespace ProxyFs.Core.Volume.Maintenance;

/// <summary>
/// Compaction: the live extents of data segments whose live bytes are below a share of their data are rewritten into
/// new segments through the volume's segment writer, so the old segments' last live bytes go and a later pass deletes
/// them (as 'P' records). Each extent is moved by its own short operation under its inode's lock, exactly like a write
/// of the same bytes (file contents, size and times do not change), after checking the extent is still the one found;
/// nothing is held between two extents, so foreground I/O goes on between them. A pass moves at most a byte budget.
/// </summary>
internal static class VolumeCompactor
{
    /// <summary>Moves the live extents of the emptiest segments below <paramref name="liveRatio"/>; returns the segments emptied and the bytes moved.</summary>
    public static (int Segments, long Bytes) Run(VolumeInodeStore inodes, double liveRatio, long byteBudget, CancellationToken cancellationToken)
    {
        VolumeCore core = inodes.Core;
        if (liveRatio <= 0 || byteBudget <= 0 || core.ReadOnly || core.Data is null)
        {
            return (0, 0);
        }
        // Only segments a committed checkpoint counted: they are sealed, nothing appends to them any more.
        ulong sealedBelow = core.Root.TreeRoot.SegmentNonce;
        Dictionary<ulong, SegmentUsage> live;
        using (inodes.Quiesce())
        {
            (live, _) = SegmentLiveness.Read(core.Tree);
        }
        var chosen = new HashSet<ulong>();
        long budget = byteBudget;
        foreach ((ulong nonce, SegmentUsage u) in live.Where(p => p.Key < sealedBelow && p.Value.DataBytes > 0 && p.Value.LiveBytes < liveRatio * p.Value.DataBytes)
            .OrderBy(p => (double)p.Value.LiveBytes / p.Value.DataBytes))
        {
            if ((long)u.LiveBytes > budget)
            {
                break;
            }
            budget -= (long)u.LiveBytes;
            chosen.Add(nonce);
        }
        if (chosen.Count == 0)
        {
            return (0, 0);
        }
        var moves = new List<(ulong Ino, ulong Offset, ExtentValue Value)>();
        core.Tree.ScanPrefix([VolumeKeys.Extent], (k, v) =>
        {
            ExtentValue e = ExtentValue.Decode(v);
            if (e.Kind == ExtentKind.Data && chosen.Contains(e.Nonce))
            {
                moves.Add((VolumeKeys.FirstNumber(k), VolumeKeys.SecondNumber(k), e));
            }
            return true;
        });
        long moved = 0;
        foreach ((ulong ino, ulong offset, ExtentValue value) in moves)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Move(inodes, ino, offset, value))
            {
                moved += (long)value.Length;
            }
        }
        return (chosen.Count, moved);
    }

    /// <summary>Rewrites one extent's bytes at the same file offset if the file still has exactly that extent.</summary>
    private static bool Move(VolumeInodeStore inodes, ulong ino, ulong offset, ExtentValue value)
    {
        using InodeOperation op = inodes.BeginOperation(OperationKind.Write);
        if (inodes.Acquire(ino, out Inode inode) != 0)
        {
            return false;
        }
        try
        {
            lock (inode.Sync)
            {
                if (inode.Freed || inode.Data is not VolumeFileData data || !data.HasExtent((long)offset, value))
                {
                    return false;
                }
                byte[] bytes = new byte[checked((int)value.Length)];
                inodes.Core.DataReader.Read(value.Nonce, (long)value.SegmentOffset, bytes);
                data.Write(op, (long)offset, bytes);
                op.Commit();
                return true;
            }
        }
        finally
        {
            inodes.Unpin(inode);
        }
    }
}
