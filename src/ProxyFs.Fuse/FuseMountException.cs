namespace ProxyFs.Fuse;

/// <summary>Why a mount or unmount failed.</summary>
public enum FuseMountError
{
    /// <summary>The mount point does not exist.</summary>
    MountPointMissing,
    /// <summary>The mount point is not a directory.</summary>
    NotADirectory,
    /// <summary>Something is already mounted there.</summary>
    Busy,
    /// <summary>A FUSE mount whose daemon is gone is still there (stat gives ENOTCONN).</summary>
    Stale,
    /// <summary>/dev/fuse cannot be opened or the kernel has no fuse filesystem.</summary>
    DeviceUnavailable,
    /// <summary>Not allowed to mount (not root, fusermount3 refused, or no access to the mount point).</summary>
    PermissionDenied,
    /// <summary>fusermount3 is missing or failed for another reason.</summary>
    FusermountFailed,
    /// <summary>The kernel's INIT was not answered in time, or INIT failed.</summary>
    InitFailed,
    /// <summary>mount(2) or umount2(2) failed for another reason.</summary>
    Failed,
}

/// <summary>A mount or unmount failure with a reason and a one-line message that says what to do.</summary>
public sealed class FuseMountException : Exception
{
    public FuseMountException(FuseMountError reason, string message, Exception? inner = null, int errno = 0)
        : base(message, inner)
    {
        Reason = reason;
        Errno = errno != 0 ? errno : DefaultErrno(reason);
    }

    public FuseMountError Reason { get; }

    /// <summary>The errno that best says what failed (for exit statuses and sd_notify ERRNO=).</summary>
    public int Errno { get; }

    private static int DefaultErrno(FuseMountError reason) => reason switch
    {
        FuseMountError.MountPointMissing => 2,  // ENOENT
        FuseMountError.NotADirectory => 20,     // ENOTDIR
        FuseMountError.Busy => 16,              // EBUSY
        FuseMountError.Stale => 107,            // ENOTCONN
        FuseMountError.DeviceUnavailable => 19, // ENODEV
        FuseMountError.PermissionDenied => 1,   // EPERM
        FuseMountError.InitFailed => 71,        // EPROTO
        _ => 5,                                 // EIO
    };
}
