using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using ProxyFs.Core.FileSystem;
using Syscall = Mono.Unix.Native.Syscall;

namespace ProxyFs.Testing.Posix;

/// <summary>
/// Real system calls on a directory: a tmpfs directory (the reference) or a proxyfs mount (the subject). Calls run
/// on the current <see cref="PosixThread"/>, which takes on <see cref="User"/> and <see cref="Umask"/> first.
/// Simple path calls go through Mono.Posix; the rest through <see cref="Native"/>.
/// </summary>
public sealed unsafe class LibcTarget : IPosixTarget, IRemountableTarget
{
    private readonly string _root;
    private readonly HashSet<int> _fds = [];
    private readonly Dictionary<int, nint> _dirs = [];
    private readonly Action? _remount;
    private int _nextDir = 1_000_000;

    /// <summary>
    /// Calls on <paramref name="rootDirectory"/>. <paramref name="remount"/>, when given, unmounts and mounts the
    /// filesystem under it again (a mount's daemon stopped and started); without it a remount changes nothing.
    /// </summary>
    public LibcTarget(string rootDirectory, string name = "libc", Action? remount = null)
    {
        _root = Path.GetFullPath(rootDirectory).TrimEnd('/');
        Name = name;
        _remount = remount;
    }

    /// <summary>
    /// Closes every descriptor and directory stream still open, then runs the remount action as root with umask 022:
    /// it starts processes, and a child takes the credentials and umask of the thread that starts it.
    /// </summary>
    public void Remount()
    {
        CloseEverything();
        if (_remount is null)
        {
            return;
        }
        if (PosixThread.IsCurrent)
        {
            PosixThread.Apply(PosixUser.Root, 0x12);
        }
        _remount();
    }

    public string Name { get; }

    public PosixUser User { get; set; } = PosixUser.Root;

    public uint Umask { get; set; }

    public string Root => _root;

    private string Full(string path) => path.StartsWith('/') ? path : path.Length == 0 ? string.Empty : _root + "/" + path;

    private void Enter() => PosixThread.Apply(User, Umask);

    private static int Result(int rc) => rc < 0 ? Native.Errno : 0;

    // ---- files ----

    public int Open(string path, int flags, uint mode, out int fd)
    {
        Enter();
        fd = Native.Open(Full(path), flags | OpenFlags.O_CLOEXEC, mode);
        if (fd < 0)
        {
            int error = Native.Errno;
            fd = -1;
            return error;
        }
        _fds.Add(fd);
        return 0;
    }

    public int Close(int fd)
    {
        Enter();
        _fds.Remove(fd);
        return Result(Syscall.close(fd));
    }

    public int Read(int fd, Span<byte> buffer, out int count)
    {
        Enter();
        fixed (byte* p = buffer)
        {
            return Sized(Native.Read(fd, p, buffer.Length), out count);
        }
    }

    public int Write(int fd, ReadOnlySpan<byte> data, out int count)
    {
        Enter();
        fixed (byte* p = data)
        {
            return Sized(Native.Write(fd, p, data.Length), out count);
        }
    }

    public int PRead(int fd, Span<byte> buffer, long offset, out int count)
    {
        Enter();
        fixed (byte* p = buffer)
        {
            return Sized(Native.PRead(fd, p, buffer.Length, offset), out count);
        }
    }

    public int PWrite(int fd, ReadOnlySpan<byte> data, long offset, out int count)
    {
        Enter();
        fixed (byte* p = data)
        {
            return Sized(Native.PWrite(fd, p, data.Length, offset), out count);
        }
    }

    private static int Sized(nint rc, out int count)
    {
        if (rc < 0)
        {
            count = 0;
            return Native.Errno;
        }
        count = (int)rc;
        return 0;
    }

    public int Seek(int fd, long offset, int whence, out long result)
    {
        Enter();
        result = Native.LSeek(fd, offset, whence);
        if (result < 0)
        {
            result = 0;
            return Native.Errno;
        }
        return 0;
    }

    public int Truncate(string path, long length)
    {
        Enter();
        return Result(Native.Truncate(Full(path), length));
    }

    public int FTruncate(int fd, long length)
    {
        Enter();
        return Result(Native.FTruncate(fd, length));
    }

    public int Fsync(int fd, bool dataOnly)
    {
        Enter();
        return Result(dataOnly ? Syscall.fdatasync(fd) : Syscall.fsync(fd));
    }

    public int Fallocate(int fd, int mode, long offset, long length)
    {
        Enter();
        return Result(Native.Fallocate(fd, mode, offset, length));
    }

