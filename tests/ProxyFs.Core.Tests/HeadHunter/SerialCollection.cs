namespace ProxyFs.Core.Tests.HeadHunter;

/// <summary>Tests that measure time or memory: run alone, not beside other test classes.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "Serial: scale and benchmarks";
}
