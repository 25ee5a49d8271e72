namespace ProxyFs.Core.ReplayLog;

/// <summary>
/// The records of the log as runs of consecutive records with the same epoch, in address order: enough to find
/// where <see cref="VolumeReplayLog.Trim"/> may cut (the start of the first run whose epoch is not below the cut) and to
/// count the records that remain. Epochs normally only grow, so there are few runs; an appender that lags
/// behind a checkpoint makes a short extra run. Not thread-safe: the owner holds its append lock.
/// </summary>
internal sealed class EpochRuns
{
    private readonly List<Run> _runs = [];

    /// <summary>Records in the log (from its begin address on).</summary>
    public long Records { get; private set; }

    /// <summary>The highest epoch ever added (kept across trims).</summary>
    public ulong MaxEpoch { get; private set; }

    public int Count => _runs.Count;

    public void Add(ulong epoch, long address)
    {
        if (_runs.Count > 0 && _runs[^1].Epoch == epoch)
        {
            _runs[^1].Records++;
        }
        else
        {
            _runs.Add(new Run(epoch, address) { Records = 1 });
        }
        Records++;
        MaxEpoch = Math.Max(MaxEpoch, epoch);
    }

    /// <summary>
    /// Where to truncate so that no record with epoch ≥ <paramref name="beforeEpoch"/> is dropped: the start of the
    /// first such run, or <paramref name="tail"/> when there is none. Removes the runs before it.
    /// </summary>
    public long Cut(ulong beforeEpoch, long tail)
    {
        int keep = _runs.FindIndex(r => r.Epoch >= beforeEpoch);
        if (keep < 0)
        {
            _runs.Clear();
            Records = 0;
            return tail;
        }
        for (int i = 0; i < keep; i++)
        {
            Records -= _runs[i].Records;
        }
        _runs.RemoveRange(0, keep);
        return _runs[0].Start;
    }

    public void Clear()
    {
        _runs.Clear();
        Records = 0;
    }

    private sealed class Run(ulong epoch, long start)
    {
        public ulong Epoch { get; } = epoch;

        public long Start { get; } = start;

        public long Records { get; set; }
    }
}
