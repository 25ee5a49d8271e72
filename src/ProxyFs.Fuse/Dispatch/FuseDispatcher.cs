using System.Runtime.InteropServices;
using ProxyFs.Fuse.Native;
using ProxyFs.Fuse.Protocol;

namespace ProxyFs.Fuse.Dispatch;

/// <summary>What INIT offers to the kernel, decided by the session from its options and the machine.</summary>
internal sealed class FuseInitParameters
{
    /// <summary>Capabilities asked for; the reply carries those the kernel offered too.</summary>
    public ulong Wanted { get; init; }

    /// <summary>max_pages when FUSE_MAX_PAGES is agreed (already capped by max_pages_limit and the buffers).</summary>
    public int MaxPages { get; init; } = FuseKernel.FUSE_DEFAULT_MAX_PAGES_LIMIT;

    public int PageSize { get; init; } = Environment.SystemPageSize;

    public ushort MaxBackground { get; init; } = 64;

    /// <summary>The capabilities proxyfs asks for (DESIGN §2.1): never POSIX_LOCKS or FLOCK_LOCKS, so locks stay local.</summary>
    public static ulong DefaultWanted(bool writebackCache, ulong disabled)
    {
        ulong wanted = FuseKernel.FUSE_ASYNC_READ | FuseKernel.FUSE_BIG_WRITES | FuseKernel.FUSE_MAX_PAGES
            | FuseKernel.FUSE_PARALLEL_DIROPS | FuseKernel.FUSE_ASYNC_DIO | FuseKernel.FUSE_ATOMIC_O_TRUNC
            | FuseKernel.FUSE_DO_READDIRPLUS | FuseKernel.FUSE_READDIRPLUS_AUTO | FuseKernel.FUSE_HANDLE_KILLPRIV_V2
            | FuseKernel.FUSE_CACHE_SYMLINKS | FuseKernel.FUSE_EXPORT_SUPPORT | FuseKernel.FUSE_INIT_EXT;
        if (writebackCache)
        {
            wanted |= FuseKernel.FUSE_WRITEBACK_CACHE;
        }
        return wanted & ~disabled & ~(FuseKernel.FUSE_POSIX_LOCKS | FuseKernel.FUSE_FLOCK_LOCKS);
    }
}

/// <summary>
/// Parses requests, calls the <see cref="IFuseOperations"/> handler of their opcode through a table checked at
/// start-up, and writes the reply on the worker's channel with one write. Stateless per request apart from the
/// negotiated connection; shared by all reader threads. The opcode groups live in the partial files beside this one.
/// </summary>
internal sealed partial class FuseDispatcher
{
    /// <summary>Handler result meaning: send nothing (FORGET, BATCH_FORGET, INTERRUPT).</summary>
    internal const int NoReply = -1;

    internal static readonly int InHeaderSize = Marshal.SizeOf<fuse_in_header>();
    internal static readonly int OutHeaderSize = Marshal.SizeOf<fuse_out_header>();

    private readonly IFuseOperations _ops;
    private readonly IFuseNotifier _notifier;
    private readonly FuseInitParameters _init;
    private readonly FuseLogger _log;
    private readonly FuseOpcodeEntry?[] _table;
    private volatile FuseConnectionInfo? _connection;
    private int _destroyed;

    public FuseDispatcher(IFuseOperations ops, IFuseNotifier notifier, FuseInitParameters init, FuseLogger log)
    {
        _ops = ops;
        _notifier = notifier;
        _init = init;
        _log = log;
        _table = BuildTable();
    }

    /// <summary>The negotiated connection, once INIT is answered.</summary>
    public FuseConnectionInfo? Connection => _connection;

    /// <summary>Called on the reader thread after the INIT reply reached the kernel.</summary>
    public Action<FuseConnectionInfo>? Initialized { get; set; }

    /// <summary>Called when INIT could not be accepted (protocol too old, handler failure): the session cannot go on.</summary>
    public Action<string>? InitFailed { get; set; }

    internal FuseOpcodeEntry? Entry(uint opcode) => opcode < _table.Length ? _table[opcode] : null;

