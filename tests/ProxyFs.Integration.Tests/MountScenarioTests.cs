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

    protected ScenarioMountFixture(string uri, string name, IReadOnlyDictionary<string, string>? environment = null, string options = "allow_other")
    {
        _mountPoint = new TestMountPoint(name);
        Daemon = DaemonProcess.Start(uri, _mountPoint, options, environment: environment);
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

    /// <summary>Runs <paramref name="scenario"/> on a tmpfs directory and on a fresh directory of the mount and
    /// requires identical transcripts, and the daemon still running.</summary>
    public void CompareWithTmpfs(string scenario)
    {
        using TempDirectory dir = TempDirectory.Create();
        using var reference = new LibcTarget(dir.Path, "tmpfs");
        using var subject = new LibcTarget(NewDirectory(scenario), "proxyfs");
        ScenarioRunner.Compare(reference, subject, scenario);
        Assert.False(Daemon.HasExited, Daemon.Output);
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
        mount.CompareWithTmpfs(scenario);
    }
}

/// <summary>memory:// mounted without default_permissions: the kernel leaves every permission check to the filesystem.</summary>
public sealed class NoDefaultPermissionsMountFixture() : ScenarioMountFixture("memory://", "scenarios-nodp", options: "allow_other,no_default_permissions");

/// <summary>
/// The POSIX scenario library on a mount without default_permissions, where the filesystem alone decides who may do
/// what (only what the kernel never asks the filesystem about is left out: see <see cref="KernelOnlyChecks"/>).
/// </summary>
public sealed class NoDefaultPermissionsMountScenarioTests(NoDefaultPermissionsMountFixture mount) : IClassFixture<NoDefaultPermissionsMountFixture>
{
    /// <summary>
    /// Scenarios whose outcome the kernel decides without a request the filesystem could refuse when
    /// default_permissions is off (docs/CONFIGURATION.md, default_permissions).
    /// </summary>
    private static readonly HashSet<string> KernelOnlyChecks =
    [
        // A name the kernel still has in its dentry cache is reached without a LOOKUP, so the search permission of the
        // directories on the way is never checked (the filesystem checks it on every LOOKUP it gets).
        "perm_directory_search",

        // The kernel refuses a device node to a caller without CAP_MKNOD (EPERM) before asking; with
        // default_permissions it would first have refused the unwritable directory (EACCES).
        "mknod_as_user",
    ];

    public static IEnumerable<object[]> Names =>
        PosixScenarios.Names.Where(row => !KernelOnlyChecks.Contains((string)row[0]));

    [Theory]
    [MemberData(nameof(Names))]
    public void Mount_without_default_permissions_matches_tmpfs(string scenario)
    {
        mount.CompareWithTmpfs(scenario);
    }
}
