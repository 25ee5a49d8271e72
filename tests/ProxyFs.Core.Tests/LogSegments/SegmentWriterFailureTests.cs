using ProxyFs.Core.LogSegments;
using ProxyFs.ObjectStore;
using ProxyFs.ObjectStore.Decorators;
using ProxyFs.ObjectStore.Memory;

namespace ProxyFs.Core.Tests.LogSegments;

public class SegmentWriterFailureTests
{
    private static readonly byte[] VolumeId = SegmentWriterTests.VolumeId;

    [Fact]
    public async Task A_permanent_upload_failure_fails_the_writer_keeps_the_bytes_readable_and_can_be_retried()
    {
        await using var inner = new MemoryObjectStore();
        var plan = new FaultPlan(seed: 1).FailNext(ObjectStoreOperation.Put, 1, ObjectStoreErrorKind.AuthFailed);
        var store = new FaultInjectingObjectStore(inner, plan);
        var writer = new SegmentWriter(store, new CountingNonceSource(), VolumeId, SegmentWriterTests.Small());
        var (_, cache) = SegmentWriterTests.NewCache();
        using var reader = new SegmentReader(store, cache, VolumeId, writer);
        byte[] data = TestBytes.Make(7, 10_000);
        var where = writer.Append(data);

        var e = await Assert.ThrowsAsync<SegmentWriterFailedException>(() => writer.FlushAsync());
        Assert.Contains("segments/01/0000000000000001", e.Message, StringComparison.Ordinal);
        Assert.Contains("AuthFailed", e.Message, StringComparison.Ordinal);
        Assert.Equal(SegmentWriterState.Failed, writer.State);
        Assert.NotNull(writer.Failure);
        Assert.Equal([1ul], writer.FailedSegments);
        Assert.Equal(1, writer.Metrics.Snapshot().UploadFailures);
        Assert.Equal(0, writer.Metrics.Snapshot().UploadRetries); // not retryable
        Assert.Equal(data.Length, writer.BytesWaiting);

        // Nothing is lost: the bytes are still served, appends and flushes keep failing clearly.
        SegmentWriterTests.AssertReadsBack(reader, [(where, data)]);
        Assert.Throws<SegmentWriterFailedException>(() => writer.Append(new byte[1]));
        await Assert.ThrowsAsync<SegmentWriterFailedException>(() => writer.FlushAsync());
        Assert.Equal(0, inner.Count);

        await writer.RetryFailedAsync();
        Assert.Equal(SegmentWriterState.Running, writer.State);
        Assert.Null(writer.Failure);
        Assert.Empty(writer.FailedSegments);
        Assert.Equal(1, inner.Count);
        Assert.Equal(0, writer.BytesWaiting);
        SegmentWriterTests.AssertReadsBack(reader, [(where, data)]);
        writer.Append(new byte[1]);
        await writer.DisposeAsync();
        Assert.Equal(2, inner.Count);
    }

    [Fact]
    public async Task Transient_failures_are_retried_until_the_segment_lands()
    {
        await using var inner = new MemoryObjectStore();
        var plan = new FaultPlan(seed: 42).SetErrorRate(ObjectStoreOperation.Put, 0.5);
        var store = new FaultInjectingObjectStore(inner, plan);
        var options = SegmentWriterTests.Small() with { UploadAttempts = 30, MaxFlushSize = 16 << 10 };
        await using var writer = new SegmentWriter(store, new CountingNonceSource(), VolumeId, options);
        var written = new List<(SegmentLocation, byte[])>();
        for (int i = 0; i < 40; i++)
        {
            byte[] data = TestBytes.Make(i, 8 << 10);
            written.Add((writer.Append(data), data));
        }
        await writer.FlushAsync();
        Assert.Equal(SegmentWriterState.Running, writer.State);
        Assert.True(writer.Metrics.Snapshot().UploadRetries > 0);
        Assert.Equal(20, inner.Count);
        var (_, cache) = SegmentWriterTests.NewCache();
        using var reader = new SegmentReader(inner, cache, VolumeId);
        SegmentWriterTests.AssertReadsBack(reader, written);
    }

