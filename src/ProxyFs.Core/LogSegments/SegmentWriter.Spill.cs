namespace ProxyFs.Core.LogSegments;

/// <summary>The end of a writer whose segments cannot reach the store: they go to local disk.</summary>
public sealed partial class SegmentWriter
{
    /// <summary>
    /// Closes the writer without the store (the volume is closing during an outage, after its last upload attempt
    /// failed): stops accepting appends, seals the open segment, stops every upload still running or waiting (each
    /// such segment counts as not stored; one that landed meanwhile counts as stored), and writes the object bytes of
    /// every segment not stored — exactly what its upload sends — to <paramref name="spill"/>, in the order they were
    /// opened. Returns the files written (none when every segment was stored). From then on the writer uploads
    /// nothing and accepts nothing; <see cref="DisposeAsync"/> only stops its timer. Called once.
    /// </summary>
    /// <exception cref="SegmentSpillException">a file could not be written; the files written before it stay.</exception>
    public async Task<IReadOnlyList<SpilledSegment>> SpillAsync(SegmentSpill spill, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spill);
        Task settled;
        lock (_lock)
        {
            if (_spilling)
            {
                throw new InvalidOperationException("the segment writer was already spilled");
            }
            _spilling = true;
            _closing = true;
            if (_open is { } open)
            {
                // Its upload starts and ends at once (abandoned below): it is spilled with the others.
                SealLocked(open, FlushReason.Shutdown);
            }
            _settled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_pending.Count == _failed.Count)
            {
                _settled.TrySetResult();
            }
            settled = _settled.Task;
        }
        _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        WakeWaitersForRoom();
        // Outside the lock: cancellation runs the uploads' continuations, which take it.
        await _abandon.CancelAsync().ConfigureAwait(false);
        await settled.WaitAsync(cancellationToken).ConfigureAwait(false);

        InMemorySegment[] unstored;
        lock (_lock)
        {
            unstored = [.. _failed.OrderBy(s => s.Sequence)];
        }
        var written = new List<SpilledSegment>(unstored.Length);
        foreach (InMemorySegment segment in unstored)
        {
            // No upload runs any more: the body (built by the upload, or now) is the writer's alone.
            var body = segment.Body(_options.BlockSize, _volumeIdCrc);
            string path = spill.Write(segment.Nonce, body);
            written.Add(new SpilledSegment(segment.Nonce, path, body.Length, Interrupted: false));
        }
        return written;
    }

    private static SegmentWriterFailedException Spilled() =>
        new("the segment writer is closed: the segments the store did not take were written to local disk (spilled)");
}
