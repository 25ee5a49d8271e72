using ProxyFs.Integration.Tests.Support;
using ProxyFs.Testing;
using ProxyFs.Testing.Differential;
using ProxyFs.Testing.Posix;
using ProxyFs.Testing.S3;
using ProxyFs.Testing.Scenarios;

namespace ProxyFs.Integration.Tests;

/// <summary>
/// An s3:// volume on the radosgw of <paramref name="server"/>, under a prefix of its own, formatted with
/// `proxyfs format`. Processes get the credentials through the environment, as the AWS credential chain reads them.
/// </summary>
public sealed class S3Volume(S3ServerFixture server, string name)
{
    /// <summary>The volume's prefix in the bucket.</summary>
    public string Prefix { get; } = $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)];

    public string Uri => field ??= Format(server, Prefix);

    public IReadOnlyDictionary<string, string> Environment => server.CredentialEnvironment;

    private static string Format(S3ServerFixture server, string prefix)
    {
        string uri = server.VolumeUri(prefix);
        CommandResult format = ProxyFsBinary.Run(TimeSpan.FromSeconds(120), server.CredentialEnvironment, "format", uri, "--label", "test");
        Assert.True(format.ExitCode == 0, format.ToString());
        return uri;
    }
}

/// <summary>
/// radosgw for the s3:// mount tests, and one daemon serving an s3:// volume on it for the scenario library (the
/// S3 counterpart of <see cref="FileVolumeMountFixture"/>). Other tests of the collection make volumes of their own.
/// </summary>
public sealed class S3VolumeMountFixture : IAsyncLifetime
{
    private ScenarioMount? _mount;

    public RadosgwFixture Server { get; } = new();

    public ScenarioMountFixture Mount => _mount ?? throw new InvalidOperationException("the fixture is not initialized");

    public async Task InitializeAsync()
    {
        await Server.InitializeAsync();
        var volume = new S3Volume(Server, "scenarios");
        _mount = new ScenarioMount(volume.Uri, volume.Environment);
    }

    public async Task DisposeAsync()
    {
        _mount?.Dispose();
        await Server.DisposeAsync();
    }

    private sealed class ScenarioMount(string uri, IReadOnlyDictionary<string, string> environment)
        : ScenarioMountFixture(uri, "s3-volume-scenarios", environment);
}

[CollectionDefinition("s3-volume")]
public sealed class S3VolumeCollection : ICollectionFixture<S3VolumeMountFixture>;

/// <summary>The POSIX scenario library through the kernel and the daemon serving an s3:// volume on radosgw, against tmpfs.</summary>
[Collection("s3-volume")]
public sealed class S3VolumeScenarioTests(S3VolumeMountFixture s3)
{
    [Theory]
    [MemberData(nameof(PosixScenarios.Names), MemberType = typeof(PosixScenarios))]
    public void S3_volume_mount_matches_tmpfs(string scenario)
    {
        s3.Mount.CompareWithTmpfs(scenario);
    }
}

/// <summary>
/// The randomized differential test through a real mount of a volume: seeded operation sequences, remounts among
/// them (the daemon stopped with SIGTERM, which flushes and unmounts, and started again), give tmpfs's results.
/// </summary>
public static class MountDifferential
{
    /// <summary>Runs sequences <paramref name="seeds"/> of <paramref name="steps"/> steps on a mount of <paramref name="uri"/>.</summary>
    public static void Run(string uri, IReadOnlyDictionary<string, string>? environment, IEnumerable<int> seeds, int steps, string name)
    {
        using var mountPoint = new TestMountPoint(name);
        DaemonProcess daemon = DaemonProcess.Start(uri, mountPoint, "allow_other", environment: environment);
        int remounts = 0;
        try
        {
            using TempDirectory dir = TempDirectory.Create();
            using var reference = new LibcTarget(dir.Path, "tmpfs");
            using var subject = new LibcTarget(mountPoint.Path, "proxyfs", remount: () =>
            {
                daemon.Dispose();
                Assert.False(mountPoint.IsMounted, "the daemon left its mount behind");
                daemon = DaemonProcess.Start(uri, mountPoint, "allow_other", environment: environment);
                remounts++;
            });
            // Shrinking re-runs the sequence, remounts included: a small budget keeps a failing run short.
            var tester = new DifferentialTester(reference, subject) { RemountWeight = 2, ShrinkBudget = 30 };
            foreach (int seed in seeds)
            {
                DifferentialFailure? failure = tester.Run(seed, steps);
                Assert.True(failure is null, $"{failure}\n{daemon.Output}");
            }
            Assert.True(remounts > 0, "no sequence remounted");
            Assert.False(daemon.HasExited, daemon.Output);
        }
        finally
        {
            daemon.Dispose();
        }
    }
}

/// <summary>Random sequences with remounts on an s3:// volume on radosgw.</summary>
[Collection("s3-volume")]
public sealed class S3VolumeDifferentialTests(S3VolumeMountFixture s3)
{
    [Fact]
    public void S3_volume_mount_matches_tmpfs_on_random_sequences_with_remounts()
    {
        var volume = new S3Volume(s3.Server, "differential");
        MountDifferential.Run(volume.Uri, volume.Environment, Enumerable.Range(1, 6), 150, "s3-differential");
    }
}

/// <summary>Random sequences with remounts on a file:// volume.</summary>
public sealed class FileVolumeDifferentialTests
{
    [Fact]
    public void File_volume_mount_matches_tmpfs_on_random_sequences_with_remounts()
    {
        using var volume = new FileVolume();
        MountDifferential.Run(volume.Uri, null, Enumerable.Range(1, 6), 150, "file-differential");
    }
}
