namespace ProxyFs.Fuse.Protocol;

// The constants of include/uapi/linux/fuse.h with the kernel's names.

/// <summary>enum fuse_opcode.</summary>
public enum fuse_opcode : uint
{
    FUSE_LOOKUP = 1,
    FUSE_FORGET = 2,
    FUSE_GETATTR = 3,
    FUSE_SETATTR = 4,
    FUSE_READLINK = 5,
    FUSE_SYMLINK = 6,
    FUSE_MKNOD = 8,
    FUSE_MKDIR = 9,
    FUSE_UNLINK = 10,
    FUSE_RMDIR = 11,
    FUSE_RENAME = 12,
    FUSE_LINK = 13,
    FUSE_OPEN = 14,
    FUSE_READ = 15,
    FUSE_WRITE = 16,
    FUSE_STATFS = 17,
    FUSE_RELEASE = 18,
    FUSE_FSYNC = 20,
    FUSE_SETXATTR = 21,
    FUSE_GETXATTR = 22,
    FUSE_LISTXATTR = 23,
    FUSE_REMOVEXATTR = 24,
    FUSE_FLUSH = 25,
    FUSE_INIT = 26,
    FUSE_OPENDIR = 27,
    FUSE_READDIR = 28,
    FUSE_RELEASEDIR = 29,
    FUSE_FSYNCDIR = 30,
    FUSE_GETLK = 31,
    FUSE_SETLK = 32,
    FUSE_SETLKW = 33,
    FUSE_ACCESS = 34,
    FUSE_CREATE = 35,
    FUSE_INTERRUPT = 36,
    FUSE_BMAP = 37,
    FUSE_DESTROY = 38,
    FUSE_IOCTL = 39,
    FUSE_POLL = 40,
    FUSE_NOTIFY_REPLY = 41,
    FUSE_BATCH_FORGET = 42,
    FUSE_FALLOCATE = 43,
    FUSE_READDIRPLUS = 44,
    FUSE_RENAME2 = 45,
    FUSE_LSEEK = 46,
    FUSE_COPY_FILE_RANGE = 47,
    FUSE_SETUPMAPPING = 48,
    FUSE_REMOVEMAPPING = 49,
    FUSE_SYNCFS = 50,
    FUSE_TMPFILE = 51,
    FUSE_STATX = 52,
}

/// <summary>enum fuse_notify_code: carried in fuse_out_header.error of a message with unique 0.</summary>
public enum fuse_notify_code
{
    FUSE_NOTIFY_POLL = 1,
    FUSE_NOTIFY_INVAL_INODE = 2,
    FUSE_NOTIFY_INVAL_ENTRY = 3,
    FUSE_NOTIFY_STORE = 4,
    FUSE_NOTIFY_RETRIEVE = 5,
    FUSE_NOTIFY_DELETE = 6,
}

/// <summary>The #define constants of the kernel header.</summary>
public static class FuseKernel
{
    public const uint FUSE_KERNEL_VERSION = 7;
    /// <summary>The newest protocol minor whose structs this library knows (the header it was written against).</summary>
    public const uint FUSE_KERNEL_MINOR_VERSION = 38;
    /// <summary>The oldest protocol minor this library serves.</summary>
    public const uint FUSE_MIN_SUPPORTED_MINOR = 31;
    public const ulong FUSE_ROOT_ID = 1;
    public const int FUSE_MIN_READ_BUFFER = 8192;
    /// <summary>Default of /proc/sys/fs/fuse/max_pages_limit.</summary>
    public const int FUSE_DEFAULT_MAX_PAGES_LIMIT = 256;
    /// <summary>max_pages when FUSE_MAX_PAGES is not negotiated.</summary>
    public const int FUSE_DEFAULT_MAX_PAGES_PER_REQ = 32;

