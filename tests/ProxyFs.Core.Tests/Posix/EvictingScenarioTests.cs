using ProxyFs.Testing;
using ProxyFs.Testing.Posix;
using ProxyFs.Testing.Scenarios;

namespace ProxyFs.Core.Tests.Posix;

/// <summary>Every scenario of the library gives the same transcript on tmpfs and on the layer over an evicting store.</summary>
public sealed class EvictingScenarioTests
{
    [Theory]
    [MemberData(nameof(PosixScenarios.Names), MemberType = typeof(PosixScenarios))]
    public void Evicting_store_matches_tmpfs(string scenario)
    {
        var evicting = new EvictingStore();
        using TempDirectory dir = TempDirectory.Create();
        using var reference = new LibcTarget(dir.Path, "tmpfs");
        using (var subject = new FileSystemTarget(evicting.Fs, "posix-evicting"))
        {
            ScenarioRunner.Compare(reference, subject, scenario);
        }
        evicting.AssertQuiescent();
    }
}
