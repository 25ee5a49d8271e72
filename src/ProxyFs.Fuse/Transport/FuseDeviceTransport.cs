using ProxyFs.Fuse.Native;

namespace ProxyFs.Fuse.Transport;

/// <summary>A /dev/fuse file descriptor: the session fd of a mount, or a clone of it.</summary>
internal sealed class FuseDeviceTransport : IFuseTransport
{
    private readonly string _devicePath;
    private int _fd;

    public FuseDeviceTransport(int fd, string devicePath)
    {
        _fd = fd;
        _devicePath = devicePath;
    }

    public int Fd => Volatile.Read(ref _fd);

    public int Read(Span<byte> buffer)
    {
        int fd = Fd;
        return fd < 0 ? -Libc.EBADF : Libc.Read(fd, buffer);
    }

    public int Write(ReadOnlySpan<byte> message)
    {
        int fd = Fd;
        return fd < 0 ? -Libc.EBADF : Libc.Write(fd, message);
    }

    public IFuseTransport? Clone()
    {
        int fd = Libc.Open(_devicePath, Libc.O_RDWR | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            throw new IOException($"cannot open {_devicePath} to clone the FUSE channel: {Libc.StrError(-fd)}");
        }
        int rc = Libc.FuseDevClone(fd, Fd);
        if (rc < 0)
        {
            Libc.Close(fd);
            if (rc == -Libc.EINVAL || rc == -Libc.ENOSYS || rc == -Libc.ENOTTY)
            {
                return null; // kernel without FUSE_DEV_IOC_CLONE: readers share the session fd
            }
            throw new IOException($"FUSE_DEV_IOC_CLONE failed: {Libc.StrError(-rc)}");
        }
        return new FuseDeviceTransport(fd, _devicePath);
    }

    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            Libc.Close(fd);
        }
    }
}
