namespace ProxyFs.Core.Tests.LogSegments.Benchmarks;

/// <summary>A benchmark: runs only with <c>PROXYFS_BENCH=1</c> (its figures go to the test output; it asserts only correctness).</summary>
public sealed class BenchmarkFactAttribute : FactAttribute
{
    public BenchmarkFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("PROXYFS_BENCH") != "1")
        {
            Skip = "a benchmark: set PROXYFS_BENCH=1 to run it";
        }
    }
}
