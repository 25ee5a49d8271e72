using System.Globalization;
using ProxyFs.Core.FileSystem.Memory;
using ProxyFs.Testing;
using ProxyFs.Testing.Differential;
using ProxyFs.Testing.Posix;

namespace ProxyFs.Core.Tests.Differential;

/// <summary>
/// Random operation sequences give the same results on the in-memory filesystem as on tmpfs. The default run is
/// 200 sequences of 200 steps; PROXYFS_DIFF_SEQUENCES and PROXYFS_DIFF_STEPS make a longer soak, and
/// PROXYFS_DIFF_SEED_BASE moves to other seeds. A failure prints the seed and the shrunk sequence.
/// </summary>
public sealed class DifferentialTests
{
    private const int Batches = 4;

    public static IEnumerable<object[]> BatchNumbers => Enumerable.Range(0, Batches).Select(b => new object[] { b });

    [Theory]
    [MemberData(nameof(BatchNumbers))]
    public void Memfs_matches_tmpfs_on_random_sequences(int batch)
    {
        int sequences = Setting("PROXYFS_DIFF_SEQUENCES", 200);
        int steps = Setting("PROXYFS_DIFF_STEPS", 200);
        int seedBase = Setting("PROXYFS_DIFF_SEED_BASE", 1);
        using TempDirectory dir = TempDirectory.Create();
        using var reference = new LibcTarget(dir.Path, "tmpfs");
        using var subject = new FileSystemTarget(new MemoryFileSystem(), "memfs");
        var tester = new DifferentialTester(reference, subject);
        for (int i = batch; i < sequences; i += Batches)
        {
            DifferentialFailure? failure = tester.Run(seedBase + i, steps);
            Assert.True(failure is null, failure?.ToString());
        }
    }

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value : fallback;
}
