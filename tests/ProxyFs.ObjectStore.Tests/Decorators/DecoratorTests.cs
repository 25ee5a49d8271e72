using System.Text;
using ProxyFs.ObjectStore.Decorators;
using ProxyFs.ObjectStore.Memory;
using ProxyFs.ObjectStore.Tests.Conformance;

namespace ProxyFs.ObjectStore.Tests.Decorators;

public sealed class DecoratorTests
{
    private static readonly RetryPolicy FastRetry = new() { MaxAttempts = 4, BaseDelay = TimeSpan.FromMilliseconds(1), ThrottledBaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5) };

    private static (IObjectStore Store, FaultPlan Plan, ObjectStoreMetrics Metrics, MemoryObjectStore Backend) Stack(RetryPolicy? retry = null)
    {
        var backend = new MemoryObjectStore("test");
        var plan = new FaultPlan(seed: 7);
        var metrics = new ObjectStoreMetrics("test");
        var store = ObjectStores.Decorate(backend, new ObjectStoreOpenOptions { Faults = plan, Metrics = metrics, Retry = retry ?? FastRetry });
        return (store, plan, metrics, backend);
    }

    [Fact]
    public async Task Transient_failures_are_retried_and_every_attempt_is_counted()
    {
        var (store, plan, metrics, _) = Stack();
        plan.FailNext(ObjectStoreOperation.Put, 2).FailNext(ObjectStoreOperation.Get, 1, ObjectStoreErrorKind.Throttled);
        await store.PutAsync("k", new byte[] { 1, 2, 3 });
        Assert.Equal(new byte[] { 1, 2, 3 }, await store.GetBytesAsync("k"));
        var put = metrics.Get(ObjectStoreOperation.Put);
        Assert.Equal(3, put.Requests);
        Assert.Equal(2, put.Errors);
        Assert.Equal(2, put.ErrorsByKind[ObjectStoreErrorKind.Transient]);
        Assert.Equal(3, put.Bytes);
        var get = metrics.Get(ObjectStoreOperation.Get);
        Assert.Equal(2, get.Requests);
        Assert.Equal(1, get.ErrorsByKind[ObjectStoreErrorKind.Throttled]);
        Assert.Equal(3, get.Bytes);
        Assert.Equal(3, plan.InjectedFaults);
        Assert.Equal(3, Assert.IsType<RetryingObjectStore>(store).Retries); // two put retries and one get retry
    }

    [Theory]
    [InlineData(ObjectStoreErrorKind.Permanent)]
    [InlineData(ObjectStoreErrorKind.AuthFailed)]
    [InlineData(ObjectStoreErrorKind.NotFound)]
    [InlineData(ObjectStoreErrorKind.PreconditionFailed)]
    public async Task Other_failures_are_not_retried(ObjectStoreErrorKind kind)
    {
        var (store, plan, metrics, _) = Stack();
        plan.FailNext(ObjectStoreOperation.Head, 1, kind);
        var e = await Assert.ThrowsAsync<ObjectStoreException>(() => store.HeadAsync("k"));
        Assert.Equal(kind, e.Kind);
        Assert.Equal(1, metrics.Get(ObjectStoreOperation.Head).Requests);
    }

    [Fact]
    public async Task After_the_last_attempt_the_error_says_how_many_were_made()
    {
        var (store, plan, _, _) = Stack();
        plan.FailNext(ObjectStoreOperation.List, 10);
        var e = await Assert.ThrowsAsync<ObjectStoreException>(() => store.ListAsync(""));
        Assert.Equal(ObjectStoreErrorKind.Transient, e.Kind);
        Assert.Contains("gave up after 4 attempts", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_create_only_put_that_landed_before_its_failure_succeeds()
    {
        var (store, plan, _, backend) = Stack();
        plan.FailNextPutsAfterLanding(1);
        var put = await store.PutAsync("lease", Encoding.ASCII.GetBytes("me"), PutCondition.IfNoneMatch);
        Assert.Equal((await backend.HeadAsync("lease")).ETag, put.ETag);

        plan.FailNextPutsAfterLanding(1);
        var next = await store.PutAsync("lease", Encoding.ASCII.GetBytes("me again"), PutCondition.IfMatch(put.ETag));
        Assert.Equal("me again", Encoding.ASCII.GetString(await backend.GetBytesAsync("lease")));
        Assert.Equal((await backend.HeadAsync("lease")).ETag, next.ETag);
    }

    [Fact]
    public async Task A_compare_and_swap_that_may_have_landed_and_was_replaced_is_Indeterminate()
    {
        var backend = new MemoryObjectStore();
        var v1 = await backend.PutAsync("root", Encoding.ASCII.GetBytes("v1"));
        var store = new RetryingObjectStore(new LandsThenLosesTheRace(backend), FastRetry);
        var e = await Assert.ThrowsAsync<ObjectStoreException>(() => store.PutAsync("root", Encoding.ASCII.GetBytes("v2"), PutCondition.IfMatch(v1.ETag)));
        Assert.Equal(ObjectStoreErrorKind.Indeterminate, e.Kind);
        Assert.Equal("v3 by another writer", Encoding.ASCII.GetString(await backend.GetBytesAsync("root")));
    }

    [Fact]
    public async Task A_server_error_answer_to_a_conditional_put_is_a_plain_loss_after_the_retry()
    {
        // radosgw answers 500 to a conditional PUT that lost a race; the retry then gets 412.
        var (store, plan, _, backend) = Stack();
        await backend.PutAsync("k", Encoding.ASCII.GetBytes("theirs"));
        plan.FailNext(ObjectStoreOperation.Put, 1);
        var e = await Assert.ThrowsAsync<ObjectStoreException>(() => store.PutAsync("k", Encoding.ASCII.GetBytes("mine"), PutCondition.IfNoneMatch));
        Assert.Equal(ObjectStoreErrorKind.PreconditionFailed, e.Kind);
    }

    [Fact]
    public async Task A_put_from_a_stream_that_cannot_seek_is_not_retried()
    {
        var (store, plan, metrics, _) = Stack();
        plan.FailNext(ObjectStoreOperation.Put, 1);
        var e = await Assert.ThrowsAsync<ObjectStoreException>(() => store.PutAsync("k", ObjectBody.FromStream(new NonSeekableStream(new byte[10]))));
        Assert.Equal(ObjectStoreErrorKind.Transient, e.Kind);
        Assert.Equal(1, metrics.Get(ObjectStoreOperation.Put).Requests);
    }

    [Fact]
    public async Task A_body_that_breaks_is_resumed_from_where_it_stopped()
    {
        var (store, plan, metrics, _) = Stack();
        byte[] data = new byte[300_000];
        new Random(3).NextBytes(data);
        await store.PutAsync("k", data);
        plan.ShortReadRate = 1;
        await using var stream = await store.GetAsync("k");
        plan.ShortReadRate = 0;
        byte[] read = new byte[data.Length];
        Assert.Equal(data.Length, await stream.ReadFullyAsync(read));
        Assert.Equal(data, read);
        Assert.Equal(2, metrics.Get(ObjectStoreOperation.Get).Requests);
    }

    [Fact]
    public async Task Without_retries_a_short_body_is_a_transient_error_not_a_short_read()
    {
        var (store, plan, _, _) = Stack(RetryPolicy.None);
        await store.PutAsync("k", new byte[10_000]);
        plan.ShortReadRate = 1;
        var e = await Assert.ThrowsAsync<ObjectStoreException>(() => store.GetBytesAsync("k"));
        Assert.Equal(ObjectStoreErrorKind.Transient, e.Kind);
        Assert.Contains("short read", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_torn_read_changes_some_bytes_and_nothing_else()
    {
        var (store, plan, _, _) = Stack(RetryPolicy.None);
        byte[] data = new byte[100_000];
        new Random(4).NextBytes(data);
        await store.PutAsync("k", data);
        plan.TornReadRate = 1;
        byte[] torn = await store.GetBytesAsync("k");
        Assert.Equal(data.Length, torn.Length);
        int changed = data.Zip(torn).Count(p => p.First != p.Second);
        Assert.InRange(changed, 1, 512);
    }

    [Fact]
    public async Task An_outage_fails_every_request_until_it_ends()
    {
        var (store, plan, _, _) = Stack(RetryPolicy.None);
        plan.Down = true;
        var e = await Assert.ThrowsAsync<ObjectStoreException>(() => store.PutAsync("k", new byte[1]));
        Assert.Contains("outage", e.Message, StringComparison.Ordinal);
        Assert.Equal(ObjectStoreErrorKind.Transient, (await Assert.ThrowsAsync<ObjectStoreException>(() => store.ListAsync(""))).Kind);
        plan.Down = false;
        plan.AddOutage(DateTimeOffset.UtcNow.AddHours(-2), TimeSpan.FromHours(1));
        await store.PutAsync("k", new byte[1]);
        plan.AddOutage(DateTimeOffset.UtcNow.AddMinutes(-1), TimeSpan.FromHours(1));
        await Assert.ThrowsAsync<ObjectStoreException>(() => store.HeadAsync("k"));
    }

    [Fact]
    public async Task Metrics_print_one_line_per_operation()
    {
        var (store, _, metrics, _) = Stack();
        await store.PutAsync("k", new byte[2048]);
        await store.GetBytesAsync("k");
        await store.DeleteAsync("k");
        string table = metrics.ToString();
        Assert.Contains("requests", table, StringComparison.Ordinal);
        foreach (string op in new[] { "head", "get", "put", "delete", "list" })
        {
            Assert.Contains(Environment.NewLine + op, table, StringComparison.Ordinal);
        }
        var put = metrics.Get(ObjectStoreOperation.Put);
        Assert.Equal(1, put.LatencyBuckets.Sum());
        Assert.True(put.LatencyQuantileMs(0.99) >= put.LatencyQuantileMs(0.5));
    }

    /// <summary>A put that lands, is replaced by another writer's, and then reports a dropped connection.</summary>
    private sealed class LandsThenLosesTheRace(MemoryObjectStore inner) : IObjectStore
    {
        private int _puts;

        public string Location => inner.Location;

        public Task<ObjectInfo> HeadAsync(string key, CancellationToken cancellationToken = default) => inner.HeadAsync(key, cancellationToken);

        public Task<ObjectReadStream> GetAsync(string key, ByteRange range = default, CancellationToken cancellationToken = default) => inner.GetAsync(key, range, cancellationToken);

        public async Task<PutResult> PutAsync(string key, ObjectBody body, PutCondition condition = default, CancellationToken cancellationToken = default)
        {
            var result = await inner.PutAsync(key, body, condition, cancellationToken);
            if (Interlocked.Increment(ref _puts) == 1)
            {
                await inner.PutAsync(key, Encoding.ASCII.GetBytes("v3 by another writer"), PutCondition.IfMatch(result.ETag), cancellationToken);
                throw new ObjectStoreException(ObjectStoreErrorKind.Transient, ObjectStoreOperation.Put, Location, key, "connection reset") { OutcomeUnknown = true };
            }
            return result;
        }

        public Task DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);

        public Task<ObjectListing> ListAsync(string prefix, string? startAfter = null, int maxKeys = 1000, CancellationToken cancellationToken = default) =>
            inner.ListAsync(prefix, startAfter, maxKeys, cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

public sealed class ObjectKeysTests
{
    [Fact]
    public void The_comparer_orders_by_utf8_bytes()
    {
        string[] keys = ["\uFF21", "\U0001F600", "a", "a/b", "a-b", "é", "\uE000", "Z"];
        var byBytes = keys.OrderBy(k => Encoding.UTF8.GetBytes(k), Comparer<byte[]>.Create((x, y) => x.AsSpan().SequenceCompareTo(y))).ToArray();
        Assert.Equal(byBytes, keys.Order(ObjectKeys.Comparer).ToArray());
    }

    [Fact]
    public void Byte_ranges_resolve_against_the_object_size()
    {
        Assert.Equal((0L, 100L), ByteRange.All.Resolve(100));
        Assert.Equal((90L, 10L), ByteRange.From(90).Resolve(100));
        Assert.Equal((90L, 10L), ByteRange.Of(90, 50).Resolve(100));
        Assert.Equal((100L, 0L), ByteRange.Of(150, 5).Resolve(100));
        Assert.Equal((70L, 30L), ByteRange.Suffix(30).Resolve(100));
        Assert.Equal((0L, 100L), ByteRange.Suffix(300).Resolve(100));
        Assert.Equal("bytes=-30", ByteRange.Suffix(30).ToHttpRange());
        Assert.Equal("bytes=5-14", ByteRange.Of(5, 10).ToHttpRange());
        Assert.Null(ByteRange.All.ToHttpRange());
        Assert.Throws<ArgumentOutOfRangeException>(() => ByteRange.Of(0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ByteRange.Suffix(0));
    }
}