    [Fact]
    public async Task Retries_that_run_out_fail_the_writer_with_the_count()
    {
        await using var inner = new MemoryObjectStore();
        var plan = new FaultPlan(seed: 3) { Down = true };
        var store = new FaultInjectingObjectStore(inner, plan);
        var options = SegmentWriterTests.Small() with { UploadAttempts = 3 };
        await using var writer = new SegmentWriter(store, new CountingNonceSource(), VolumeId, options);
        writer.Append(new byte[100]);
        var e = await Assert.ThrowsAsync<SegmentWriterFailedException>(() => writer.FlushAsync());
        Assert.Contains("after 3 attempt(s)", e.Message, StringComparison.Ordinal);
        Assert.Equal(2, writer.Metrics.Snapshot().UploadRetries);
        plan.Down = false;
        await writer.RetryFailedAsync();
        Assert.Equal(1, inner.Count);
    }

    [Fact]
    public async Task A_put_that_landed_before_its_answer_was_lost_is_recognised()
    {
        await using var inner = new MemoryObjectStore();
        var plan = new FaultPlan(seed: 5).FailNextPutsAfterLanding(1);
        var store = new FaultInjectingObjectStore(inner, plan);
        await using var writer = new SegmentWriter(store, new CountingNonceSource(), VolumeId, SegmentWriterTests.Small());
        writer.Append(TestBytes.Make(1, 5000));
        await writer.FlushAsync(); // the retry finds the key taken by its own bytes
        Assert.Equal(SegmentWriterState.Running, writer.State);
        Assert.Equal(1, writer.Metrics.Snapshot().UploadRetries);
        Assert.Equal(1, inner.Count);
    }

    [Fact]
    public async Task A_reused_nonce_is_caught_and_the_existing_segment_is_not_overwritten()
    {
        await using var store = new MemoryObjectStore();
        byte[] existing = TestBytes.Make(9, 300);
        await store.PutAsync("segments/01/0000000000000001", existing);
        var writer = new SegmentWriter(store, new CountingNonceSource(), VolumeId, SegmentWriterTests.Small());
        writer.Append(new byte[100]);
        var e = await Assert.ThrowsAsync<SegmentWriterFailedException>(() => writer.FlushAsync());
        Assert.Contains("the nonce was used twice", e.Message, StringComparison.Ordinal);
        Assert.Equal(existing, await store.GetBytesAsync("segments/01/0000000000000001"));
        await Assert.ThrowsAsync<SegmentWriterFailedException>(() => writer.CloseAsync());
        Assert.Throws<SegmentWriterFailedException>(() => writer.Append(new byte[1]));
        await Assert.ThrowsAsync<SegmentWriterFailedException>(async () => await writer.DisposeAsync());
    }

    [Fact]
    public async Task Appends_blocked_by_backpressure_fail_when_the_writer_fails()
    {
        await using var inner = new MemoryObjectStore();
        var plan = new FaultPlan(seed: 2) { Down = true };
        var store = new ProbeStore(new FaultInjectingObjectStore(inner, plan));
        var options = SegmentWriterTests.Small() with { MaxDirtyBytes = 512 << 10, UploadAttempts = 1 };
        store.Puts.Close();
        var writer = new SegmentWriter(store, new CountingNonceSource(), VolumeId, options);
        for (int i = 0; i < 8; i++)
        {
            writer.Append(new byte[64 << 10]);
        }
        Exception? error = null;
        var blocked = new Thread(() => error = Record.Exception(() => writer.Append(new byte[64 << 10])));
        blocked.Start();
        Eventually.True(() => writer.AppendsWaiting == 1, "the append waits for room");
        store.Puts.Open(); // the uploads now fail: the outage
        blocked.Join();
        Assert.IsType<SegmentWriterFailedException>(error);
        Assert.Equal(SegmentWriterState.Failed, writer.State);
        await Assert.ThrowsAsync<SegmentWriterFailedException>(async () => await writer.DisposeAsync());
    }
}