    // fuse_init_in/out flags; bits 32..63 travel in flags2 (with FUSE_INIT_EXT).
    public const ulong FUSE_ASYNC_READ = 1UL << 0;
    public const ulong FUSE_POSIX_LOCKS = 1UL << 1;
    public const ulong FUSE_FILE_OPS = 1UL << 2;
    public const ulong FUSE_ATOMIC_O_TRUNC = 1UL << 3;
    public const ulong FUSE_EXPORT_SUPPORT = 1UL << 4;
    public const ulong FUSE_BIG_WRITES = 1UL << 5;
    public const ulong FUSE_DONT_MASK = 1UL << 6;
    public const ulong FUSE_SPLICE_WRITE = 1UL << 7;
    public const ulong FUSE_SPLICE_MOVE = 1UL << 8;
    public const ulong FUSE_SPLICE_READ = 1UL << 9;
    public const ulong FUSE_FLOCK_LOCKS = 1UL << 10;
    public const ulong FUSE_HAS_IOCTL_DIR = 1UL << 11;
    public const ulong FUSE_AUTO_INVAL_DATA = 1UL << 12;
    public const ulong FUSE_DO_READDIRPLUS = 1UL << 13;
    public const ulong FUSE_READDIRPLUS_AUTO = 1UL << 14;
    public const ulong FUSE_ASYNC_DIO = 1UL << 15;
    public const ulong FUSE_WRITEBACK_CACHE = 1UL << 16;
    public const ulong FUSE_NO_OPEN_SUPPORT = 1UL << 17;
    public const ulong FUSE_PARALLEL_DIROPS = 1UL << 18;
    public const ulong FUSE_HANDLE_KILLPRIV = 1UL << 19;
    public const ulong FUSE_POSIX_ACL = 1UL << 20;
    public const ulong FUSE_ABORT_ERROR = 1UL << 21;
    public const ulong FUSE_MAX_PAGES = 1UL << 22;
    public const ulong FUSE_CACHE_SYMLINKS = 1UL << 23;
    public const ulong FUSE_NO_OPENDIR_SUPPORT = 1UL << 24;
    public const ulong FUSE_EXPLICIT_INVAL_DATA = 1UL << 25;
    public const ulong FUSE_MAP_ALIGNMENT = 1UL << 26;
    public const ulong FUSE_SUBMOUNTS = 1UL << 27;
    public const ulong FUSE_HANDLE_KILLPRIV_V2 = 1UL << 28;
    public const ulong FUSE_SETXATTR_EXT = 1UL << 29;
    public const ulong FUSE_INIT_EXT = 1UL << 30;
    public const ulong FUSE_INIT_RESERVED = 1UL << 31;
    public const ulong FUSE_SECURITY_CTX = 1UL << 32;
    public const ulong FUSE_HAS_INODE_DAX = 1UL << 33;
    public const ulong FUSE_CREATE_SUPP_GROUP = 1UL << 34;
    public const ulong FUSE_HAS_EXPIRE_ONLY = 1UL << 35;
    public const ulong FUSE_DIRECT_IO_ALLOW_MMAP = 1UL << 36;
    public const ulong FUSE_PASSTHROUGH = 1UL << 37;
    public const ulong FUSE_NO_EXPORT_SUPPORT = 1UL << 38;
    public const ulong FUSE_HAS_RESEND = 1UL << 39;
    public const ulong FUSE_ALLOW_IDMAP = 1UL << 40;
    public const ulong FUSE_OVER_IO_URING = 1UL << 41;
    public const ulong FUSE_REQUEST_TIMEOUT = 1UL << 42;

    // fuse_setattr_in.valid
    public const uint FATTR_MODE = 1 << 0;
    public const uint FATTR_UID = 1 << 1;
    public const uint FATTR_GID = 1 << 2;
    public const uint FATTR_SIZE = 1 << 3;
    public const uint FATTR_ATIME = 1 << 4;
    public const uint FATTR_MTIME = 1 << 5;
    public const uint FATTR_FH = 1 << 6;
    public const uint FATTR_ATIME_NOW = 1 << 7;
    public const uint FATTR_MTIME_NOW = 1 << 8;
    public const uint FATTR_LOCKOWNER = 1 << 9;
    public const uint FATTR_CTIME = 1 << 10;
    public const uint FATTR_KILL_SUIDGID = 1 << 11;

    // fuse_open_out.open_flags
    public const uint FOPEN_DIRECT_IO = 1 << 0;
    public const uint FOPEN_KEEP_CACHE = 1 << 1;
    public const uint FOPEN_NONSEEKABLE = 1 << 2;
    public const uint FOPEN_CACHE_DIR = 1 << 3;
    public const uint FOPEN_STREAM = 1 << 4;
    public const uint FOPEN_NOFLUSH = 1 << 5;
    public const uint FOPEN_PARALLEL_DIRECT_WRITES = 1 << 6;

    public const uint FUSE_RELEASE_FLUSH = 1 << 0;
    public const uint FUSE_RELEASE_FLOCK_UNLOCK = 1 << 1;
    public const uint FUSE_GETATTR_FH = 1 << 0;
    public const uint FUSE_WRITE_CACHE = 1 << 0;
    public const uint FUSE_WRITE_LOCKOWNER = 1 << 1;
    public const uint FUSE_WRITE_KILL_SUIDGID = 1 << 2;
    public const uint FUSE_READ_LOCKOWNER = 1 << 1;
    public const uint FUSE_FSYNC_FDATASYNC = 1 << 0;
    public const uint FUSE_OPEN_KILL_SUIDGID = 1 << 0;
    public const uint FUSE_SETXATTR_ACL_KILL_SGID = 1 << 0;
    public const uint FUSE_EXPIRE_ONLY = 1 << 0;

