using System.Runtime.InteropServices;

namespace ProxyFs.Core.FileSystem;

/// <summary>Mode bits of st_mode (sys/stat.h): the file type in the top bits, permissions below.</summary>
public static class ModeBits
{
    public const uint S_IFMT = 0xF000;
    public const uint S_IFSOCK = 0xC000;
    public const uint S_IFLNK = 0xA000;
    public const uint S_IFREG = 0x8000;
    public const uint S_IFBLK = 0x6000;
    public const uint S_IFDIR = 0x4000;
    public const uint S_IFCHR = 0x2000;
    public const uint S_IFIFO = 0x1000;
    public const uint S_ISUID = 0x800;
    public const uint S_ISGID = 0x400;
    public const uint S_ISVTX = 0x200;
    /// <summary>All permission bits including suid, sgid and sticky.</summary>
    public const uint PermissionMask = 0xFFF;

    public static bool IsDirectory(uint mode) => (mode & S_IFMT) == S_IFDIR;
    public static bool IsRegular(uint mode) => (mode & S_IFMT) == S_IFREG;
    public static bool IsSymlink(uint mode) => (mode & S_IFMT) == S_IFLNK;
}

/// <summary>Linux open(2) flags the filesystem looks at (asm-generic/fcntl.h).</summary>
public static class OpenFlags
{
    public const int O_ACCMODE = 0x3;
    public const int O_RDONLY = 0x0;
    public const int O_WRONLY = 0x1;
    public const int O_RDWR = 0x2;
    public const int O_CREAT = 0x40;
    public const int O_EXCL = 0x80;
    public const int O_NOCTTY = 0x100;
    public const int O_TRUNC = 0x200;
    public const int O_APPEND = 0x400;
    public const int O_NONBLOCK = 0x800;
    public const int O_DSYNC = 0x1000;
    public const int O_DIRECT = 0x4000;
    public const int O_LARGEFILE = 0x8000;
    public const int O_DIRECTORY = 0x10000;
    public const int O_NOFOLLOW = 0x20000;
    public const int O_NOATIME = 0x40000;
    public const int O_CLOEXEC = 0x80000;
    public const int O_SYNC = 0x101000;
    public const int O_PATH = 0x200000;
    public const int O_TMPFILE = 0x410000;
}

/// <summary>access(2) mask bits.</summary>
public static class AccessMode
{
    public const int F_OK = 0;
    public const int X_OK = 1;
    public const int W_OK = 2;
    public const int R_OK = 4;
}

/// <summary>fallocate(2) mode bits (linux/falloc.h).</summary>
public static class FallocateMode
{
    public const int KeepSize = 0x01;
    public const int PunchHole = 0x02;
    public const int CollapseRange = 0x08;
    public const int ZeroRange = 0x10;
    public const int InsertRange = 0x20;
}

/// <summary>lseek(2) whence values.</summary>
public static class SeekWhence
{
    public const int Set = 0;
    public const int Current = 1;
    public const int End = 2;
    public const int Data = 3;
    public const int Hole = 4;
}

