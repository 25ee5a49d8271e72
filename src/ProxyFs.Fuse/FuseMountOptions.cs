namespace ProxyFs.Fuse;

/// <summary>How a FUSE session mounts and serves.</summary>
public sealed class FuseMountOptions
{
    /// <summary>Default of <see cref="ReaderThreads"/>: twice the cores, at least 4, at most 16.</summary>
    public static int DefaultReaderThreads => Math.Clamp(Environment.ProcessorCount * 2, 4, 16);

    /// <summary>Default of <see cref="ReadAheadKb"/>.</summary>
    public const uint DefaultReadAheadKb = 1024;

    /// <summary>The source shown in /proc/mounts (fsname=). No commas.</summary>
    public string FsName { get; init; } = "proxyfs";

    /// <summary>The type shown in /proc/mounts is fuse.&lt;Subtype&gt; (subtype=); empty for plain "fuse". No commas.</summary>
    public string Subtype { get; init; } = "proxyfs";

    /// <summary>allow_other: users other than the mounter may access the mount.</summary>
    public bool AllowOther { get; init; }

    /// <summary>default_permissions: the kernel checks permissions from the attributes (costs a GETATTR per create).</summary>
    public bool DefaultPermissions { get; init; } = true;

    /// <summary>ro: a read-only mount.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>nosuid (the default, as with libfuse; fusermount3 forces it for non-root users).</summary>
    public bool NoSuid { get; init; } = true;

    /// <summary>nodev (the default, as with libfuse; fusermount3 forces it for non-root users).</summary>
    public bool NoDev { get; init; } = true;

    /// <summary>noexec.</summary>
    public bool NoExec { get; init; }

    /// <summary>noatime.</summary>
    public bool NoAtime { get; init; }

    /// <summary>Negotiate FUSE_WRITEBACK_CACHE: the kernel caches writes and sends them later in larger pieces.</summary>
    public bool WritebackCache { get; init; }

    /// <summary>Dedicated blocking reader threads, each with its own cloned /dev/fuse fd and buffer.</summary>
    public int ReaderThreads { get; init; } = DefaultReaderThreads;

    /// <summary>
    /// How long the one listening reader may be held by a request before a parked reader is woken to listen in its place
    /// (checked every this long, so a held request delays the next ones by one to two of it). One reader listening
    /// keeps a program that issues one request at a time on one hot thread; the kernel would otherwise hand each
    /// request to the reader that waited longest. Zero: every reader listens at once.
    /// </summary>
    public TimeSpan ReaderHandoff { get; init; } = DefaultReaderHandoff;

    /// <summary>Default of <see cref="ReaderHandoff"/>.</summary>
    public static TimeSpan DefaultReaderHandoff => TimeSpan.FromMilliseconds(1);

    /// <summary>Print every request and reply as named kernel structs to <see cref="Log"/> (at Debug level).</summary>
    public bool Debug { get; init; }

    /// <summary>Where the session logs; null writes warnings, errors and debug output to standard error.</summary>
    public Action<FuseLogLevel, string>? Log { get; init; }

    /// <summary>Where debug lines go when set (else to <see cref="Log"/> at Debug level).</summary>
    public Action<string>? DebugLog { get; init; }

    /// <summary>Set the mount's bdi read_ahead_kb to this after mounting (INIT can only lower read-ahead); 0 leaves it.</summary>
    public uint ReadAheadKb { get; init; } = DefaultReadAheadKb;

    /// <summary>Mount and unmount through fusermount3 even when running as root.</summary>
    public bool ForceFusermount { get; init; }

    /// <summary>
    /// More mount options, as with -o: flags (ro, rw, suid, nosuid, dev, nodev, exec, noexec, atime, noatime,
    /// nodiratime, relatime, strictatime, sync, async, dirsync) and kernel fuse options (e.g. max_read=N),
    /// passed on as given.
    /// </summary>
    public IReadOnlyList<string> ExtraOptions { get; init; } = [];

    /// <summary>How long Mount waits for the kernel's INIT to be answered.</summary>
    public TimeSpan InitTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Maximum outstanding background requests (reads-ahead, async writes) the kernel sends.</summary>
    public ushort MaxBackground { get; init; } = 64;

    /// <summary>Largest WRITE in pages; 0 means as many as /proc/sys/fs/fuse/max_pages_limit allows.</summary>
    public int MaxPages { get; init; }

    /// <summary>Capabilities (FuseKernel.FUSE_*) never to negotiate, on top of the ones this library never asks for.</summary>
    public ulong DisabledCapabilities { get; init; }

    /// <summary>The FUSE device; other paths only in tests.</summary>
    internal string DevicePath { get; init; } = "/dev/fuse";

    internal void Validate()
    {
        if (string.IsNullOrEmpty(FsName) || FsName.Contains(',', StringComparison.Ordinal))
        {
            throw new ArgumentException("FsName must be non-empty and contain no comma", nameof(FsName));
        }
        if (Subtype.Contains(',', StringComparison.Ordinal) || Subtype.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException("Subtype must contain no comma or slash", nameof(Subtype));
        }
        if (ReaderThreads < 1 || ReaderThreads > 256)
        {
            throw new ArgumentOutOfRangeException(nameof(ReaderThreads), ReaderThreads, "must be 1..256");
        }
        if (ReaderHandoff < TimeSpan.Zero || ReaderHandoff > TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(ReaderHandoff), ReaderHandoff, "must be 0..1 s");
        }
        if (MaxPages < 0 || MaxPages > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxPages), MaxPages, "must be 0..65535");
        }
        if (InitTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(InitTimeout), InitTimeout, "must be positive");
        }
        foreach (string option in ExtraOptions)
        {
            if (string.IsNullOrWhiteSpace(option) || option.Contains(',', StringComparison.Ordinal))
            {
                throw new ArgumentException($"extra mount option '{option}' must be one non-empty option without commas", nameof(ExtraOptions));
            }
        }
    }
}

/// <summary>Severity of a session log line.</summary>
public enum FuseLogLevel
{
    Debug,
    Information,
    Warning,
    Error,
}
