using System.Runtime.CompilerServices;
using ProxyFs.Fuse.Native;
using ProxyFs.Fuse.Protocol;

namespace ProxyFs.Fuse.Dispatch;

// INIT, DESTROY, INTERRUPT, STATFS, SYNCFS: the opcodes about the connection rather than a node.
internal sealed partial class FuseDispatcher
{
    /// <summary>fuse_init_in is 16 bytes before 7.36 (no flags2), 64 bytes from then on.</summary>
    private const int InitInCompatSize = 16;

    private int Init(ref FuseRequest r)
    {
        int size = Math.Min(r.Payload.Length, Unsafe.SizeOf<fuse_init_in>());
        if (size < InitInCompatSize || !r.TryReadPrefix(size, out fuse_init_in init))
        {
            return FailInit($"INIT of {r.Payload.Length} bytes is shorter than fuse_init_in", Libc.EINVAL);
        }
        if (init.major > FuseKernel.FUSE_KERNEL_VERSION)
        {
            // A newer major: answer with ours only, the kernel then sends INIT again with a version we speak.
            ref var older = ref r.AppendReply<fuse_init_out>();
            older.major = FuseKernel.FUSE_KERNEL_VERSION;
            older.minor = FuseKernel.FUSE_KERNEL_MINOR_VERSION;
            return 0;
        }
        if (init.major < FuseKernel.FUSE_KERNEL_VERSION || init.minor < FuseKernel.FUSE_MIN_SUPPORTED_MINOR)
        {
            return FailInit($"the kernel speaks FUSE protocol {init.major}.{init.minor}, older than the 7.{FuseKernel.FUSE_MIN_SUPPORTED_MINOR} this library needs", Libc.EPROTO);
        }

        ulong offered = init.flags;
        bool extended = init.minor >= 36 && (init.flags & FuseKernel.FUSE_INIT_EXT) != 0;
        if (extended)
        {
            offered |= (ulong)init.flags2 << 32;
        }
        ulong agreed = offered & _init.Wanted;
        if (!extended)
        {
            agreed &= 0xFFFF_FFFFUL & ~FuseKernel.FUSE_INIT_EXT;
        }

        int pages = (agreed & FuseKernel.FUSE_MAX_PAGES) != 0
            ? Math.Clamp(_init.MaxPages, 1, ushort.MaxValue)
            : Math.Min(_init.MaxPages, FuseKernel.FUSE_DEFAULT_MAX_PAGES_PER_REQ);
        // The buffer must hold a whole WRITE: header, fuse_write_in and max_write bytes of data.
        int bufferLimit = r.Worker.Buffer.Length - 4096;
        int maxWrite = Math.Max(4096, Math.Min(pages * _init.PageSize, bufferLimit - (bufferLimit % _init.PageSize)));

        ref var reply = ref r.AppendReply<fuse_init_out>();
        reply.major = FuseKernel.FUSE_KERNEL_VERSION;
        reply.minor = Math.Min(init.minor, FuseKernel.FUSE_KERNEL_MINOR_VERSION);
        reply.max_readahead = init.max_readahead;
        reply.flags = (uint)agreed;
        reply.flags2 = extended ? (uint)(agreed >> 32) : 0;
        reply.max_background = _init.MaxBackground;
        reply.congestion_threshold = (ushort)Math.Max(1, _init.MaxBackground * 3 / 4);
        reply.max_write = (uint)maxWrite;
        reply.time_gran = 1;
        reply.max_pages = (agreed & FuseKernel.FUSE_MAX_PAGES) != 0 ? (ushort)pages : (ushort)0;

        var connection = new FuseConnectionInfo
        {
            ProtocolMajor = reply.major,
            ProtocolMinor = reply.minor,
            KernelProtocolMinor = init.minor,
            KernelCapabilities = offered,
            Capabilities = agreed,
            MaxWrite = reply.max_write,
            MaxReadahead = reply.max_readahead,
            MaxPages = (ushort)pages,
            MaxBackground = reply.max_background,
            WritebackCache = (agreed & FuseKernel.FUSE_WRITEBACK_CACHE) != 0,
        };
        try
        {
            _ops.Initialize(connection, _notifier);
        }
        catch (Exception ex)
        {
            r.ReplyLength = 0;
            return FailInit($"the filesystem's Initialize failed: {ex}", Libc.EIO);
        }
        _connection = connection;
        _log.Info($"FUSE connection: protocol {connection.ProtocolMajor}.{connection.ProtocolMinor} (kernel 7.{init.minor}), max_write {connection.MaxWrite}, max_pages {reply.max_pages}, flags {FuseKernel.InitFlagsToString(agreed)}");
        return 0;
    }

    private int FailInit(string reason, int errno)
    {
        _log.Error("FUSE INIT refused: " + reason);
        InitFailed?.Invoke(reason);
        return errno;
    }

    private int Destroy(ref FuseRequest r)
    {
        DestroyOnce();
        return 0;
    }

    /// <summary>
    /// INTERRUPT is ignored, which the protocol allows: the interrupted request completes normally and its reply is
    /// then either used or refused with ENOENT. Never answered (answering would need EAGAIN bookkeeping).
    /// </summary>
    private int Interrupt(ref FuseRequest r)
    {
        r.Worker.Counters.Interrupts++;
        return NoReply;
    }

    /// <summary>Answer to a FUSE_NOTIFY_RETRIEVE; never asked for, so dropped.</summary>
    private int NotifyReply(ref FuseRequest r) => NoReply;

    private int StatFs(ref FuseRequest r)
    {
        ref var reply = ref r.AppendReply<fuse_statfs_out>();
        return _ops.StatFs(r.Context, r.NodeId, ref reply.st);
    }

    private int SyncFs(ref FuseRequest r) => _ops.SyncFs(r.Context, r.NodeId);
}