    public int CopyFileRange(int fdIn, long? offsetIn, int fdOut, long? offsetOut, long length, out long copied)
    {
        Enter();
        long inPos = offsetIn ?? 0;
        long outPos = offsetOut ?? 0;
        nint rc = Native.CopyFileRange(fdIn, offsetIn.HasValue ? &inPos : null, fdOut, offsetOut.HasValue ? &outPos : null, (nint)length, 0);
        if (rc < 0)
        {
            copied = 0;
            return Native.Errno;
        }
        copied = rc;
        return 0;
    }

    // ---- attributes ----

    public int Stat(string path, out PosixStat stat) => StatxAt(Native.AtFdCwd, Full(path), 0, out stat);

    public int LStat(string path, out PosixStat stat) => StatxAt(Native.AtFdCwd, Full(path), Native.AtSymlinkNofollow, out stat);

    public int FStat(int fd, out PosixStat stat) => StatxAt(fd, string.Empty, Native.AtEmptyPath, out stat);

    private int StatxAt(int dirfd, string path, int flags, out PosixStat stat)
    {
        Enter();
        byte* b = stackalloc byte[256];
        if (Native.Statx(dirfd, path, flags, Native.StatxBasicStats, b) < 0)
        {
            stat = default;
            return Native.Errno;
        }
        var s = new ReadOnlySpan<byte>(b, 256);
        stat = new PosixStat(
            Ino: BinaryPrimitives.ReadUInt64LittleEndian(s[32..]),
            Mode: BinaryPrimitives.ReadUInt16LittleEndian(s[28..]),
            Nlink: BinaryPrimitives.ReadUInt32LittleEndian(s[16..]),
            Uid: BinaryPrimitives.ReadUInt32LittleEndian(s[20..]),
            Gid: BinaryPrimitives.ReadUInt32LittleEndian(s[24..]),
            RdevMajor: BinaryPrimitives.ReadUInt32LittleEndian(s[128..]),
            RdevMinor: BinaryPrimitives.ReadUInt32LittleEndian(s[132..]),
            Size: BinaryPrimitives.ReadInt64LittleEndian(s[40..]),
            Blocks: BinaryPrimitives.ReadInt64LittleEndian(s[48..]),
            BlockSize: BinaryPrimitives.ReadUInt32LittleEndian(s[4..]),
            Atime: Time(s[64..]),
            Mtime: Time(s[112..]),
            Ctime: Time(s[96..]));
        return 0;
    }

    private static Timespec Time(ReadOnlySpan<byte> t) =>
        new(BinaryPrimitives.ReadInt64LittleEndian(t), BinaryPrimitives.ReadUInt32LittleEndian(t[8..]));

    public int Chmod(string path, uint mode)
    {
        Enter();
        return Result(Native.Chmod(Full(path), mode));
    }

    public int Chown(string path, int uid, int gid, bool followSymlinks = true)
    {
        Enter();
        return Result(followSymlinks ? Syscall.chown(Full(path), unchecked((uint)uid), unchecked((uint)gid))
            : Syscall.lchown(Full(path), unchecked((uint)uid), unchecked((uint)gid)));
    }

    public int Utimens(string path, PosixTime atime, PosixTime mtime, bool followSymlinks = true)
    {
        Enter();
        long* times = stackalloc long[4] { atime.Seconds, atime.Nanoseconds, mtime.Seconds, mtime.Nanoseconds };
        return Result(Native.Utimensat(Native.AtFdCwd, Full(path), times, followSymlinks ? 0 : Native.AtSymlinkNofollow));
    }

    public int Access(string path, int mask)
    {
        Enter();
        return Result(Native.Access(Full(path), mask));
    }

    public int StatFs(string path, out PosixStatFs stat)
    {
        Enter();
        byte* b = stackalloc byte[128];
        if (Native.StatFs(Full(path), b) < 0)
        {
            stat = default;
            return Native.Errno;
        }
        long* f = (long*)b;
        stat = new PosixStatFs(f[1], f[2], f[3], f[4], f[5], f[6], f[8]);
        return 0;
    }

    // ---- names ----

    public int Mkdir(string path, uint mode)
    {
        Enter();
        return Result(Native.Mkdir(Full(path), mode));
    }

    public int Rmdir(string path)
    {
        Enter();
        return Result(Syscall.rmdir(Full(path)));
    }

    public int Unlink(string path)
    {
        Enter();
        return Result(Syscall.unlink(Full(path)));
    }

