using ProxyFs.Host.Config;
using ProxyFs.Integration.Tests.Support;

namespace ProxyFs.Integration.Tests.Host;

/// <summary>
/// Every configuration key is documented, with its default, in docs/CONFIGURATION.md and proxyfs.yaml(5), each
/// override variable is named, and the sample the package installs as /etc/proxyfs/proxyfs.yaml is valid and says
/// the defaults.
/// </summary>
public sealed class ConfigDocumentationTests
{
    private static string Read(params string[] path) => File.ReadAllText(Path.Combine([ProxyFsBinary.RepositoryRoot, .. path]));

    /// <summary>Each key with its section ("daemon" or "volume": credentials_file is in both).</summary>
    public static TheoryData<string, string> Keys()
    {
        var data = new TheoryData<string, string>();
        foreach (ConfigKey<ConfigBuilder> k in ConfigSchema.Global)
        {
            data.Add("daemon", k.Path);
        }
        foreach (ConfigKey<VolumeBuilder> k in ConfigSchema.Volume)
        {
            data.Add("volume", k.Path);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Keys))]
    public void Each_key_is_in_the_documentation_and_the_manual(string section, string key)
    {
        Assert.Contains($"| `{key}` |", Part(Read("docs", "CONFIGURATION.md"), section, "### Keys of each entry of `volumes`", "### Credentials"), StringComparison.Ordinal);
        Assert.Contains($".BR {key} \"", Part(Read("packaging", "man", "proxyfs.yaml.5"), section, ".SH KEYS OF A VOLUME", ".SH CREDENTIALS"), StringComparison.Ordinal);
    }

    /// <summary>The daemon-wide part of a document (before the volume keys) or the volume part (up to the next section).</summary>
    private static string Part(string text, string section, string volumesHeading, string nextHeading)
    {
        int volumes = text.IndexOf(volumesHeading, StringComparison.Ordinal);
        int next = text.IndexOf(nextHeading, volumes, StringComparison.Ordinal);
        Assert.True(volumes > 0 && next > volumes, $"'{volumesHeading}' and then '{nextHeading}' are missing");
        return section == "daemon" ? text[..volumes] : text[volumes..next];
    }

    [Fact]
    public void Each_default_is_documented_as_the_schema_says()
    {
        string doc = Read("docs", "CONFIGURATION.md");
        foreach (ConfigKey<ConfigBuilder> k in ConfigSchema.Global.Where(k => !k.Default.StartsWith('(')))
        {
            Assert.Contains($"| `{k.Path}` | `{k.Default}` |", doc, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Each_override_variable_is_documented()
    {
        string doc = Read("docs", "CONFIGURATION.md");
        string man = Read("packaging", "man", "proxyfs.yaml.5");
        foreach (ConfigKey<ConfigBuilder> k in ConfigSchema.Global)
        {
            string variable = ConfigSchema.EnvironmentName(k.Path);
            Assert.Contains($"`{variable}`", doc, StringComparison.Ordinal);
            Assert.Contains(variable, man, StringComparison.Ordinal);
        }
        foreach (ConfigKey<VolumeBuilder> k in ConfigSchema.Volume.Where(k => k.Path != "name"))
        {
            Assert.Contains(k.Path.ToUpperInvariant(), doc, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_sample_configuration_is_valid_and_gives_the_defaults()
    {
        ProxyFsConfig sample = ConfigLoader.Parse(Read("packaging", "proxyfs.yaml"), "packaging/proxyfs.yaml", new Dictionary<string, string>());
        ProxyFsConfig defaults = ConfigLoader.Parse(null, null, new Dictionary<string, string>());
        Assert.Equal(defaults.LogLevel, sample.LogLevel);
        Assert.Equal(defaults.ReadCache, sample.ReadCache);
        Assert.Equal(defaults.Metrics, sample.Metrics);
        Assert.Null(sample.CredentialsFile);
        Assert.Empty(sample.Volumes);
    }

    [Fact]
    public void The_commented_volumes_of_the_sample_are_valid_once_uncommented()
    {
        string uncommented = string.Join('\n', Read("packaging", "proxyfs.yaml").Split('\n')
            .Select(l => l == "volumes: []" ? "volumes:" : l.StartsWith("#  ", StringComparison.Ordinal) ? l[1..] : l));
        ProxyFsConfig c = ConfigLoader.Parse(uncommented, "sample", new Dictionary<string, string>());
        Assert.Equal(["data", "scratch"], c.Volumes.Select(v => v.Name));
    }
}
