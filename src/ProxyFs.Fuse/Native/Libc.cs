using System.Runtime.InteropServices;

namespace ProxyFs.Fuse.Native;

/// <summary>
/// The few libc calls the protocol layer needs. Linux only (x86_64 and arm64 share these numbers: asm-generic errno,
/// O_CLOEXEC 0x80000). Every call sets the last P/Invoke error; wrappers return -errno instead of throwing.
/// </summary>
internal static unsafe partial class Libc
{
    private const string LibName = "libc";

    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int ENXIO = 6;
    public const int E2BIG = 7;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int ENODEV = 19;
    public const int ENOTDIR = 20;
    public const int EINVAL = 22;
    public const int ERANGE = 34;
    public const int ENOTTY = 25;
    public const int ENOSYS = 38;
    public const int ECONNABORTED = 103;
    public const int EPROTO = 71;
    public const int ENOTCONN = 107;

    public const int O_RDWR = 2;
    public const int O_CLOEXEC = 0x80000;

    public const int AF_UNIX = 1;
    public const int SOCK_STREAM = 1;
    public const int SOL_SOCKET = 1;
    public const int SCM_RIGHTS = 1;
    public const int MSG_DONTWAIT = 0x40;
    public const int MSG_CMSG_CLOEXEC = 0x40000000;

    public const ulong MS_RDONLY = 1;
    public const ulong MS_NOSUID = 2;
    public const ulong MS_NODEV = 4;
    public const ulong MS_NOEXEC = 8;
    public const ulong MS_SYNCHRONOUS = 16;
    public const ulong MS_DIRSYNC = 128;
    public const ulong MS_NOATIME = 1024;
    public const ulong MS_NODIRATIME = 2048;
    public const ulong MS_RELATIME = 1 << 21;
    public const ulong MS_STRICTATIME = 1 << 24;

    public const int MNT_FORCE = 1;
    public const int MNT_DETACH = 2;

    public const int AT_FDCWD = -100;
    public const uint STATX_TYPE = 1;
    public const uint STATX_MODE = 2;
    public const uint S_IFMT = 0xF000;
    public const uint S_IFDIR = 0x4000;

