using System.Globalization;
using ProxyFs.Fuse.Dispatch;
using ProxyFs.Fuse.Mounting;
using ProxyFs.Fuse.Native;
using ProxyFs.Fuse.Protocol;
using ProxyFs.Fuse.Transport;

namespace ProxyFs.Fuse;

/// <summary>
/// A mounted FUSE filesystem being served: the mount, the reader threads (each with its own cloned /dev/fuse fd and
/// pinned buffer), the notifier thread, and the statistics. <see cref="Mount"/> returns once the kernel's INIT is
/// answered; <see cref="Completion"/> completes when the kernel ends the session (unmounted) and faults on a fatal
/// error; <see cref="Dispose"/> unmounts if still mounted and stops the threads. Thread-safe; Unmount and Dispose are
/// idempotent, so a signal handler may call them.
/// </summary>
public sealed class FuseSession : IDisposable
{
    private static readonly TimeSpan ReaderStopTimeout = TimeSpan.FromSeconds(5);

    private readonly object _gate = new();
    private readonly FuseMountOptions _options;
    private readonly FuseLogger _log;
    private readonly IFuseTransport _transport;
    private readonly FuseDispatcher _dispatcher;
    private readonly FuseNotifier _notifier;
    private readonly List<FuseWorker> _workers = [];
    private readonly List<Thread> _threads = [];
    private readonly List<IFuseTransport> _clones = [];
    private FuseReaderRelay? _relay;
    private readonly TaskCompletionSource<FuseConnectionInfo> _initialized = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _mountPoint;
    private MountMethod _method;
    private MountInfoEntry? _mountEntry;
    private bool _mounted;
    private bool _disposed;
    private int _runningReaders;

    private FuseSession(IFuseTransport transport, IFuseOperations operations, FuseMountOptions options, int bufferSize, FuseInitParameters init)
    {
        _options = options;
        _log = new FuseLogger(options.Log, options.Debug, options.DebugLog);
        _transport = transport;
        _notifier = new FuseNotifier(transport, _log);
        _dispatcher = new FuseDispatcher(operations, _notifier, init, _log)
        {
            Initialized = OnInitialized,
            InitFailed = reason => Fail(new FuseMountException(FuseMountError.InitFailed, "FUSE INIT failed: " + reason)),
        };
        BufferSize = bufferSize;
    }

    /// <summary>The canonical mount point, or null for a session not mounted by this class (tests).</summary>
    public string? MountPoint => _mountPoint;

    /// <summary>What INIT negotiated. Available once <see cref="Mount"/> has returned.</summary>
    public FuseConnectionInfo Connection => _dispatcher.Connection ?? throw new InvalidOperationException("INIT has not been answered yet");

    /// <summary>Invalidates kernel caches from outside the request path (see <see cref="IFuseNotifier"/>).</summary>
    public IFuseNotifier Notifier => _notifier;

    /// <summary>Completes when the kernel ends the session (unmount) and the readers have stopped; faults on a fatal error.</summary>
    public Task Completion => _completion.Task;

    /// <summary>True from a successful mount until Unmount/Dispose or the kernel ends the session.</summary>
    public bool IsMounted
    {
        get
        {
            lock (_gate)
            {
                return _mounted;
            }
        }
    }

    /// <summary>The bdi read_ahead_kb set after mounting, or null when it was left alone or could not be set.</summary>
    public uint? ReadAheadKb { get; private set; }

    /// <summary>Size of each reader's pinned buffer: max_write + 4096.</summary>
    public int BufferSize { get; }

    /// <summary>Reader threads serving the session.</summary>
    public int ReaderCount => _workers.Count;

    /// <summary>
    /// Mounts <paramref name="operations"/> at <paramref name="mountPoint"/>, starts the readers, and returns once INIT
    /// is answered. Throws <see cref="FuseMountException"/> with a reason and a one-line message on failure.
    /// </summary>
    public static FuseSession Mount(string mountPoint, IFuseOperations operations, FuseMountOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(operations);
        options ??= new FuseMountOptions();
        options.Validate();
        string path = FuseMounter.CheckMountPoint(mountPoint);
        var method = Libc.IsRoot && !options.ForceFusermount ? MountMethod.Syscall : MountMethod.Fusermount;
        var (bufferSize, init) = Plan(options);
        int fd = method == MountMethod.Syscall
            ? FuseMounter.MountWithSyscall(path, options)
            : FuseMounter.MountWithFusermount(path, options);
        var transport = new FuseDeviceTransport(fd, options.DevicePath);
        FuseSession session;
        try
        {
            session = new FuseSession(transport, operations, options, bufferSize, init);
        }
        catch
        {
            // Nothing serves the mount: take it away before closing the fd, so no stale mount is left behind.
            FuseMounter.TryUnmount(path, method, Libc.MNT_DETACH);
            transport.Dispose();
            throw;
        }
        lock (session._gate)
        {
            session._mountPoint = path;
            session._method = method;
            session._mounted = true;
            session._mountEntry = MountInfo.Find(path);
        }
        try
        {
            session.StartReaders();
            session.WaitForInit(options.InitTimeout);
        }
        catch
        {
            session.Dispose();
            throw;
        }
        session.RaiseReadAhead();
        return session;
    }

