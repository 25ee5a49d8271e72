using ProxyFs.Core.FileSystem;

namespace ProxyFs.Testing.Posix;

/// <summary>What stat(2) tells, with nanosecond times.</summary>
public readonly record struct PosixStat(
    ulong Ino,
    uint Mode,
    uint Nlink,
    uint Uid,
    uint Gid,
    uint RdevMajor,
    uint RdevMinor,
    long Size,
    long Blocks,
    uint BlockSize,
    Timespec Atime,
    Timespec Mtime,
    Timespec Ctime)
{
    public uint Type => Mode & ModeBits.S_IFMT;

    public uint Permissions => Mode & ModeBits.PermissionMask;

    public bool IsDirectory => Type == ModeBits.S_IFDIR;

    public bool IsRegular => Type == ModeBits.S_IFREG;

    public bool IsSymlink => Type == ModeBits.S_IFLNK;
}

/// <summary>One entry read from a directory: name and d_type (DT_* values).</summary>
public readonly record struct PosixDirEntry(string Name, byte Type);

/// <summary>What statfs(2) tells.</summary>
public readonly record struct PosixStatFs(long BlockSize, long Blocks, long BlocksFree, long BlocksAvailable, long Files, long FilesFree, long NameMax);

/// <summary>A time argument of utimensat(2): a value, UTIME_NOW or UTIME_OMIT.</summary>
public readonly record struct PosixTime(long Seconds, long Nanoseconds)
{
    public const long UtimeNow = (1L << 30) - 1;
    public const long UtimeOmit = (1L << 30) - 2;

    public static PosixTime Now => new(0, UtimeNow);

    public static PosixTime Omit => new(0, UtimeOmit);

    public static PosixTime At(long seconds, long nanoseconds = 0) => new(seconds, nanoseconds);

    public bool IsNow => Nanoseconds == UtimeNow;

    public bool IsOmit => Nanoseconds == UtimeOmit;

    public override string ToString() => IsNow ? "NOW" : IsOmit ? "OMIT" : $"{Seconds}.{Nanoseconds:D9}";
}

/// <summary>d_type values of readdir.</summary>
public static class DirentType
{
    public const byte Unknown = 0;
    public const byte Fifo = 1;
    public const byte Chr = 2;
    public const byte Dir = 4;
    public const byte Blk = 6;
    public const byte Reg = 8;
    public const byte Lnk = 10;
    public const byte Sock = 12;

    /// <summary>The d_type of a st_mode, as the kernel's IFTODT.</summary>
    public static byte FromMode(uint mode) => (byte)((mode & ModeBits.S_IFMT) >> 12);
}