    [LibraryImport(LibName, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenNative(string path, int flags);

    [LibraryImport(LibName, EntryPoint = "close", SetLastError = true)]
    private static partial int CloseNative(int fd);

    [LibraryImport(LibName, EntryPoint = "read", SetLastError = true)]
    private static partial nint ReadNative(int fd, byte* buffer, nint count);

    [LibraryImport(LibName, EntryPoint = "write", SetLastError = true)]
    private static partial nint WriteNative(int fd, byte* buffer, nint count);

    [LibraryImport(LibName, EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlNative(int fd, nuint request, uint* argument);

    [LibraryImport(LibName, EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MountNative(string source, string target, string fileSystemType, nuint flags, string data);

    [LibraryImport(LibName, EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Umount2Native(string target, int flags);

    [LibraryImport(LibName, EntryPoint = "socketpair", SetLastError = true)]
    private static partial int SocketPairNative(int domain, int type, int protocol, int* fds);

    [LibraryImport(LibName, EntryPoint = "recvmsg", SetLastError = true)]
    private static partial nint RecvMsgNative(int fd, MsgHdr* message, int flags);

    [LibraryImport(LibName, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatxNative(int dirFd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport(LibName, EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial byte* RealPathNative(string path, byte* resolved);

    [LibraryImport(LibName, EntryPoint = "geteuid")]
    public static partial uint GetEuid();

    [LibraryImport(LibName, EntryPoint = "getegid")]
    public static partial uint GetEgid();

    private static int Errno => Marshal.GetLastPInvokeError();

    /// <summary>The text of strerror(errno).</summary>
    public static string StrError(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    public static bool IsRoot => GetEuid() == 0;

    /// <summary>open(2): the fd, or -errno.</summary>
    public static int Open(string path, int flags)
    {
        int fd = OpenNative(path, flags);
        return fd >= 0 ? fd : -Errno;
    }

    /// <summary>close(2): 0 or -errno.</summary>
    public static int Close(int fd) => CloseNative(fd) == 0 ? 0 : -Errno;

    /// <summary>read(2) into the span: bytes read, or -errno.</summary>
    public static int Read(int fd, Span<byte> buffer)
    {
        // SAFETY: the span is pinned by fixed for the duration of the call and the kernel writes at most its length.
        fixed (byte* p = buffer)
        {
            nint n = ReadNative(fd, p, buffer.Length);
            return n >= 0 ? (int)n : -Errno;
        }
    }

    /// <summary>write(2) of the span: bytes written, or -errno.</summary>
    public static int Write(int fd, ReadOnlySpan<byte> buffer)
    {
        // SAFETY: the span is pinned by fixed for the duration of the call and the kernel reads at most its length.
        fixed (byte* p = buffer)
        {
            nint n = WriteNative(fd, p, buffer.Length);
            return n >= 0 ? (int)n : -Errno;
        }
    }

    /// <summary>ioctl(fd, FUSE_DEV_IOC_CLONE, &amp;sessionFd): 0 or -errno.</summary>
    public static int FuseDevClone(int fd, int sessionFd)
    {
        uint source = (uint)sessionFd;
        // SAFETY: the argument is a local uint32 that the kernel only reads (_IOR of uint32_t).
        return IoctlNative(fd, FuseKernelIoctl.Clone, &source) == 0 ? 0 : -Errno;
    }

    /// <summary>mount(2): 0 or -errno.</summary>
    public static int Mount(string source, string target, string fileSystemType, ulong flags, string data) =>
        MountNative(source, target, fileSystemType, (nuint)flags, data) == 0 ? 0 : -Errno;

    /// <summary>umount2(2): 0 or -errno.</summary>
    public static int Umount2(string target, int flags) => Umount2Native(target, flags) == 0 ? 0 : -Errno;

    /// <summary>socketpair(AF_UNIX, SOCK_STREAM) without CLOEXEC, so that a child process inherits it: 0 or -errno.</summary>
    public static int SocketPairInheritable(out int fd0, out int fd1)
    {
        int* fds = stackalloc int[2];
        // SAFETY: fds points to two ints on this stack frame, which the call fills.
        if (SocketPairNative(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        {
            fd0 = fd1 = -1;
            return -Errno;
        }
        fd0 = fds[0];
        fd1 = fds[1];
        return 0;
    }

    /// <summary>
    /// Receives one file descriptor sent with SCM_RIGHTS (as fusermount3 does), without blocking.
    /// Returns the fd (with CLOEXEC), or -errno; -ENODATA-like cases (no descriptor in the message) return -EPROTO.
    /// </summary>
    public static int ReceiveFileDescriptor(int socket)
    {
        byte data = 0;
        // cmsghdr (16 bytes: size_t len, int level, int type) + one int, aligned to 8: CMSG_SPACE(sizeof(int)) = 24.
        const int ControlSize = 24;
        byte* control = stackalloc byte[ControlSize];
        new Span<byte>(control, ControlSize).Clear();
        IoVec iov;
        iov.Base = &data;
        iov.Length = 1;
        MsgHdr message = default;
        message.Iov = &iov;
        message.IovLength = 1;
        message.Control = control;
        message.ControlLength = ControlSize;
        nint n;
        // SAFETY: message, iov, data and control all live on this stack frame for the duration of the call, and the
        // lengths given to the kernel are their sizes.
        do
        {
            n = RecvMsgNative(socket, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        }
        while (n < 0 && Errno == EINTR);
        if (n < 0)
        {
            return -Errno;
        }
        if (n == 0 || message.ControlLength < 20)
        {
            return -EPROTO;
        }
        // SAFETY: the kernel filled at least one cmsghdr (ControlLength ≥ 20) into the 24-byte control buffer.
        nuint cmsgLength = *(nuint*)control;
        int level = *(int*)(control + 8);
        int type = *(int*)(control + 12);
        if (level != SOL_SOCKET || type != SCM_RIGHTS || cmsgLength < 20)
        {
            return -EPROTO;
        }
        return *(int*)(control + 16);
    }

    /// <summary>statx(2) following symlinks: 0 with the mode, or -errno.</summary>
    public static int StatMode(string path, out uint mode)
    {
        byte* buffer = stackalloc byte[256];
        // SAFETY: struct statx is 256 bytes on every architecture; the buffer is that size and on this stack frame.
        if (StatxNative(AT_FDCWD, path, 0, STATX_TYPE | STATX_MODE, buffer) != 0)
        {
            mode = 0;
            return -Errno;
        }
        mode = *(ushort*)(buffer + 0x1C); // stx_mode
        return 0;
    }

    /// <summary>realpath(3): the canonical path, or null with the errno.</summary>
    public static string? RealPath(string path, out int errno)
    {
        byte* resolved = stackalloc byte[4096];
        // SAFETY: realpath writes at most PATH_MAX (4096) bytes, NUL included, into the buffer given.
        byte* result = RealPathNative(path, resolved);
        if (result == null)
        {
            errno = Errno;
            return null;
        }
        errno = 0;
        return Marshal.PtrToStringUTF8((nint)resolved);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    private static class FuseKernelIoctl
    {
        public const nuint Clone = Protocol.FuseKernel.FUSE_DEV_IOC_CLONE;
    }
}