    /// <summary>A session over any transport, not mounted (tests drive it with raw requests). Call WaitForInit after sending INIT.</summary>
    internal static FuseSession Start(IFuseTransport transport, IFuseOperations operations, FuseMountOptions options)
    {
        options.Validate();
        var (bufferSize, init) = Plan(options);
        var session = new FuseSession(transport, operations, options, bufferSize, init);
        session.StartReaders();
        return session;
    }

    /// <summary>Buffer size and INIT parameters from the options and /proc/sys/fs/fuse/max_pages_limit.</summary>
    internal static (int BufferSize, FuseInitParameters Init) Plan(FuseMountOptions options)
    {
        int limit = ReadMaxPagesLimit();
        int pages = options.MaxPages > 0 ? Math.Min(options.MaxPages, limit) : limit;
        int pageSize = Environment.SystemPageSize;
        int bufferSize = Math.Max(FuseKernel.FUSE_MIN_READ_BUFFER, (pages * pageSize) + 4096);
        var init = new FuseInitParameters
        {
            Wanted = FuseInitParameters.DefaultWanted(options.WritebackCache, options.DisabledCapabilities),
            MaxPages = pages,
            PageSize = pageSize,
            MaxBackground = options.MaxBackground,
        };
        return (bufferSize, init);
    }

