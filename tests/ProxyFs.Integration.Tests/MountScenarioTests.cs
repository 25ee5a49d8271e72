using ProxyFs.Integration.Tests.Support;
using ProxyFs.Testing;
using ProxyFs.Testing.Posix;
using ProxyFs.Testing.Scenarios;

namespace ProxyFs.Integration.Tests;

/// <summary>One proxyfs daemon serving a URI for a whole test class, mounted with allow_other; fresh directories on it.</summary>
public abstract class ScenarioMountFixture : IDisposable
{
    private readonly TestMountPoint _mountPoint;
    private int _counter;

    protected ScenarioMountFixture(string uri, string name, IReadOnlyDictionary<string, string>? environment = null)
    {
        _mountPoint = new TestMountPoint(name);
        Daemon = DaemonProcess.Start(uri, _mountPoint, "allow_other", environment: environment);
    }

    public DaemonProcess Daemon { get; }

    /// <summary>A fresh directory on the mount, mode 0755 like the tmpfs directories the reference runs in.</summary>
    public string NewDirectory(string name)
    {
        string path = Path.Combine(_mountPoint.Path, $"{name}-{Interlocked.Increment(ref _counter)}");
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, (UnixFileMode)0x1ED);
        return path;
    }

    public virtual void Dispose()
    {
        Daemon.Dispose();
        _mountPoint.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>memory:// for the whole class.</summary>
public sealed class MemoryMountFixture() : ScenarioMountFixture("memory://", "scenarios");

/// <summary>
/// The POSIX scenario library through the kernel and the real daemon: every scenario's transcript on the proxyfs
/// mount must equal its transcript on a tmpfs directory.
/// </summary>
public sealed class MountScenarioTests(MemoryMountFixture mount) : IClassFixture<MemoryMountFixture>
{
    [Theory]
    [MemberData(nameof(PosixScenarios.Names), MemberType = typeof(PosixScenarios))]
    public void Memory_mount_matches_tmpfs(string scenario)
    {
        using TempDirectory dir = TempDirectory.Create();
        using var reference = new LibcTarget(dir.Path, "tmpfs");
        using var subject = new LibcTarget(mount.NewDirectory(scenario), "proxyfs");
        ScenarioRunner.Compare(reference, subject, scenario);
        Assert.False(mount.Daemon.HasExited, mount.Daemon.Output);
    }
}
