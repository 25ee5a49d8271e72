using System.Globalization;
using ProxyFs.Core.FileSystem;
using ProxyFs.Host.Metrics;
using ProxyFs.Integration.Tests.Support;
using ProxyFs.Testing.Posix;

namespace ProxyFs.Integration.Tests;

/// <summary>
/// What the kernel sends for each small file created the way `make bench` creates them (open O_CREAT|O_WRONLY|O_TRUNC,
/// one 4 KiB write, close), counted by the daemon's FUSE statistics on a real mount. Per file: LOOKUP (the name is
/// new), CREATE, GETATTR (the parent's attributes, which the create invalidated, for default_permissions),
/// GETXATTR (security.capability, before the first write of an inode), WRITE and RELEASE — what bindfs over libfuse
/// gets too — and no FLUSH: opens answer FOPEN_NOFLUSH because close has nothing to flush.
/// </summary>
public sealed class RequestCountTests
{
    private const int Files = 200;
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public void Creating_a_small_file_costs_six_requests_and_no_flush_on_memory() => AssertCreateCost("memory://");

    [Fact]
    public void Creating_a_small_file_costs_six_requests_and_no_flush_on_a_file_volume()
    {
        using var volume = new FileVolume();
        AssertCreateCost(volume.Uri);
    }

    private static void AssertCreateCost(string uri)
    {
        using var mountPoint = new TestMountPoint();
        using DaemonProcess daemon = DaemonProcess.Start(uri, mountPoint);
        string dir = Path.Combine(mountPoint.Path, "small");
        Directory.CreateDirectory(dir);
        Dictionary<string, long> before = Opcodes(mountPoint.Path);

        PosixThread.Run(() =>
        {
            using var libc = new LibcTarget(dir, "proxyfs");
            byte[] block = new byte[4096];
            for (int i = 0; i < Files; i++)
            {
                Assert.Equal(0, libc.Open("f" + i.ToString(CultureInfo.InvariantCulture), OpenFlags.O_CREAT | OpenFlags.O_WRONLY | OpenFlags.O_TRUNC, 0x1A4, out int fd));
                Assert.Equal(0, libc.Write(fd, block, out int n));
                Assert.Equal(block.Length, n);
                Assert.Equal(0, libc.Close(fd));
            }
        });

        Dictionary<string, long> after = Opcodes(mountPoint.Path);
        long Delta(string op) => after.GetValueOrDefault(op) - before.GetValueOrDefault(op);
        string counts = string.Join(", ", after.Keys.Order(StringComparer.Ordinal).Select(k => $"{k} {Delta(k)}"));
        Assert.True(Delta("FLUSH") == 0, counts);
        Assert.True(Delta("CREATE") == Files, counts);
        Assert.True(Delta("WRITE") == Files, counts);
        Assert.True(Delta("RELEASE") == Files, counts);
        Assert.True(Delta("LOOKUP") <= Files + 2, counts);
        // The total, leaving room for a few requests of the status command's own stat and a forget or two.
        long total = after.Values.Sum() - before.Values.Sum();
        Assert.True(total <= (6 * Files) + 20, $"{total} requests for {Files} files: {counts}");
        Assert.Equal(Files, Directory.GetFiles(dir).Length);
        Assert.False(daemon.HasExited, daemon.Output);
    }

    private static Dictionary<string, long> Opcodes(string mountPoint)
    {
        CommandResult r = ProxyFsBinary.Run(CommandTimeout, "status", mountPoint, "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        StatusSnapshot status = StatusSnapshot.FromJson(r.Stdout);
        Assert.NotNull(status.Fuse);
        return new Dictionary<string, long>(status.Fuse.Opcodes, StringComparer.Ordinal);
    }
}