    private static int ReadMaxPagesLimit()
    {
        const string Path = "/proc/sys/fs/fuse/max_pages_limit";
        try
        {
            if (File.Exists(Path) && int.TryParse(File.ReadAllText(Path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int limit) && limit > 0)
            {
                return Math.Min(limit, ushort.MaxValue);
            }
        }
        catch (IOException)
        {
            // unreadable: the kernel's default limit applies
        }
        return FuseKernel.FUSE_DEFAULT_MAX_PAGES_LIMIT;
    }

    /// <summary>Waits for INIT to be answered; throws InitFailed on timeout or when the session failed first.</summary>
    internal FuseConnectionInfo WaitForInit(TimeSpan timeout)
    {
        var done = Task.WhenAny(_initialized.Task, _completion.Task);
        if (!done.Wait(timeout))
        {
            throw new FuseMountException(FuseMountError.InitFailed, $"the kernel's FUSE INIT was not answered within {timeout.TotalSeconds:0.#} s");
        }
        if (_initialized.Task.IsCompletedSuccessfully)
        {
            return _initialized.Task.Result;
        }
        var error = _completion.Task.Exception?.InnerException;
        if (error is FuseMountException mountError)
        {
            throw mountError;
        }
        throw new FuseMountException(FuseMountError.InitFailed, "the FUSE session ended before INIT: " + (error?.Message ?? "the kernel closed the connection"), error);
    }

    /// <summary>A snapshot of the counters of all readers and of the notifier.</summary>
    public FuseStatistics GetStatistics()
    {
        var requests = new Dictionary<fuse_opcode, long>();
        long errors = 0, read = 0, written = 0, interrupts = 0, interrupted = 0, failures = 0;
        lock (_gate)
        {
            foreach (var worker in _workers)
            {
                var c = worker.Counters;
                for (int op = 0; op < c.Requests.Length; op++)
                {
                    long n = Volatile.Read(ref c.Requests[op]);
                    if (n != 0)
                    {
                        requests[(fuse_opcode)op] = requests.GetValueOrDefault((fuse_opcode)op) + n;
                    }
                }
                errors += Volatile.Read(ref c.Errors);
                read += Volatile.Read(ref c.BytesRead);
                written += Volatile.Read(ref c.BytesWritten);
                interrupts += Volatile.Read(ref c.Interrupts);
                interrupted += Volatile.Read(ref c.RepliesToInterrupted);
                failures += Volatile.Read(ref c.ReplyWriteFailures);
            }
        }
        return new FuseStatistics(requests, errors, read, written, interrupts, interrupted, failures,
            _notifier.Sent, _notifier.NotFound, _notifier.Failed, _relay?.Handoffs ?? 0);
    }

    private void StartReaders()
    {
        lock (_gate)
        {
            for (int i = 0; i < _options.ReaderThreads; i++)
            {
                IFuseTransport channel = _transport;
                if (i > 0)
                {
                    IFuseTransport? clone = null;
                    try
                    {
                        clone = _transport.Clone();
                    }
                    catch (IOException ex)
                    {
                        _log.Warning($"reader {i} shares the session channel: {ex.Message}");
                    }
                    if (clone is not null)
                    {
                        _clones.Add(clone);
                        channel = clone;
                    }
                }
                var worker = new FuseWorker(i, channel, BufferSize);
                var thread = new Thread(() => ReaderLoop(worker, _relay!)) { IsBackground = true, Name = "fuse-reader-" + i.ToString(CultureInfo.InvariantCulture) };
                _workers.Add(worker);
                _threads.Add(thread);
            }
            _runningReaders = _threads.Count;
            _relay = new FuseReaderRelay(_workers, _options.ReaderHandoff);
            foreach (var thread in _threads)
            {
                thread.Start();
            }
            _relay.Start("fuse-relay");
        }
    }

    private void ReaderLoop(FuseWorker worker, FuseReaderRelay relay)
    {
        try
        {
            while (relay.Listen(worker))
            {
                int n;
                do
                {
                    n = worker.Transport.Read(worker.Buffer);
                }
                // interrupted, or the request vanished (interrupted) before we read it
                while (n is -Libc.EINTR or -Libc.EAGAIN or -Libc.ENOENT);
                if (n >= 0)
                {
                    relay.Received(worker);
                    _dispatcher.Dispatch(worker, n);
                    relay.Served(worker);
                    continue;
                }
                int errno = -n;
                // ENODEV: the connection is gone; ECONNABORTED: it was aborted (the last reference of a lazily
                // detached mount went away while readers were blocked, or fusectl abort). Either way the session ended.
                if (errno is Libc.ENODEV or Libc.ECONNABORTED)
                {
                    OnKernelEnded();
                    return;
                }
                if (errno == Libc.EBADF && IsDisposed())
                {
                    return;
                }
                string reason = errno == Libc.EINVAL
                    ? $"read from /dev/fuse refused the {worker.Buffer.Length}-byte buffer (EINVAL): it must hold max_write + 4096"
                    : $"read from /dev/fuse failed: {Libc.StrError(errno)}";
                Fail(new IOException($"FUSE reader {worker.Id}: {reason}"));
                return;
            }
        }
        catch (Exception ex)
        {
            // The dispatcher turns handler failures into EIO replies; reaching here is a bug in this library.
            Fail(new IOException($"FUSE reader {worker.Id} stopped: {ex.Message}", ex));
        }
        finally
        {
            // One reader ending means the session ends (the kernel ended it, or it failed): the parked ones go too.
            relay.Stop();
            if (Interlocked.Decrement(ref _runningReaders) == 0)
            {
                _notifier.Stop(TimeSpan.FromSeconds(2));
                _completion.TrySetResult();
            }
        }
    }

    private void OnInitialized(FuseConnectionInfo connection)
    {
        _notifier.Start();
        _initialized.TrySetResult(connection);
    }

    /// <summary>The kernel closed the connection (unmounted or aborted): the filesystem is told once.</summary>
    private void OnKernelEnded()
    {
        _dispatcher.DestroyOnce();
        lock (_gate)
        {
            if (_mounted && _mountPoint is not null && !StillOurs())
            {
                _mounted = false;
                _log.Info($"FUSE session at {_mountPoint} ended by the kernel");
            }
        }
    }

    private void Fail(Exception error)
    {
        _log.Error(error.Message);
        _completion.TrySetException(error);
    }

    private bool IsDisposed()
    {
        lock (_gate)
        {
            return _disposed;
        }
    }

    /// <summary>True when the mount point still shows this session's mount (same device).</summary>
    private bool StillOurs()
    {
        if (_mountPoint is null)
        {
            return false;
        }
        var now = MountInfo.Find(_mountPoint);
        return now is not null && (_mountEntry is null ? now.IsFuse : now.Device == _mountEntry.Device);
    }

    private void RaiseReadAhead()
    {
        if (_options.ReadAheadKb == 0 || _mountEntry is null)
        {
            return;
        }
        string path = $"/sys/class/bdi/{_mountEntry.Device}/read_ahead_kb";
        try
        {
            File.WriteAllText(path, _options.ReadAheadKb.ToString(CultureInfo.InvariantCulture));
            ReadAheadKb = uint.Parse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            _log.Warning($"cannot set {path} to {_options.ReadAheadKb}: {ex.Message}");
        }
    }

    /// <summary>
    /// Unmounts: umount2 (root) or fusermount3 -u; when busy, detaches lazily (MNT_DETACH, -z) so the mount goes away
    /// once its last open file is closed. The readers serve until the kernel ends the session (see
    /// <see cref="Completion"/>). Does nothing when not mounted.
    /// </summary>
    public void Unmount() => Unmount(UnmountMode.LazyWhenBusy);

    /// <summary>
    /// Unmounts one way only: <paramref name="lazy"/> detaches now (MNT_DETACH, fusermount3 -uz); otherwise a plain
    /// unmount that throws <see cref="FuseMountException"/> (Busy) while files are open. Does nothing when not mounted.
    /// </summary>
    public void Unmount(bool lazy) => Unmount(lazy ? UnmountMode.Lazy : UnmountMode.Strict);

    private enum UnmountMode
    {
        Strict,
        Lazy,
        LazyWhenBusy,
        /// <summary>Dispose: as LazyWhenBusy, but as root abort the connection too (MNT_FORCE) so the readers stop.</summary>
        Dispose,
    }

    private void Unmount(UnmountMode mode)
    {
        lock (_gate)
        {
            if (!_mounted || _mountPoint is null)
            {
                return;
            }
            if (!StillOurs())
            {
                _mounted = false;
                return;
            }
            string? error = FuseMounter.TryUnmount(_mountPoint, _method, mode == UnmountMode.Lazy ? Libc.MNT_DETACH : 0);
            if (error is not null && StillOurs())
            {
                if (mode is UnmountMode.Strict or UnmountMode.Lazy)
                {
                    bool busy = error.Contains("busy", StringComparison.OrdinalIgnoreCase);
                    throw new FuseMountException(busy ? FuseMountError.Busy : FuseMountError.Failed, error);
                }
                int flags = mode == UnmountMode.Dispose && _method == MountMethod.Syscall ? Libc.MNT_FORCE | Libc.MNT_DETACH : Libc.MNT_DETACH;
                _log.Warning($"{error}; detaching lazily");
                string? lazyError = FuseMounter.TryUnmount(_mountPoint, _method, flags);
                if (lazyError is not null && StillOurs())
                {
                    throw new FuseMountException(FuseMountError.Failed, lazyError);
                }
            }
            _mounted = false;
        }
    }

    /// <summary>Unmounts if still mounted, stops the readers and the notifier, and closes the channels. Idempotent.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
        }
        try
        {
            Unmount(UnmountMode.Dispose);
        }
        catch (FuseMountException ex)
        {
            _log.Error($"unmount on dispose failed: {ex.Message}");
        }
        if (_mountPoint is null)
        {
            // Not a mount of ours (tests): closing the transport is what ends the readers.
            _transport.Dispose();
        }
        bool stopped = JoinReaders(ReaderStopTimeout);
        if (!stopped && _mountEntry is not null)
        {
            AbortConnection(_mountEntry.ConnectionId);
            stopped = JoinReaders(ReaderStopTimeout);
        }
        _notifier.Stop(TimeSpan.FromSeconds(2));
        _relay?.Dispose();
        if (stopped)
        {
            foreach (var clone in _clones)
            {
                clone.Dispose();
            }
            _transport.Dispose();
            _completion.TrySetResult();
        }
        else
        {
            // A reader blocked in read(2) holds its fd: closing it could hand the number to an unrelated open.
            _log.Warning($"FUSE readers of {_mountPoint ?? "the session"} did not stop within {2 * ReaderStopTimeout.TotalSeconds} s; their channels stay open until the connection ends");
        }
    }

    private bool JoinReaders(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        foreach (var thread in _threads)
        {
            if (thread == Thread.CurrentThread)
            {
                continue;
            }
            var left = deadline - DateTime.UtcNow;
            if (!thread.Join(left > TimeSpan.Zero ? left : TimeSpan.Zero))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Aborts the connection through fusectl, when mounted: every blocked reader then gets ENODEV.</summary>
    private void AbortConnection(uint connectionId)
    {
        string abort = $"/sys/fs/fuse/connections/{connectionId.ToString(CultureInfo.InvariantCulture)}/abort";
        try
        {
            if (File.Exists(abort))
            {
                File.WriteAllText(abort, "1");
                _log.Warning($"aborted FUSE connection {connectionId}");
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _log.Warning($"cannot abort FUSE connection {connectionId}: {ex.Message}");
        }
    }
}
