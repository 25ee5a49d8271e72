using ProxyFs.Core.ReplayLog;
using ProxyFs.Testing;
using Xunit.Abstractions;
using static ProxyFs.Core.Tests.ReplayLog.ReplayLogTestSupport;

namespace ProxyFs.Core.Tests.ReplayLog;

/// <summary>Concurrent appenders and the group commit that serves them.</summary>
public sealed class ReplayLogGroupCommitTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Concurrent_appenders_lose_nothing_duplicate_nothing_and_keep_each_appenders_order()
    {
        const int appenders = 8;
        const int each = 250;
        using TempDirectory dir = TempDirectory.Create();
        var acknowledged = new List<(ReplayLogPosition Position, int Writer, int Index)>[appenders];
        using (var log = VolumeReplayLog.Open(dir.Path, VolumeA, Small))
        {
            await Task.WhenAll(Enumerable.Range(0, appenders).Select(w => Task.Run(async () =>
            {
                acknowledged[w] = [];
                for (int i = 0; i < each; i++)
                {
                    ReplayLogPosition p = log.Append(1, Payload(w, i, 1));
                    await log.CommitAsync(p);
                    acknowledged[w].Add((p, w, i));
                }
            }))).WaitAsync(Timeout);
            ReplayLogStatistics s = log.Statistics;
            output.WriteLine($"{s.Appends} appends, {s.CommitWaits} commits waited, {s.Flushes} flushes");
            Assert.Equal(appenders * each, s.Appends);
        }

        using var reopened = VolumeReplayLog.Open(dir.Path, VolumeA, Small with { ExpectExisting = true });
        List<ReplayRecord> records = ReadAll(reopened).Records;
        // Sequence numbers are dense and in log order, whatever thread appended.
        Assert.Equal(Enumerable.Range(1, appenders * each).Select(i => (ulong)i), records.Select(r => r.Sequence));
        var bySequence = records.ToDictionary(r => r.Sequence);
        foreach ((ReplayLogPosition position, int writer, int index) in acknowledged.SelectMany(a => a))
        {
            ReplayRecord r = bySequence[position.Sequence];
            Assert.Equal((writer, (long)index), WriterAndIndex(r));
            Assert.True(IsGenuine(r));
        }
        for (int w = 0; w < appenders; w++)
        {
            List<long> indexes = records.Where(r => WriterAndIndex(r).Writer == w).Select(r => WriterAndIndex(r).Index).ToList();
            Assert.Equal(Enumerable.Range(0, each).Select(i => (long)i), indexes);
        }
    }

    [Fact]
    public async Task Committers_that_arrive_during_a_flush_share_the_next_one()
    {
        var flush = new GatedFlush();
        var commit = new GroupCommit(flush.RunAsync, () => flush.Tail, durable: 0);

        flush.Tail = 100;
        Task first = commit.WaitAsync(100);
        await flush.WaitForStartAsync(1);
        // While flush 1 runs, ten committers arrive with records it does not cover, and one with a record it does.
        flush.Tail = 1_000;
        Task[] later = Enumerable.Range(1, 10).Select(i => commit.WaitAsync(100 + (i * 90))).ToArray();
        Task covered = commit.WaitAsync(60);
        Assert.False(first.IsCompleted);
        Assert.All(later, t => Assert.False(t.IsCompleted));

        flush.Release(1);
        await Task.WhenAll(first, covered).WaitAsync(Timeout);
        await flush.WaitForStartAsync(2);
        Assert.All(later, t => Assert.False(t.IsCompleted));
        flush.Release(2);
        await Task.WhenAll(later).WaitAsync(Timeout);

        Assert.Equal(2, commit.Flushes);
        Assert.Equal(1_000, commit.Durable);
        // Nothing new: no flush.
        Assert.True(commit.WaitAsync(1_000).IsCompletedSuccessfully);
        Assert.Equal(2, commit.Flushes);
    }

    [Fact]
    public async Task A_failed_flush_fails_every_waiter_and_every_later_wait_but_not_what_was_durable()
    {
        var flush = new GatedFlush();
        var commit = new GroupCommit(flush.RunAsync, () => flush.Tail, durable: 0);
        flush.Tail = 100;
        Task durable = commit.WaitAsync(100);
        await flush.WaitForStartAsync(1);
        flush.Release(1);
        await durable.WaitAsync(Timeout);

        flush.Tail = 200;
        Task running = commit.WaitAsync(200);
        await flush.WaitForStartAsync(2);
        flush.Tail = 300;
        Task next = commit.WaitAsync(300);
        var failure = new IOException("disk on fire");
        flush.Fail(2, failure);

        Assert.Same(failure, await Assert.ThrowsAsync<IOException>(() => running.WaitAsync(Timeout)));
        Assert.Same(failure, await Assert.ThrowsAsync<IOException>(() => next.WaitAsync(Timeout)));
        Assert.Same(failure, commit.Fault);
        await Assert.ThrowsAsync<IOException>(() => commit.WaitAsync(150));
        await Assert.ThrowsAsync<IOException>(() => commit.ForceAsync());
        // A record that was durable before the failure stays committed.
        Assert.True(commit.WaitAsync(100).IsCompletedSuccessfully);
        Assert.Equal(2, commit.Flushes);
    }

    /// <summary>
    /// A flush that reports its start and ends when the test says (flushes numbered from 1), durable up to the tail it
    /// saw when it started.
    /// </summary>
    private sealed class GatedFlush
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<int, TaskCompletionSource> _starts = [];
        private readonly Dictionary<int, TaskCompletionSource> _ends = [];
        private int _started;
        private long _tail;

        public long Tail
        {
            get => Volatile.Read(ref _tail);
            set => Volatile.Write(ref _tail, value);
        }

        public async Task<long> RunAsync()
        {
            long tail = Tail;
            Task end;
            lock (_lock)
            {
                int flush = ++_started;
                Gate(_starts, flush).SetResult();
                end = Gate(_ends, flush).Task;
            }
            await end;
            return tail;
        }

        public Task WaitForStartAsync(int flush)
        {
            lock (_lock)
            {
                return Gate(_starts, flush).Task.WaitAsync(Timeout);
            }
        }

        public void Release(int flush)
        {
            lock (_lock)
            {
                Gate(_ends, flush).SetResult();
            }
        }

        public void Fail(int flush, Exception e)
        {
            lock (_lock)
            {
                Gate(_ends, flush).SetException(e);
            }
        }

        private static TaskCompletionSource Gate(Dictionary<int, TaskCompletionSource> gates, int flush)
        {
            if (!gates.TryGetValue(flush, out TaskCompletionSource? gate))
            {
                gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                gates[flush] = gate;
            }
            return gate;
        }
    }
}
