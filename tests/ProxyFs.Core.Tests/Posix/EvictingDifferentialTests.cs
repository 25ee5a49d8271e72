using ProxyFs.Testing;
using ProxyFs.Testing.Differential;
using ProxyFs.Testing.Posix;

namespace ProxyFs.Core.Tests.Posix;

/// <summary>
/// The seeded random sequences of the differential test, on tmpfs and on the layer over an evicting store (the
/// same seeds as <see cref="Differential.DifferentialTests"/>' default run).
/// </summary>
public sealed class EvictingDifferentialTests
{
    private const int Batches = 4;
    private const int Sequences = 200;
    private const int Steps = 200;

    public static IEnumerable<object[]> BatchNumbers => Enumerable.Range(0, Batches).Select(b => new object[] { b });

    [Theory]
    [MemberData(nameof(BatchNumbers))]
    public void Evicting_store_matches_tmpfs_on_random_sequences(int batch)
    {
        var evicting = new EvictingStore();
        using TempDirectory dir = TempDirectory.Create();
        using var reference = new LibcTarget(dir.Path, "tmpfs");
        using (var subject = new FileSystemTarget(evicting.Fs, "posix-evicting"))
        {
            var tester = new DifferentialTester(reference, subject);
            for (int i = batch; i < Sequences; i += Batches)
            {
                DifferentialFailure? failure = tester.Run(1 + i, Steps);
                Assert.True(failure is null, failure?.ToString());
            }
        }
        evicting.AssertQuiescent();
    }
}
