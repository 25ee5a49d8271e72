namespace ProxyFs.Testing.Scenarios;

/// <summary>A named POSIX scenario: a body that drives a target through a <see cref="ScenarioContext"/>.</summary>
public sealed class Scenario(string name, string description, Action<ScenarioContext> body)
{
    public string Name { get; } = name;

    public string Description { get; } = description;

    public Action<ScenarioContext> Body { get; } = body;

    public override string ToString() => Name;
}

/// <summary>Which fields of a stat a transcript line shows.</summary>
[Flags]
public enum StatFields
{
    Type = 1,
    Mode = 2,
    Nlink = 4,
    Owner = 8,
    /// <summary>st_size; never for directories, whose size is each filesystem's own business.</summary>
    Size = 16,
    /// <summary>st_blocks of regular files.</summary>
    Blocks = 32,
    Rdev = 64,
    Default = Type | Mode | Nlink | Owner | Size,
    All = Default | Blocks | Rdev,
}