    /// <summary>_IOR(229, 0, uint32_t): clone a /dev/fuse fd onto the same connection.</summary>
    public const uint FUSE_DEV_IOC_CLONE = 0x8004E500;

    /// <summary>The fuse_init_in/out flags by name (the constants above), for debug output; the protocol tests check it lists them all.</summary>
    internal static readonly (string Name, ulong Bit)[] InitFlags =
    [
        ("ASYNC_READ", FUSE_ASYNC_READ),
        ("POSIX_LOCKS", FUSE_POSIX_LOCKS),
        ("FILE_OPS", FUSE_FILE_OPS),
        ("ATOMIC_O_TRUNC", FUSE_ATOMIC_O_TRUNC),
        ("EXPORT_SUPPORT", FUSE_EXPORT_SUPPORT),
        ("BIG_WRITES", FUSE_BIG_WRITES),
        ("DONT_MASK", FUSE_DONT_MASK),
        ("SPLICE_WRITE", FUSE_SPLICE_WRITE),
        ("SPLICE_MOVE", FUSE_SPLICE_MOVE),
        ("SPLICE_READ", FUSE_SPLICE_READ),
        ("FLOCK_LOCKS", FUSE_FLOCK_LOCKS),
        ("HAS_IOCTL_DIR", FUSE_HAS_IOCTL_DIR),
        ("AUTO_INVAL_DATA", FUSE_AUTO_INVAL_DATA),
        ("DO_READDIRPLUS", FUSE_DO_READDIRPLUS),
        ("READDIRPLUS_AUTO", FUSE_READDIRPLUS_AUTO),
        ("ASYNC_DIO", FUSE_ASYNC_DIO),
        ("WRITEBACK_CACHE", FUSE_WRITEBACK_CACHE),
        ("NO_OPEN_SUPPORT", FUSE_NO_OPEN_SUPPORT),
        ("PARALLEL_DIROPS", FUSE_PARALLEL_DIROPS),
        ("HANDLE_KILLPRIV", FUSE_HANDLE_KILLPRIV),
        ("POSIX_ACL", FUSE_POSIX_ACL),
        ("ABORT_ERROR", FUSE_ABORT_ERROR),
        ("MAX_PAGES", FUSE_MAX_PAGES),
        ("CACHE_SYMLINKS", FUSE_CACHE_SYMLINKS),
        ("NO_OPENDIR_SUPPORT", FUSE_NO_OPENDIR_SUPPORT),
        ("EXPLICIT_INVAL_DATA", FUSE_EXPLICIT_INVAL_DATA),
        ("MAP_ALIGNMENT", FUSE_MAP_ALIGNMENT),
        ("SUBMOUNTS", FUSE_SUBMOUNTS),
        ("HANDLE_KILLPRIV_V2", FUSE_HANDLE_KILLPRIV_V2),
        ("SETXATTR_EXT", FUSE_SETXATTR_EXT),
        ("INIT_EXT", FUSE_INIT_EXT),
        ("INIT_RESERVED", FUSE_INIT_RESERVED),
        ("SECURITY_CTX", FUSE_SECURITY_CTX),
        ("HAS_INODE_DAX", FUSE_HAS_INODE_DAX),
        ("CREATE_SUPP_GROUP", FUSE_CREATE_SUPP_GROUP),
        ("HAS_EXPIRE_ONLY", FUSE_HAS_EXPIRE_ONLY),
        ("DIRECT_IO_ALLOW_MMAP", FUSE_DIRECT_IO_ALLOW_MMAP),
        ("PASSTHROUGH", FUSE_PASSTHROUGH),
        ("NO_EXPORT_SUPPORT", FUSE_NO_EXPORT_SUPPORT),
        ("HAS_RESEND", FUSE_HAS_RESEND),
        ("ALLOW_IDMAP", FUSE_ALLOW_IDMAP),
        ("OVER_IO_URING", FUSE_OVER_IO_URING),
        ("REQUEST_TIMEOUT", FUSE_REQUEST_TIMEOUT),
    ];

    /// <summary>Flags of fuse_init_in/out by name, for debug output.</summary>
    public static string InitFlagsToString(ulong flags)
    {
        if (flags == 0)
        {
            return "0";
        }
        var names = new List<string>();
        foreach ((string name, ulong bit) in InitFlags)
        {
            if ((flags & bit) != 0)
            {
                names.Add(name);
                flags &= ~bit;
            }
        }
        if (flags != 0)
        {
            names.Add("0x" + flags.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        }
        return string.Join('|', names);
    }
}
