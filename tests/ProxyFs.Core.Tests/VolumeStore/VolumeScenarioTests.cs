using ProxyFs.Core.FileSystem;
using ProxyFs.Testing;
using ProxyFs.Testing.Differential;
using ProxyFs.Testing.Posix;
using ProxyFs.Testing.Scenarios;

namespace ProxyFs.Core.Tests.VolumeStore;

/// <summary>
/// The scenario library and the seeded random sequences give the same results on tmpfs and on the POSIX layer over a
/// volume (in an in-memory object store, every inode object dropped as soon as nothing references it, so every use
/// reloads records from the tree).
/// </summary>
public sealed class VolumeScenarioTests
{
    private const int Batches = 4;
    private const int Sequences = 120;
    private const int Steps = 200;

    public static IEnumerable<object[]> BatchNumbers => Enumerable.Range(0, Batches).Select(b => new object[] { b });

    [Theory]
    [MemberData(nameof(PosixScenarios.Names), MemberType = typeof(PosixScenarios))]
    public void Volume_matches_tmpfs(string scenario)
    {
        using var volume = new VolumeStoreFixture(unreferencedInodes: 0);
        using TempDirectory dir = TempDirectory.Create();
        using var reference = new LibcTarget(dir.Path, "tmpfs");
        using (var subject = new FileSystemTarget(volume.Fs, "volume"))
        {
            ScenarioRunner.Compare(reference, subject, scenario);
        }
        AssertQuiescent(volume);
    }

    /// <summary>Random sequences with remounts among them: what a clean unmount leaves in the store is the whole state.</summary>
    [Theory]
    [MemberData(nameof(BatchNumbers))]
    public void Volume_matches_tmpfs_on_random_sequences_with_remounts(int batch)
    {
        using var volume = new VolumeStoreFixture(unreferencedInodes: 0);
        RunSequences(volume, volume.Remount, batch, Batches);
    }

    /// <summary>
    /// Random sequences with crashes among them (after a syncfs, with no checkpoint since the mount): replaying the
    /// log gives back exactly what tmpfs has, and replaying it again after the next crash does too.
    /// </summary>
    [Theory]
    [MemberData(nameof(BatchNumbers))]
    public void Volume_matches_tmpfs_on_random_sequences_with_crashes_and_replays(int batch)
    {
        using var volume = new VolumeStoreFixture(unreferencedInodes: 0);
        RunSequences(volume, volume.CrashRemount, batch, Batches * 2);
    }

    /// <summary>Sequences batch, batch + stride, … against tmpfs, with <paramref name="remount"/> as the remount step.</summary>
    private static void RunSequences(VolumeStoreFixture volume, Func<IFileSystem> remount, int batch, int stride)
    {
        using TempDirectory dir = TempDirectory.Create();
        using var reference = new LibcTarget(dir.Path, "tmpfs");
        using (var subject = new FileSystemTarget(volume.Fs, "volume", remount: _ => remount()))
        {
            var tester = new DifferentialTester(reference, subject) { RemountWeight = 3 };
            for (int i = batch; i < Sequences; i += stride)
            {
                DifferentialFailure? failure = tester.Run(1 + i, Steps);
                Assert.True(failure is null, failure?.ToString());
            }
        }
        AssertQuiescent(volume);
    }

    private static void AssertQuiescent(VolumeStoreFixture volume)
    {
        Assert.Empty(volume.Store.PinnedInodes());
        Assert.Equal(0, volume.Store.AbandonedOperations);
        Assert.Equal(0, volume.Fs.UnmatchedForgets);
        Assert.Null(volume.Store.Stopped);
    }
}
