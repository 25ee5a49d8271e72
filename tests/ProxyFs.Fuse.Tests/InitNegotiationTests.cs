using ProxyFs.Fuse.Dispatch;
using ProxyFs.Fuse.Protocol;
using ProxyFs.Fuse.Tests.Support;

namespace ProxyFs.Fuse.Tests;

public class InitNegotiationTests
{
    private const ulong Wanted = FuseKernel.FUSE_ASYNC_READ | FuseKernel.FUSE_BIG_WRITES | FuseKernel.FUSE_MAX_PAGES
        | FuseKernel.FUSE_PARALLEL_DIROPS | FuseKernel.FUSE_ASYNC_DIO | FuseKernel.FUSE_ATOMIC_O_TRUNC
        | FuseKernel.FUSE_DO_READDIRPLUS | FuseKernel.FUSE_READDIRPLUS_AUTO | FuseKernel.FUSE_HANDLE_KILLPRIV_V2
        | FuseKernel.FUSE_CACHE_SYMLINKS | FuseKernel.FUSE_EXPORT_SUPPORT;

    /// <summary>Everything a 6.18 kernel (7.44 or so) offers, low and high flags.</summary>
    private const ulong NewestOffer = 0xFFFF_FFFFUL | FuseKernel.FUSE_SECURITY_CTX | FuseKernel.FUSE_CREATE_SUPP_GROUP
        | FuseKernel.FUSE_HAS_EXPIRE_ONLY | FuseKernel.FUSE_DIRECT_IO_ALLOW_MMAP | FuseKernel.FUSE_PASSTHROUGH
        | FuseKernel.FUSE_NO_EXPORT_SUPPORT | FuseKernel.FUSE_HAS_RESEND | FuseKernel.FUSE_ALLOW_IDMAP | FuseKernel.FUSE_OVER_IO_URING;

    [Fact]
    public void Minor_31_gets_the_16_byte_form_and_no_flags2()
    {
        var harness = new DispatcherHarness();
        var reply = harness.Init(minor: 31, flags: 0xFFFF_FFFF);
        Assert.Equal(7u, reply.major);
        Assert.Equal(31u, reply.minor);
        Assert.Equal(Wanted, (ulong)reply.flags);
        Assert.Equal(0u, reply.flags2);
        Assert.Equal(256, reply.max_pages);
        Assert.Equal(1u << 20, reply.max_write);
        Assert.Equal(1u, reply.time_gran);
        var connection = harness.FileSystem!.Connection!;
        Assert.Equal(31u, connection.ProtocolMinor);
        Assert.Equal(31u, connection.KernelProtocolMinor);
        Assert.Equal(Wanted, connection.Capabilities);
        Assert.False(connection.WritebackCache);
    }

    [Fact]
    public void Minor_36_reads_the_64_byte_form_and_answers_with_init_ext()
    {
        var harness = new DispatcherHarness();
        var reply = harness.Init(minor: 36, flags: 0xFFFF_FFFF | FuseKernel.FUSE_SECURITY_CTX);
        Assert.Equal(36u, reply.minor);
        Assert.Equal(Wanted | FuseKernel.FUSE_INIT_EXT, (ulong)reply.flags);
        Assert.Equal(0u, reply.flags2); // SECURITY_CTX is not asked for
        Assert.Equal(FuseKernel.FUSE_SECURITY_CTX, harness.FileSystem!.Connection!.KernelCapabilities & FuseKernel.FUSE_SECURITY_CTX);
    }

    [Fact]
    public void Newest_kernel_is_answered_with_our_minor_and_only_what_we_want()
    {
        var harness = new DispatcherHarness();
        var reply = harness.Init(minor: 44, flags: NewestOffer);
        Assert.Equal(FuseKernel.FUSE_KERNEL_MINOR_VERSION, reply.minor);
        Assert.Equal(Wanted | FuseKernel.FUSE_INIT_EXT, (ulong)reply.flags);
        Assert.Equal(0u, reply.flags2);
        Assert.Equal(44u, harness.FileSystem!.Connection!.KernelProtocolMinor);
        Assert.Equal(FuseKernel.FUSE_KERNEL_MINOR_VERSION, harness.FileSystem.Connection.ProtocolMinor);
    }

    [Fact]
    public void Locks_stay_local_and_writeback_cache_needs_the_option()
    {
        var plain = new DispatcherHarness().Init(flags: ulong.MaxValue);
        Assert.Equal(0UL, plain.flags & (FuseKernel.FUSE_POSIX_LOCKS | FuseKernel.FUSE_FLOCK_LOCKS | FuseKernel.FUSE_WRITEBACK_CACHE));

        var harness = new DispatcherHarness(wanted: FuseInitParameters.DefaultWanted(writebackCache: true, disabled: FuseKernel.FUSE_CACHE_SYMLINKS));
        var withCache = harness.Init(flags: ulong.MaxValue);
        Assert.NotEqual(0UL, withCache.flags & FuseKernel.FUSE_WRITEBACK_CACHE);
        Assert.Equal(0UL, withCache.flags & FuseKernel.FUSE_CACHE_SYMLINKS);
        Assert.True(harness.FileSystem!.Connection!.WritebackCache);
    }

    [Fact]
    public void Without_max_pages_the_kernel_default_of_32_pages_applies()
    {
        var reply = new DispatcherHarness().Init(minor: 38, flags: 0xFFFF_FFFF & ~FuseKernel.FUSE_MAX_PAGES);
        Assert.Equal(0, reply.max_pages);
        Assert.Equal(32u * 4096, reply.max_write);
    }

    [Fact]
    public void Max_pages_follows_the_configured_limit()
    {
        var reply = new DispatcherHarness(maxPages: 64).Init();
        Assert.Equal(64, reply.max_pages);
        Assert.Equal(64u * 4096, reply.max_write);
    }

    [Fact]
    public void Max_readahead_is_passed_back_unchanged()
    {
        var harness = new DispatcherHarness();
        var reply = new Reply(harness.Send(RequestBuilder.Init(38, FuseKernel.FUSE_ASYNC_READ, maxReadahead: 512 * 1024))!);
        Assert.Equal(512u * 1024, reply.Read<fuse_init_out>().max_readahead);
    }

    [Fact]
    public void Protocol_older_than_7_31_is_refused_with_EPROTO()
    {
        var harness = new DispatcherHarness();
        var reply = new Reply(harness.Send(RequestBuilder.Init(30, 0xFFFF_FFFF))!);
        Assert.Equal(-71, reply.Error);
        Assert.Single(harness.InitFailures);
        Assert.Contains("7.30", harness.InitFailures[0], StringComparison.Ordinal);
        Assert.Null(harness.Dispatcher.Connection);
        Assert.Null(harness.FileSystem!.Connection);
    }

    [Fact]
    public void Requests_before_init_get_EIO()
    {
        var harness = new DispatcherHarness();
        var reply = new Reply(harness.Send(new RequestBuilder(fuse_opcode.FUSE_GETATTR).Struct(new fuse_getattr_in()).Build())!);
        Assert.Equal(-5, reply.Error);
    }

    [Fact]
    public void Initialized_callback_runs_after_the_reply_is_written()
    {
        var harness = new DispatcherHarness();
        int writesWhenCalled = -1;
        harness.Dispatcher.Initialized = _ => writesWhenCalled = harness.Transport.Writes;
        harness.Init();
        Assert.Equal(1, writesWhenCalled);
    }
}
