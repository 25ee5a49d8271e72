using System.Collections.Concurrent;
using ProxyFs.Fuse.Protocol;
using ProxyFs.Fuse.Tests.Support;

namespace ProxyFs.Fuse.Tests;

/// <summary>
/// Which reader serves what: a program issuing one request at a time stays on one reader thread, and a request held in
/// its handler hands listening to a parked reader so the others still get answers.
/// </summary>
public class ReaderRelayTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan Handoff = FuseMountOptions.DefaultReaderHandoff;

    private static FuseMountOptions Options(int readers, TimeSpan handoff) => new()
    {
        ReaderThreads = readers,
        MaxPages = 32,
        ReaderHandoff = handoff,
        Log = (_, _) => { },
    };

    [Fact]
    public async Task A_serial_stream_of_requests_stays_on_one_reader()
    {
        var transport = new InMemoryTransport();
        var fs = new ThreadRecordingFileSystem();
        using var session = FuseSession.Start(transport, fs, Options(readers: 4, Handoff));
        transport.Send(RequestBuilder.Init(38, ulong.MaxValue));
        session.WaitForInit(Timeout);
        Assert.NotNull(transport.TakeReply(Timeout));

        for (ulong i = 0; i < 300; i++)
        {
            transport.Send(new RequestBuilder(fuse_opcode.FUSE_GETATTR, 1, unique: 100 + i).Struct(new fuse_getattr_in()).Build());
            var reply = new Reply(transport.TakeReply(Timeout) ?? throw new TimeoutException("no reply"));
            Assert.Equal(100 + i, reply.Header.unique);
            Assert.Equal(0, reply.Error);
        }
        // One thread served them all, unless a handler was held past a tick (a loaded machine descheduling the reader):
        // each such hand-off may move the stream to another reader once.
        var byThread = fs.Threads.GroupBy(t => t).Select(g => g.Count()).OrderDescending().ToArray();
        Assert.Equal(300, byThread.Sum());
        Assert.True(byThread.Length <= 1 + session.GetStatistics().ReaderHandoffs,
            $"served by {byThread.Length} readers ({string.Join(", ", byThread)}) with {session.GetStatistics().ReaderHandoffs} hand-offs");

        transport.End();
        await session.Completion.WaitAsync(Timeout);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    public async Task A_held_request_does_not_hold_back_the_others(int handoffMs)
    {
        var transport = new InMemoryTransport();
        using var release = new ManualResetEventSlim();
        var fs = new ThreadRecordingFileSystem { HeldNode = 7, Gate = release };
        using var session = FuseSession.Start(transport, fs, Options(readers: 3, TimeSpan.FromMilliseconds(handoffMs)));
        transport.Send(RequestBuilder.Init(38, ulong.MaxValue));
        session.WaitForInit(Timeout);
        Assert.NotNull(transport.TakeReply(Timeout));

        transport.Send(new RequestBuilder(fuse_opcode.FUSE_GETATTR, 7, unique: 70).Struct(new fuse_getattr_in()).Build());
        Assert.True(fs.Held.Wait(Timeout), "the held request never reached its handler");
        for (ulong i = 0; i < 5; i++)
        {
            transport.Send(new RequestBuilder(fuse_opcode.FUSE_GETATTR, 1, unique: 200 + i).Struct(new fuse_getattr_in()).Build());
            var reply = new Reply(transport.TakeReply(Timeout) ?? throw new TimeoutException("a request waited behind the held one"));
            Assert.Equal(200 + i, reply.Header.unique);
        }
        long handoffs = session.GetStatistics().ReaderHandoffs;
        Assert.True(handoffMs == 0 ? handoffs == 0 : handoffs >= 1, $"{handoffs} hand-offs");

        release.Set();
        var held = new Reply(transport.TakeReply(Timeout) ?? throw new TimeoutException("the held request was not answered"));
        Assert.Equal(70UL, held.Header.unique);
        Assert.Equal(0, held.Error);

        // Parked readers end with the session.
        transport.End();
        await session.Completion.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Every_reader_held_still_serves_once_one_is_released()
    {
        var transport = new InMemoryTransport();
        using var release = new ManualResetEventSlim();
        var fs = new ThreadRecordingFileSystem { HeldNode = 7, Gate = release };
        using var session = FuseSession.Start(transport, fs, Options(readers: 2, Handoff));
        transport.Send(RequestBuilder.Init(38, ulong.MaxValue));
        session.WaitForInit(Timeout);
        Assert.NotNull(transport.TakeReply(Timeout));

        transport.Send(new RequestBuilder(fuse_opcode.FUSE_GETATTR, 7, unique: 1).Struct(new fuse_getattr_in()).Build());
        transport.Send(new RequestBuilder(fuse_opcode.FUSE_GETATTR, 7, unique: 2).Struct(new fuse_getattr_in()).Build());
        transport.Send(new RequestBuilder(fuse_opcode.FUSE_GETATTR, 1, unique: 3).Struct(new fuse_getattr_in()).Build());
        Assert.True(SpinWait.SpinUntil(() => fs.HeldCount == 2, Timeout), "both readers should be held");
        Assert.Null(transport.TakeReply(TimeSpan.FromMilliseconds(100))); // nobody is left to read request 3

        release.Set();
        var uniques = new HashSet<ulong>();
        for (int i = 0; i < 3; i++)
        {
            uniques.Add(new Reply(transport.TakeReply(Timeout) ?? throw new TimeoutException("no reply")).Header.unique);
        }
        Assert.Equal([1UL, 2UL, 3UL], uniques.Order());

        transport.End();
        await session.Completion.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Readers_finishing_together_never_leave_the_connection_without_a_listener()
    {
        // Handlers that sometimes outlive a tick make the relay hand listening over, so several readers finish their
        // requests and ask to listen at the same moment; one of them must always end up reading the next request.
        var transport = new InMemoryTransport();
        var fs = new ThreadRecordingFileSystem { SlowEvery = 3, SlowFor = TimeSpan.FromMilliseconds(2) };
        using var session = FuseSession.Start(transport, fs, Options(readers: 4, Handoff));
        transport.Send(RequestBuilder.Init(38, ulong.MaxValue));
        session.WaitForInit(Timeout);
        Assert.NotNull(transport.TakeReply(Timeout));

        ulong unique = 1000;
        for (int round = 0; round < 500; round++)
        {
            const int Burst = 6;
            for (int i = 0; i < Burst; i++)
            {
                transport.Send(new RequestBuilder(fuse_opcode.FUSE_GETATTR, 1, unique: unique++).Struct(new fuse_getattr_in()).Build());
            }
            for (int i = 0; i < Burst; i++)
            {
                var reply = transport.TakeReply(Timeout)
                    ?? throw new TimeoutException($"round {round}: {Burst - i} of {Burst} requests unanswered with every reader idle");
                Assert.Equal(0, new Reply(reply).Error);
            }
        }
        Assert.True(session.GetStatistics().ReaderHandoffs >= 1);

        transport.End();
        await session.Completion.WaitAsync(Timeout);
    }

    [Fact]
    public async Task A_hung_lookup_on_a_mount_does_not_hold_back_other_requests()
    {
        using var stuck = new ManualResetEventSlim();
        var fs = new TestFileSystem { StuckLookup = stuck };
        using var mount = TestMount.Start(fs, new FuseMountOptions { ReaderThreads = 2, ReaderHandoff = Handoff });
        var hung = Task.Run(() => File.Exists(mount["stuck"]));
        try
        {
            Assert.True(SpinWait.SpinUntil(() => mount.Session.GetStatistics().RequestCount(fuse_opcode.FUSE_LOOKUP) >= 1, Timeout));
            Assert.False(hung.IsCompleted);
            Assert.Equal(TestFileSystem.HelloContent, mount.Io(() => File.ReadAllBytes(mount["hello.txt"]), TimeSpan.FromSeconds(5)));
            Assert.True(mount.Session.GetStatistics().ReaderHandoffs >= 1);
        }
        finally
        {
            stuck.Set();
        }
        Assert.False(await hung.WaitAsync(Timeout));
    }

    /// <summary>GETATTR answers for any node, records the serving thread, and holds node <see cref="HeldNode"/> until released.</summary>
    private sealed class ThreadRecordingFileSystem : DelegatingFileSystem
    {
        private int _held;
        private int _calls;

        public ConcurrentQueue<int> Threads { get; } = new();

        public ulong HeldNode { get; init; }

        public ManualResetEventSlim? Gate { get; init; }

        public ManualResetEventSlim Held { get; } = new();

        public int HeldCount => Volatile.Read(ref _held);

        /// <summary>Every this many GETATTRs (0: none) sleeps <see cref="SlowFor"/> before answering.</summary>
        public int SlowEvery { get; init; }

        public TimeSpan SlowFor { get; init; }

        public override int GetAttr(in FuseContext context, ulong nodeId, ulong? handle, ref fuse_attr_out attr)
        {
            if (nodeId == HeldNode && Gate is { } release)
            {
                Interlocked.Increment(ref _held);
                Held.Set();
                release.Wait(TimeSpan.FromMinutes(1));
            }
            else
            {
                Threads.Enqueue(Environment.CurrentManagedThreadId);
                if (SlowEvery > 0 && Interlocked.Increment(ref _calls) % SlowEvery == 0)
                {
                    Thread.Sleep(SlowFor);
                }
            }
            attr.attr.ino = nodeId;
            attr.attr.mode = 0x41ED;
            return 0;
        }
    }
}