    /// <summary>
    /// Serves the request of <paramref name="length"/> bytes at the start of the worker's buffer and writes its reply.
    /// Never throws for a bad request or a failing handler: those get an error reply and a log line.
    /// </summary>
    public void Dispatch(FuseWorker worker, int length)
    {
        byte[] buffer = worker.Buffer;
        var counters = worker.Counters;
        if (length < InHeaderSize)
        {
            _log.Error($"FUSE request of {length} bytes is shorter than fuse_in_header; dropped");
            return;
        }
        fuse_in_header header = MemoryMarshal.Read<fuse_in_header>(buffer);
        counters.CountRequest(header.opcode);
        int replyStart = (length + 7) & ~7;
        if (header.len != (uint)length || replyStart + OutHeaderSize > buffer.Length)
        {
            _log.Error($"FUSE request {header.unique} ({FuseOpcodeNames.Name(header.opcode)}) says {header.len} bytes, read {length}; answering EIO");
            SendReply(worker, header, null, Libc.EIO, replyStart, 0);
            return;
        }
        // Extensions (security context, supplementary groups) sit at the end; none is negotiated, skip them if any.
        int payloadEnd = length - (header.total_extlen * 8);
        if (payloadEnd < InHeaderSize)
        {
            payloadEnd = InHeaderSize;
        }
        var entry = Entry(header.opcode);
        var request = new FuseRequest(worker, header,
            buffer.AsSpan(InHeaderSize, payloadEnd - InHeaderSize),
            buffer.AsSpan(replyStart + OutHeaderSize));
        if (_log.DebugEnabled)
        {
            _log.Debug(FuseDebugFormatter.FormatRequest(entry, header, request.Payload));
        }

        int result;
        if (entry is null)
        {
            result = Libc.ENOSYS;
        }
        else if (_connection is null && entry.Opcode != fuse_opcode.FUSE_INIT)
        {
            _log.Error($"FUSE request {header.unique} ({entry.Name}) before INIT; answering EIO");
            result = Libc.EIO;
        }
        else
        {
            try
            {
                result = entry.Handler(ref request);
            }
            catch (Exception ex)
            {
                result = _ops.ErrnoOf(ex);
                if (result <= 0 || result == Libc.EIO)
                {
                    _log.Error($"FUSE {entry.Name} (unique {header.unique}, node {header.nodeid}) failed; answering EIO: {ex}");
                    result = Libc.EIO;
                }
                else if (_log.DebugEnabled)
                {
                    _log.Debug($"FUSE {entry.Name} (unique {header.unique}) refused with errno {result}: {ex.Message}");
                }
            }
        }
        if (result == NoReply)
        {
            return;
        }
        if (result < 0)
        {
            result = -result; // tolerate handlers that return -errno
        }
        SendReply(worker, header, entry, result, replyStart, result == 0 ? request.ReplyLength : 0);
        if (entry?.Opcode == fuse_opcode.FUSE_INIT && result == 0 && _connection is { } connection)
        {
            Initialized?.Invoke(connection);
        }
    }

    private void SendReply(FuseWorker worker, in fuse_in_header request, FuseOpcodeEntry? entry, int errno, int replyStart, int bodyLength)
    {
        Span<byte> reply = worker.Buffer.AsSpan(replyStart, OutHeaderSize + bodyLength);
        var outHeader = new fuse_out_header { len = (uint)reply.Length, error = -errno, unique = request.unique };
        MemoryMarshal.Write(reply, in outHeader);
        if (errno != 0)
        {
            worker.Counters.Errors++;
        }
        if (_log.DebugEnabled)
        {
            _log.Debug(FuseDebugFormatter.FormatReply(entry, request, outHeader, reply[OutHeaderSize..]));
        }
        int written = worker.Transport.Write(reply);
        if (written == reply.Length)
        {
            return;
        }
        if (written == -Libc.ENOENT)
        {
            // The request was interrupted and the kernel gave up on it: nothing waits for this reply.
            worker.Counters.RepliesToInterrupted++;
            return;
        }
        worker.Counters.ReplyWriteFailures++;
        if (written == -Libc.ENODEV)
        {
            return; // the connection ended; the reader sees ENODEV next
        }
        _log.Warning(written < 0
            ? $"FUSE reply to {request.unique} ({FuseOpcodeNames.Name(request.opcode)}) failed: {Libc.StrError(-written)}"
            : $"FUSE reply to {request.unique} ({FuseOpcodeNames.Name(request.opcode)}) written short: {written} of {reply.Length} bytes");
    }

    /// <summary>Calls <see cref="IFuseOperations.Destroy"/> the first time only (DESTROY, or the session ended).</summary>
    public void DestroyOnce()
    {
        if (Interlocked.Exchange(ref _destroyed, 1) != 0)
        {
            return;
        }
        try
        {
            _ops.Destroy();
        }
        catch (Exception ex)
        {
            _log.Error($"FUSE filesystem Destroy failed: {ex}");
        }
    }
}
