using System.Buffers;
using ProxyFs.ObjectStore;

namespace ProxyFs.Core.LogSegments;

/// <summary>Uploads, durability tracking, flush, failure and close.</summary>
public sealed partial class SegmentWriter
{
    private readonly SemaphoreSlim _uploadSlots;
    private readonly SortedSet<long> _pending = [];
    private readonly List<(long Target, TaskCompletionSource Done)> _waiters = [];
    private readonly List<InMemorySegment> _failed = [];
    private readonly List<Action<SegmentFooter>> _durableListeners = [];
    private volatile SegmentWriterState _state = SegmentWriterState.Running;
    private volatile SegmentWriterFailedException? _failure;
    private volatile bool _closing;
    private readonly CancellationTokenSource _abandon = new();
    private volatile bool _spilling;
    private TaskCompletionSource? _settled;

    /// <summary>
    /// Seals the open segment and returns when every byte appended before this call is durable in the store (fsync,
    /// checkpoint). Cancelling stops the wait, not the uploads.
    /// </summary>
    /// <exception cref="SegmentWriterFailedException">an upload failed for good (now or before).</exception>
    public Task FlushAsync(CancellationToken cancellationToken = default) => WaitDurableAsync(FlushReason.Explicit, cancellationToken);

    /// <summary>
    /// Seals the open segment, waits until every byte is durable and stops accepting appends. Idempotent. Throws
    /// <see cref="SegmentWriterFailedException"/> when some bytes could not be made durable (they stay in memory).
    /// </summary>
    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _closing = true;
        }
        WakeWaitersForRoom();
        await WaitDurableAsync(FlushReason.Shutdown, cancellationToken).ConfigureAwait(false);
        lock (_lock)
        {
            if (_state == SegmentWriterState.Running)
            {
                _state = SegmentWriterState.Closed;
            }
        }
        _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// After a failure: uploads the failed segments again and, when they succeed, returns the writer to
    /// <see cref="SegmentWriterState.Running"/>. Returns like <see cref="FlushAsync"/>.
    /// </summary>
    public Task RetryFailedAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (_spilling)
            {
                return Task.FromException(Spilled());
            }
            if (_state == SegmentWriterState.Failed)
            {
                _state = SegmentWriterState.Running;
                _failure = null;
                foreach (var segment in _failed)
                {
                    StartUpload(segment);
                }
                _failed.Clear();
            }
        }
        return WaitDurableAsync(FlushReason.Explicit, cancellationToken);
    }

    /// <summary>
    /// Closes the writer (<see cref="CloseAsync"/>); throws when bytes could not be made durable. After
    /// <see cref="SpillAsync"/> it only stops the timer.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_state != SegmentWriterState.Closed && !_spilling)
            {
                await CloseAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _timer.Dispose();
        }
    }

    /// <summary>Calls <paramref name="listener"/> with the footer of each segment once it is durable, before it leaves memory (the reader's footer cache).</summary>
    internal void AddDurableListener(Action<SegmentFooter> listener)
    {
        lock (_lock)
        {
            _durableListeners.Add(listener);
        }
    }

    internal void RemoveDurableListener(Action<SegmentFooter> listener)
    {
        lock (_lock)
        {
            _durableListeners.Remove(listener);
        }
    }

    private Task WaitDurableAsync(FlushReason? reason, CancellationToken cancellationToken)
    {
        Task wait;
        lock (_lock)
        {
            if (_spilling)
            {
                return Task.FromException(Spilled());
            }
            if (_state == SegmentWriterState.Failed)
            {
                return Task.FromException(new SegmentWriterFailedException($"the segment writer has failed: {_failure!.Message}", _failure));
            }
            if (reason is { } r && _open is { } open)
            {
                SealLocked(open, r);
            }
            long target = _nextSequence - 1;
            if (DurableUpToLocked() >= target)
            {
                return Task.CompletedTask;
            }
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((target, done));
            wait = done.Task;
        }
        return wait.WaitAsync(cancellationToken);
    }

    // Every segment with a sequence at or below this is durable.
    private long DurableUpToLocked() => _pending.Count == 0 ? _nextSequence - 1 : _pending.Min - 1;

    private void StartUpload(InMemorySegment segment) => _ = Task.Run(() => UploadAsync(segment));

    private async Task UploadAsync(InMemorySegment segment)
    {
        try
        {
            await _uploadSlots.WaitAsync(_abandon.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e)
        {
            Fail(segment, e);
            return;
        }
        long start = _time.GetTimestamp();
        ReadOnlySequence<byte> body;
        try
        {
            body = segment.Body(_options.BlockSize, _volumeIdCrc);
            Durability.CrashPoints.Hit(Durability.CrashPoints.SegmentBeforeUpload);
            await PutWithRetriesAsync(segment, body).ConfigureAwait(false);
            Durability.CrashPoints.Hit(Durability.CrashPoints.SegmentAfterUpload);
        }
        catch (Exception e)
        {
            Fail(segment, e);
            return;
        }
        finally
        {
            _uploadSlots.Release();
        }
        Metrics.RecordUpload(segment.Length, body.Length, _time.GetElapsedTime(start));
        OnDurable(segment);
    }

    private async Task PutWithRetriesAsync(InMemorySegment segment, ReadOnlySequence<byte> body)
    {
        var condition = _options.CreateOnly ? PutCondition.IfNoneMatch : PutCondition.None;
        var delay = _options.UploadRetryDelay;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await _store.PutAsync(segment.Key, ObjectBody.FromSequence(body), condition, _abandon.Token).ConfigureAwait(false);
                return;
            }
            catch (ObjectStoreException e) when (e.Kind == ObjectStoreErrorKind.PreconditionFailed)
            {
                // The key exists: an earlier attempt of ours landed (its answer was lost), or the nonce was reused.
                if (await StoredBytesEqualAsync(segment.Key, body).ConfigureAwait(false))
                {
                    return;
                }
                throw new SegmentWriterFailedException(
                    $"segment {segment.Key} (nonce 0x{segment.Nonce:x16}) already exists in {_store.Location} with other bytes: the nonce was used twice; the new bytes were not written", e);
            }
            catch (ObjectStoreException e) when (e.IsRetryable && attempt < _options.UploadAttempts)
            {
                Metrics.RecordRetry();
                await Task.Delay(delay, _time, _abandon.Token).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxUploadRetryDelay.Ticks));
            }
            catch (ObjectStoreException e)
            {
                throw new SegmentWriterFailedException(
                    $"uploading segment {segment.Key} (nonce 0x{segment.Nonce:x16}, {segment.Length} data bytes) to {_store.Location} failed after {attempt} attempt(s): {e.Message}", e);
            }
        }
    }

    private async Task<bool> StoredBytesEqualAsync(string key, ReadOnlySequence<byte> expected)
    {
        await using var stream = await _store.GetAsync(key, default, _abandon.Token).ConfigureAwait(false);
        if (stream.Length != expected.Length)
        {
            return false;
        }
        byte[] buffer = ArrayPool<byte>.Shared.Rent(64 << 10);
        try
        {
            var rest = expected;
            while (rest.Length > 0)
            {
                int n = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, rest.Length)), _abandon.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    return false;
                }
                var piece = rest.Slice(0, n);
                if (!SequenceEquals(piece, buffer.AsSpan(0, n)))
                {
                    return false;
                }
                rest = rest.Slice(n);
            }
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static bool SequenceEquals(ReadOnlySequence<byte> sequence, ReadOnlySpan<byte> span)
    {
        foreach (var piece in sequence)
        {
            if (!piece.Span.SequenceEqual(span[..piece.Length]))
            {
                return false;
            }
            span = span[piece.Length..];
        }
        return true;
    }

    private void OnDurable(InMemorySegment segment)
    {
        Action<SegmentFooter>[] listeners;
        lock (_lock)
        {
            listeners = [.. _durableListeners];
        }
        foreach (var listener in listeners)
        {
            listener(segment.Footer!);
        }
        // From here readers go to the store, where the object now is.
        _inMemory.TryRemove(new KeyValuePair<ulong, InMemorySegment>(segment.Nonce, segment));
        ReleaseRoom(segment.Length);
        lock (_lock)
        {
            _pending.Remove(segment.Sequence);
            CompleteWaitersLocked();
        }
        segment.Release();
    }

    private void Fail(InMemorySegment segment, Exception error)
    {
        if (!_abandon.IsCancellationRequested)
        {
            Metrics.RecordFailure();
        }
        var failure = error as SegmentWriterFailedException ?? new SegmentWriterFailedException(error is OperationCanceledException && _abandon.IsCancellationRequested
            ? $"the upload of segment {segment.Key} (nonce 0x{segment.Nonce:x16}, {segment.Length} data bytes) to {_store.Location} was stopped: the writer is spilling to local disk"
            : $"uploading segment {segment.Key} (nonce 0x{segment.Nonce:x16}, {segment.Length} data bytes) to {_store.Location} failed: {error.Message}", error);
        lock (_lock)
        {
            _failed.Add(segment);
            if (_state != SegmentWriterState.Failed)
            {
                _state = SegmentWriterState.Failed;
                _failure = failure;
            }
            CompleteWaitersLocked();
            foreach (var (_, done) in _waiters)
            {
                done.TrySetException(new SegmentWriterFailedException($"the segment writer has failed: {_failure!.Message}", _failure));
            }
            _waiters.Clear();
        }
        WakeWaitersForRoom();
    }

    private void CompleteWaitersLocked()
    {
        if (_settled is { } settled && _pending.Count == _failed.Count)
        {
            settled.TrySetResult();
        }
        long durable = DurableUpToLocked();
        for (int i = _waiters.Count - 1; i >= 0; i--)
        {
            if (_waiters[i].Target <= durable)
            {
                _waiters[i].Done.TrySetResult();
                _waiters.RemoveAt(i);
            }
        }
    }
}
