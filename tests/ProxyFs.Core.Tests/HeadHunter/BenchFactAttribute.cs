namespace ProxyFs.Core.Tests.HeadHunter;

/// <summary>A benchmark: runs only with PROXYFS_BENCH=1 (best with -c Release); prints figures, asserts results.</summary>
public sealed class BenchFactAttribute : FactAttribute
{
    public BenchFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("PROXYFS_BENCH") != "1")
        {
            Skip = "benchmark: set PROXYFS_BENCH=1 (and use -c Release)";
        }
    }
}
