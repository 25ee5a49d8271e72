using ProxyFs.Fuse.Protocol;
using ProxyFs.Fuse.Tests.Support;
using ProxyFs.Fuse.Transport;

namespace ProxyFs.Fuse.Tests;

/// <summary>The session's reader threads, notifier and lifecycle over an in-memory connection.</summary>
public class SessionTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static FuseMountOptions Options(int readers, List<string>? log = null) => new()
    {
        ReaderThreads = readers,
        MaxPages = 32,
        Log = (level, line) =>
        {
            if (log is not null)
            {
                lock (log)
                {
                    log.Add($"{level}: {line}");
                }
            }
        },
    };

    [Fact]
    public async Task Readers_serve_requests_on_cloned_channels_and_the_end_of_the_connection_completes_the_session()
    {
        var transport = new InMemoryTransport();
        var fs = new TestFileSystem();
        using var session = FuseSession.Start(transport, fs, Options(readers: 3));
        Assert.Equal(2, transport.Clones);
        Assert.Equal(3, session.ReaderCount);
        Assert.Equal((32 * Environment.SystemPageSize) + 4096, session.BufferSize);

        transport.Send(RequestBuilder.Init(38, ulong.MaxValue));
        var connection = session.WaitForInit(Timeout);
        Assert.Equal(32u * (uint)Environment.SystemPageSize, connection.MaxWrite);
        Assert.Same(connection, session.Connection);
        Assert.NotNull(transport.TakeReply(Timeout));

        for (ulong i = 0; i < 30; i++)
        {
            transport.Send(new RequestBuilder(fuse_opcode.FUSE_GETATTR, 1, unique: 1000 + i).Struct(new fuse_getattr_in()).Build());
        }
        var uniques = new HashSet<ulong>();
        for (int i = 0; i < 30; i++)
        {
            var reply = transport.TakeReply(Timeout) ?? throw new TimeoutException("no reply");
            uniques.Add(new Reply(reply).Header.unique);
        }
        Assert.Equal(30, uniques.Count);
        Assert.Equal(30, session.GetStatistics().RequestCount(fuse_opcode.FUSE_GETATTR));

        transport.End();
        await session.Completion.WaitAsync(Timeout);
        Assert.Equal(1, fs.DestroyCalls);
    }

    [Fact]
    public void Notifications_wait_for_init_and_go_out_from_the_notifier_thread()
    {
        var transport = new InMemoryTransport();
        var fs = new TestFileSystem();
        using var session = FuseSession.Start(transport, fs, Options(readers: 1));
        session.Notifier.InvalidateEntry(1, "hello.txt"u8);
        Assert.Null(transport.TakeReply(TimeSpan.FromMilliseconds(200))); // nothing before INIT

        transport.Send(RequestBuilder.Init(38, ulong.MaxValue));
        session.WaitForInit(Timeout);
        var messages = new[] { transport.TakeReply(Timeout)!, transport.TakeReply(Timeout)! };
        var notification = new Reply(messages.Single(m => BitConverter.ToUInt64(m, 8) == 0));
        Assert.Equal((int)fuse_notify_code.FUSE_NOTIFY_INVAL_ENTRY, notification.Error);
        Assert.Equal("hello.txt\0", System.Text.Encoding.ASCII.GetString(notification.Body[16..]));
        Assert.Same(session.Notifier, fs.Notifier);
        SpinWait.SpinUntil(() => session.GetStatistics().NotificationsSent == 1, Timeout);
        Assert.Equal(1, session.GetStatistics().NotificationsSent);
        Assert.Throws<ArgumentException>(() => session.Notifier.InvalidateEntry(1, "a/b"u8));
    }

    [Fact]
    public void A_refused_init_fails_the_mount_wait_and_faults_the_session()
    {
        var transport = new InMemoryTransport();
        using var session = FuseSession.Start(transport, new TestFileSystem(), Options(readers: 2));
        transport.Send(RequestBuilder.Init(30, 0xFFFF_FFFF));
        var error = Assert.Throws<FuseMountException>(() => session.WaitForInit(Timeout));
        Assert.Equal(FuseMountError.InitFailed, error.Reason);
        Assert.Contains("7.30", error.Message, StringComparison.Ordinal);
        Assert.True(session.Completion.IsFaulted);
    }

    [Theory]
    [InlineData(5, "read from /dev/fuse failed")]
    [InlineData(22, "must hold max_write + 4096")]
    public async Task A_fatal_read_error_faults_the_session(int errno, string expected)
    {
        var log = new List<string>();
        using var session = FuseSession.Start(new FailingTransport(errno), new TestFileSystem(), Options(readers: 1, log));
        var error = await Assert.ThrowsAsync<IOException>(() => session.Completion.WaitAsync(Timeout));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        lock (log)
        {
            Assert.Contains(log, l => l.StartsWith("Error:", StringComparison.Ordinal) && l.Contains(expected, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Transient_read_errors_are_retried()
    {
        var transport = new FlakyTransport(new InMemoryTransport());
        var fs = new TestFileSystem();
        using var session = FuseSession.Start(transport, fs, Options(readers: 1));
        transport.Inner.Send(RequestBuilder.Init(38, ulong.MaxValue));
        session.WaitForInit(Timeout);
        Assert.True(transport.Failures >= 3);
        Assert.False(session.Completion.IsCompleted);
    }

    [Fact]
    public void Dispose_of_an_unmounted_session_stops_the_readers_and_is_idempotent()
    {
        var transport = new InMemoryTransport();
        var fs = new TestFileSystem();
        var session = FuseSession.Start(transport, fs, Options(readers: 4));
        transport.Send(RequestBuilder.Init(38, ulong.MaxValue));
        session.WaitForInit(Timeout);
        Parallel.For(0, 4, _ => session.Dispose());
        session.Dispose();
        Assert.True(session.Completion.IsCompletedSuccessfully);
        Assert.Equal(1, fs.DestroyCalls);
    }

    /// <summary>Every read fails with one errno.</summary>
    private sealed class FailingTransport(int errno) : IFuseTransport
    {
        public int Read(Span<byte> buffer) => -errno;

        public int Write(ReadOnlySpan<byte> message) => message.Length;

        public IFuseTransport? Clone() => null;

        public void Dispose()
        {
        }
    }

    /// <summary>The first reads fail with EINTR, EAGAIN and ENOENT, as /dev/fuse may.</summary>
    private sealed class FlakyTransport(InMemoryTransport inner) : IFuseTransport
    {
        private int _failures;

        public InMemoryTransport Inner => inner;

        public int Failures => Volatile.Read(ref _failures);

        public int Read(Span<byte> buffer)
        {
            int n = Interlocked.Increment(ref _failures);
            return n switch
            {
                1 => -4,
                2 => -11,
                3 => -2,
                _ => ReadInner(buffer),
            };
        }

        private int ReadInner(Span<byte> buffer)
        {
            Interlocked.Decrement(ref _failures);
            return inner.Read(buffer);
        }

        public int Write(ReadOnlySpan<byte> message) => inner.Write(message);

        public IFuseTransport? Clone() => null;

        public void Dispose() => inner.Dispose();
    }
}
