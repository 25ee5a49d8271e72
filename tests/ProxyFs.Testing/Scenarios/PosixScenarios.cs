namespace ProxyFs.Testing.Scenarios;

/// <summary>
/// The POSIX scenario library: named scenarios that drive a target through a <see cref="ScenarioContext"/> and
/// leave a transcript. Two correct POSIX filesystems give identical transcripts; tmpfs is the reference. Run all of
/// them with <see cref="ScenarioRunner.Compare"/> over <see cref="Names"/> (an xunit MemberData source).
/// </summary>
public static partial class PosixScenarios
{
    private static readonly Lazy<IReadOnlyList<Scenario>> AllScenarios = new(() =>
    {
        var all = new List<Scenario>();
        all.AddRange(Files());
        all.AddRange(Sparse());
        all.AddRange(Names_());
        all.AddRange(Directories());
        all.AddRange(Renames());
        all.AddRange(Permissions());
        all.AddRange(SpecialBits());
        all.AddRange(Timestamps());
        all.AddRange(Xattrs());
        var seen = new HashSet<string>();
        foreach (Scenario s in all)
        {
            if (!seen.Add(s.Name))
            {
                throw new InvalidOperationException("duplicate scenario " + s.Name);
            }
        }
        return all;
    });

    public static IReadOnlyList<Scenario> All => AllScenarios.Value;

    /// <summary>Scenario names as xunit MemberData rows.</summary>
    public static IEnumerable<object[]> Names => All.Select(s => new object[] { s.Name });

    public static Scenario Get(string name) =>
        All.FirstOrDefault(s => s.Name == name) ?? throw new ArgumentException("no scenario named " + name, nameof(name));

    /// <summary>A mode written as its octal digits: M(644) is 0644.</summary>
    internal static uint M(int octalDigits) => Convert.ToUInt32(octalDigits.ToString(System.Globalization.CultureInfo.InvariantCulture), 8);

    private static Scenario S(string name, string description, Action<ScenarioContext> body) => new(name, description, body);
}
