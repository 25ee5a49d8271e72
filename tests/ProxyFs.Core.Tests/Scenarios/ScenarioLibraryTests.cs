using ProxyFs.Core.FileSystem.Memory;
using ProxyFs.Testing;
using ProxyFs.Testing.Posix;
using ProxyFs.Testing.Scenarios;

namespace ProxyFs.Core.Tests.Scenarios;

/// <summary>Every scenario of the library gives the same transcript on tmpfs and on the in-memory filesystem.</summary>
public sealed class ScenarioLibraryTests
{
    [Theory]
    [MemberData(nameof(PosixScenarios.Names), MemberType = typeof(PosixScenarios))]
    public void Memfs_matches_tmpfs(string scenario)
    {
        using TempDirectory dir = TempDirectory.Create();
        using var reference = new LibcTarget(dir.Path, "tmpfs");
        using var subject = new FileSystemTarget(new MemoryFileSystem(), "memfs");
        ScenarioRunner.Compare(reference, subject, scenario);
    }

    [Fact]
    public void Library_is_broad()
    {
        Assert.True(PosixScenarios.All.Count >= 80, $"only {PosixScenarios.All.Count} scenarios");
    }
}