/// <summary>A point in time with nanosecond resolution, as struct timespec.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct Timespec(long Seconds, uint Nanoseconds) : IComparable<Timespec>
{
    private const long TicksPerSecond = TimeSpan.TicksPerSecond;
    private const long UnixEpochTicks = 621355968000000000L; // DateTime.UnixEpoch.Ticks

    /// <summary>The current wall-clock time.</summary>
    public static Timespec Now
    {
        get
        {
            long ticks = DateTime.UtcNow.Ticks - UnixEpochTicks;
            return new Timespec(ticks / TicksPerSecond, (uint)(ticks % TicksPerSecond * 100));
        }
    }

    public static Timespec FromDateTime(DateTime utc)
    {
        long ticks = utc.ToUniversalTime().Ticks - UnixEpochTicks;
        long sec = Math.DivRem(ticks, TicksPerSecond, out long rem);
        if (rem < 0)
        {
            sec--;
            rem += TicksPerSecond;
        }
        return new Timespec(sec, (uint)(rem * 100));
    }

    public DateTime ToDateTime() => new(UnixEpochTicks + (Seconds * TicksPerSecond) + (Nanoseconds / 100), DateTimeKind.Utc);

    public int CompareTo(Timespec other)
    {
        int c = Seconds.CompareTo(other.Seconds);
        return c != 0 ? c : Nanoseconds.CompareTo(other.Nanoseconds);
    }

    public static bool operator <(Timespec a, Timespec b) => a.CompareTo(b) < 0;
    public static bool operator >(Timespec a, Timespec b) => a.CompareTo(b) > 0;
    public static bool operator <=(Timespec a, Timespec b) => a.CompareTo(b) <= 0;
    public static bool operator >=(Timespec a, Timespec b) => a.CompareTo(b) >= 0;

    public override string ToString() =>
        Seconds.ToString(System.Globalization.CultureInfo.InvariantCulture) + "." +
        Nanoseconds.ToString("D9", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>The attributes of an inode, as stat(2) reports them.</summary>
public struct InodeAttr
{
    public ulong Ino;
    public ulong Size;
    /// <summary>Allocated space in 512-byte units (st_blocks).</summary>
    public ulong Blocks;
    public Timespec Atime;
    public Timespec Mtime;
    public Timespec Ctime;
    /// <summary>File type and permission bits (st_mode).</summary>
    public uint Mode;
    public uint Nlink;
    public uint Uid;
    public uint Gid;
    /// <summary>Device number of a character or block device (st_rdev), in the kernel's new encoding.</summary>
    public uint Rdev;
    /// <summary>Preferred I/O size (st_blksize).</summary>
    public uint BlockSize;
}

/// <summary>What a name-creating or name-resolving operation returns: the inode and its attributes.</summary>
public struct EntryOut
{
    public ulong Ino;
    /// <summary>Together with <see cref="Ino"/>, unique for the filesystem's whole lifetime.</summary>
    public ulong Generation;
    public InodeAttr Attr;
}

/// <summary>Which fields of a <see cref="SetAttrIn"/> are to be applied.</summary>
[Flags]
public enum SetAttrFields : uint
{
    None = 0,
    Mode = 1 << 0,
    Uid = 1 << 1,
    Gid = 1 << 2,
    Size = 1 << 3,
    Atime = 1 << 4,
    Mtime = 1 << 5,
    /// <summary><see cref="SetAttrIn.Handle"/> names the open file the change is made through (ftruncate, fchmod…).</summary>
    Handle = 1 << 6,
    AtimeNow = 1 << 7,
    MtimeNow = 1 << 8,
    Ctime = 1 << 10,
    /// <summary>The kernel asks the filesystem to clear suid/sgid as part of this change (HANDLE_KILLPRIV_V2).</summary>
    KillSuidGid = 1 << 11,
}

/// <summary>A setattr request: chmod, chown, truncate, utimensat.</summary>
public struct SetAttrIn
{
    public SetAttrFields Fields;
    public uint Mode;
    public uint Uid;
    public uint Gid;
    public ulong Size;
    public Timespec Atime;
    public Timespec Mtime;
    public Timespec Ctime;
    public ulong Handle;
}

/// <summary>Flags of an open reply, telling the kernel how to cache an open file.</summary>
[Flags]
public enum OpenReplyFlags : uint
{
    None = 0,
    /// <summary>Bypass the page cache for this open file.</summary>
    DirectIo = 1 << 0,
    /// <summary>Keep the data the kernel cached from earlier opens.</summary>
    KeepCache = 1 << 1,
    NonSeekable = 1 << 2,
    /// <summary>Allow the kernel to cache the directory's entries.</summary>
    CacheDir = 1 << 3,
    /// <summary>
    /// close(2) need not call <see cref="IFileSystem.Flush"/> for this open file: the filesystem's Flush does nothing
    /// (the kernel still writes back its cached data first). Saves one request per close.
    /// </summary>
    NoFlush = 1 << 5,
}

/// <summary>The result of opening a file or directory.</summary>
public struct OpenResult
{
    public ulong Handle;
    public OpenReplyFlags Flags;
}

/// <summary>Flags of a write.</summary>
[Flags]
public enum WriteFlags : uint
{
    None = 0,
    /// <summary>A delayed write from the kernel's page cache (writeback caching); the handle may be any writable one.</summary>
    FromCache = 1 << 0,
    /// <summary>Clear suid and sgid as part of this write (HANDLE_KILLPRIV_V2).</summary>
    KillSuidGid = 1 << 1,
}

/// <summary>renameat2(2) flags.</summary>
[Flags]
public enum RenameFlags : uint
{
    None = 0,
    NoReplace = 1 << 0,
    Exchange = 1 << 1,
    Whiteout = 1 << 2,
}

/// <summary>setxattr(2) flags.</summary>
[Flags]
public enum XattrFlags
{
    None = 0,
    Create = 1,
    Replace = 2,
}

/// <summary>statfs(2) figures.</summary>
public struct FsStats
{
    public ulong Blocks;
    public ulong BlocksFree;
    public ulong BlocksAvailable;
    public ulong Files;
    public ulong FilesFree;
    public uint BlockSize;
    public uint FragmentSize;
    public uint NameMax;
}
