using Microsoft.Extensions.Logging;

namespace ProxyFs.Core.ReplayLog;

public sealed partial class VolumeReplayLog
{
    /// <summary>
    /// After a checkpoint: drops the records with epoch &lt; <paramref name="beforeEpoch"/> that precede the first
    /// record of a later epoch, makes that durable, and lets FasterLog delete the segment files wholly before the new
    /// begin (it does so in the background, soon after). On a <see cref="Faulted"/> log, restarts it instead: every
    /// record is dropped, which requires <paramref name="beforeEpoch"/> above every epoch ever appended (the
    /// checkpoint covers all changes, including those whose records were lost).
    /// </summary>
    /// <exception cref="ReplayLogWriteException">Writing failed, or the log is faulted and the checkpoint does not cover all of it.</exception>
    public async Task TrimAsync(ulong beforeEpoch, CancellationToken cancellationToken = default)
    {
        Task commit;
        lock (_appendLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (ReadOnly)
            {
                throw new InvalidOperationException($"{this} is open read-only");
            }
            if (_instance.Committer.Fault is ReplayLogWriteException fault)
            {
                Restart(beforeEpoch, fault);
            }
            else
            {
                long cut = _runs.Cut(beforeEpoch, _instance.Log.TailAddress);
                if (cut > _instance.Log.BeginAddress)
                {
                    _instance.Log.TruncateUntil(cut);
                }
            }
            commit = _instance.Committer.ForceAsync();
        }
        await commit.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Blocking <see cref="TrimAsync"/>.</summary>
    public void Trim(ulong beforeEpoch) => TrimAsync(beforeEpoch).GetAwaiter().GetResult();

    /// <summary>Reopens FasterLog after a failed write (at its last commit) and drops every record. Holds the append lock.</summary>
    private void Restart(ulong beforeEpoch, ReplayLogWriteException fault)
    {
        if (beforeEpoch <= _runs.MaxEpoch)
        {
            throw new ReplayLogWriteException(
                $"{this} failed ({fault.Message}) and restarts only after a checkpoint past epoch {_runs.MaxEpoch}, the last appended; " +
                $"trimming before epoch {beforeEpoch} is not enough", fault.IsDiskFull, fault);
        }
        LogInstance old = _instance;
        _retired[old.Incarnation] = old.Committer.Durable;
        old.Dispose();
        LogInstance fresh = LogInstance.Open(Directory, _identity, _options, old.Incarnation + 1);
        _instance = fresh;
        _runs.Clear();
        fresh.Log.TruncateUntil(fresh.Log.TailAddress);
        _options.Logger?.LogWarning("Replay log {Directory} restarted after a write failure ({Fault}); the records before epoch {Epoch} were dropped",
            Directory, fault.Message, beforeEpoch);
    }
}