    public int Rename(string from, string to, RenameFlags flags = RenameFlags.None)
    {
        Enter();
        return Result(Native.Renameat2(Native.AtFdCwd, Full(from), Native.AtFdCwd, Full(to), (uint)flags));
    }

    public int Link(string existing, string newPath)
    {
        Enter();
        return Result(Syscall.link(Full(existing), Full(newPath)));
    }

    public int LinkFd(int fd, string newPath)
    {
        Enter();
        return Result(Native.Linkat(Native.AtFdCwd, $"/proc/self/fd/{fd}", Native.AtFdCwd, Full(newPath), Native.AtSymlinkFollow));
    }

    public int Symlink(string target, string linkPath)
    {
        Enter();
        return Result(Syscall.symlink(target, Full(linkPath)));
    }

    public int ReadLink(string path, out string target)
    {
        Enter();
        byte* b = stackalloc byte[4096];
        nint n = Native.ReadLink(Full(path), b, 4096);
        if (n < 0)
        {
            target = string.Empty;
            return Native.Errno;
        }
        target = Encoding.UTF8.GetString(b, (int)n);
        return 0;
    }

    public int Mknod(string path, uint mode, uint major, uint minor)
    {
        Enter();
        return Result(Native.Mknod(Full(path), mode, Native.MakeDev(major, minor)));
    }

    // ---- directories ----

    public int OpenDir(string path, out int dir)
    {
        Enter();
        nint handle = Native.OpenDir(Full(path));
        if (handle == 0)
        {
            dir = -1;
            return Native.Errno;
        }
        dir = _nextDir++;
        _dirs[dir] = handle;
        return 0;
    }

    public int ReadDir(int dir, out PosixDirEntry? entry)
    {
        Enter();
        entry = null;
        if (!_dirs.TryGetValue(dir, out nint handle))
        {
            return Errno.EBADF;
        }
        Marshal.SetLastPInvokeError(0);
        byte* d = Native.ReadDir(handle);
        if (d == null)
        {
            return Native.Errno;
        }
        var name = new ReadOnlySpan<byte>(d + 19, 256);
        int length = name.IndexOf((byte)0);
        entry = new PosixDirEntry(Encoding.UTF8.GetString(name[..length]), d[18]);
        return 0;
    }

    public int CloseDir(int dir)
    {
        Enter();
        if (!_dirs.Remove(dir, out nint handle))
        {
            return Errno.EBADF;
        }
        return Result(Native.CloseDir(handle));
    }

    // ---- extended attributes ----

    public int SetXattr(string path, string name, ReadOnlySpan<byte> value, XattrFlags flags, bool followSymlinks = false)
    {
        Enter();
        fixed (byte* v = value)
        {
            // A non-null pointer even for an empty value, as setxattr(2) callers pass.
            byte dummy = 0;
            byte* p = v == null ? &dummy : v;
            return Result(followSymlinks ? Native.SetXattr(Full(path), name, p, value.Length, (int)flags)
                : Native.LSetXattr(Full(path), name, p, value.Length, (int)flags));
        }
    }

    public int GetXattr(string path, string name, Span<byte> buffer, out int size, bool followSymlinks = false)
    {
        Enter();
        fixed (byte* b = buffer)
        {
            return Sized(followSymlinks ? Native.GetXattr(Full(path), name, b, buffer.Length)
                : Native.LGetXattr(Full(path), name, b, buffer.Length), out size);
        }
    }

    public int ListXattr(string path, Span<byte> buffer, out int size, bool followSymlinks = false)
    {
        Enter();
        fixed (byte* b = buffer)
        {
            return Sized(followSymlinks ? Native.ListXattr(Full(path), b, buffer.Length)
                : Native.LListXattr(Full(path), b, buffer.Length), out size);
        }
    }

    public int RemoveXattr(string path, string name, bool followSymlinks = false)
    {
        Enter();
        return Result(followSymlinks ? Native.RemoveXattr(Full(path), name) : Native.LRemoveXattr(Full(path), name));
    }

    /// <summary>Closes what the target opened and is still open. Must run on the posix thread that opened them.</summary>
    public void Dispose() => CloseEverything();

    private void CloseEverything()
    {
        foreach (nint dir in _dirs.Values)
        {
            Native.CloseDir(dir);
        }
        _dirs.Clear();
        foreach (int fd in _fds)
        {
            Syscall.close(fd);
        }
        _fds.Clear();
    }
}
