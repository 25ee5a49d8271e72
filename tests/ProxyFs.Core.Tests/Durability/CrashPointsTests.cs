using ProxyFs.Core.Durability;

namespace ProxyFs.Core.Tests.Durability;

/// <summary>The crash point registry: the names a crash test can arm and how PROXYFS_CRASH_POINT is read.</summary>
public sealed class CrashPointsTests
{
    public static IEnumerable<object[]> Names => CrashPoints.All.Select(n => new object[] { n });

    [Fact]
    public void The_registry_lists_every_step_the_durability_contract_names()
    {
        Assert.Equal(
            [
                "rename.step", "unlink.step", "rmdir.step", "link.step", "truncate.step",
                "journal.after-append", "journal.after-commit", "fsync.after-segments",
                "segment.before-upload", "segment.after-upload",
                "checkpoint.after-freeze", "checkpoint.after-data-flush", "checkpoint.before-root-swing",
                "checkpoint.after-root-swing", "checkpoint.after-trim",
                "spill.before-rename",
            ],
            CrashPoints.All);
        Assert.Equal(CrashPoints.All.Count, CrashPoints.All.Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Each_name_is_armed_by_the_variable_and_documented(string name)
    {
        CrashPoints.Arming? first = CrashPoints.Parse(name, out string? error);
        Assert.Null(error);
        Assert.Equal(name, first!.Name);
        Assert.Equal(1, first.Nth);
        Assert.Equal(7, CrashPoints.Parse(name + ":7", out _)!.Nth);
        string semantics = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "SEMANTICS.md"));
        Assert.Contains($"`{name}`", semantics, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("no.such-point", "no crash point 'no.such-point'")]
    [InlineData("rename.step:0", "a whole number from 1")]
    [InlineData("rename.step:x", "a whole number from 1")]
    public void A_bad_value_is_refused_with_the_reason(string value, string expected)
    {
        Assert.Null(CrashPoints.Parse(value, out string? error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_nth_hit_runs_the_action_once()
    {
        var fired = new List<string>();
        CrashPoints.Arming armed = CrashPoints.Parse(CrashPoints.CheckpointAfterTrim + ":3", out _)!.With(fired.Add);
        for (int i = 0; i < 5; i++)
        {
            // Driven directly: the registry is process-wide, so this test counts only its own hits.
            if (Interlocked.Increment(ref armed.Hits) == armed.Nth)
            {
                armed.Action(armed.Name);
            }
        }
        Assert.Equal([CrashPoints.CheckpointAfterTrim], fired);
        Assert.Equal(5, armed.HitCount);
    }

    private static string RepositoryRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "proxyfs.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }
        return dir ?? throw new InvalidOperationException("proxyfs.sln not found above " + AppContext.BaseDirectory);
    }
}
