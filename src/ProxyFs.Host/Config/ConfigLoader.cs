using System.Collections;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ProxyFs.Host.Config;

/// <summary>
/// Reads the configuration: defaults, then the YAML file, then PROXYFS_* environment overrides, then checks that
/// the whole makes sense. Every error is a <see cref="ConfigException"/> of one line that names the place
/// (file:line:column, or the variable) and the bad key or value.
/// </summary>
public static class ConfigLoader
{
    // PROXYFS_* variables that are not configuration overrides (and must not be mistaken for misspelled ones).
    private static readonly HashSet<string> NotOverrides = new(StringComparer.Ordinal)
    {
        ProxyFsConfig.PathVariable, "PROXYFS_RUN_DIR", "PROXYFS_DETACHED_LOG", "PROXYFS_BINARY",
    };

    /// <summary>Loads <paramref name="path"/> (null: no file) with overrides from the process environment.</summary>
    public static ProxyFsConfig Load(string? path) => Load(path, EnvironmentVariables());

    /// <summary>Loads <paramref name="path"/> (null: no file) with overrides from <paramref name="environment"/>.</summary>
    public static ProxyFsConfig Load(string? path, IReadOnlyDictionary<string, string> environment)
    {
        string? text = null;
        if (path is not null)
        {
            try
            {
                text = File.ReadAllText(path);
            }
            catch (FileNotFoundException)
            {
                throw new ConfigException($"{path}: the configuration file does not exist");
            }
            catch (DirectoryNotFoundException)
            {
                throw new ConfigException($"{path}: the configuration file does not exist");
            }
            catch (UnauthorizedAccessException)
            {
                throw new ConfigException($"{path}: permission denied reading the configuration file");
            }
            catch (IOException e)
            {
                throw new ConfigException($"{path}: cannot read the configuration file: {e.Message}");
            }
        }
        return Parse(text, path, environment);
    }

    /// <summary>Parses configuration text (null: none) named <paramref name="path"/> in messages.</summary>
    public static ProxyFsConfig Parse(string? text, string? path, IReadOnlyDictionary<string, string> environment)
    {
        var b = new ConfigBuilder();
        if (text is not null)
        {
            ReadYaml(text, path ?? "(configuration)", b);
        }
        ApplyEnvironment(b, environment);
        return Build(b, path);
    }

    /// <summary>The process environment as a dictionary.</summary>
    public static IReadOnlyDictionary<string, string> EnvironmentVariables()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            result[(string)e.Key] = (string?)e.Value ?? "";
        }
        return result;
    }

    private static void ReadYaml(string text, string file, ConfigBuilder b)
    {
        var yaml = new YamlStream();
        try
        {
            yaml.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            string why = (e.InnerException?.Message ?? e.Message).ReplaceLineEndings(" ");
            const string duplicate = "Duplicate key ";
            if (why.StartsWith(duplicate, StringComparison.Ordinal))
            {
                throw new ConfigException($"{file}:{e.Start.Line}:{e.Start.Column}: {why[duplicate.Length..]} is given twice");
            }
            throw new ConfigException($"{file}:{e.Start.Line}:{e.Start.Column}: not valid YAML: {why}");
        }
        if (yaml.Documents.Count == 0)
        {
            return; // An empty file (or only comments): the defaults.
        }
        if (yaml.Documents.Count > 1)
        {
            throw new ConfigException($"{At(file, yaml.Documents[1].RootNode)}: only one YAML document is allowed");
        }
        YamlNode root = yaml.Documents[0].RootNode;
        if (IsNull(root))
        {
            return;
        }
        if (root is not YamlMappingNode top)
        {
            throw new ConfigException($"{At(file, root)}: the configuration must be a mapping of keys (log_level, read_cache, metrics, credentials_file, volumes)");
        }
        string[] topKeys = [.. ConfigSchema.Global.Where(k => !k.Path.Contains('.', StringComparison.Ordinal)).Select(k => k.Path), .. ConfigSchema.Sections, "volumes"];
        foreach (var (keyNode, value) in Entries(file, top, "", topKeys))
        {
            string key = ((YamlScalarNode)keyNode).Value!;
            if (ConfigSchema.Sections.Contains(key))
            {
                if (IsNull(value))
                {
                    continue;
                }
                if (value is not YamlMappingNode section)
                {
                    throw new ConfigException($"{At(file, value)}: {key}: expected a mapping of keys ({string.Join(", ", SectionKeys(key))})");
                }
                foreach (var (childKey, childValue) in Entries(file, section, key + ".", SectionKeys(key)))
                {
                    string path = key + "." + ((YamlScalarNode)childKey).Value;
                    ApplyScalar(file, path, childValue, ConfigSchema.Global.Single(k => k.Path == path), b);
                    if (path == "metrics.listen")
                    {
                        b.MetricsListenWhere = At(file, childValue);
                    }
                }
            }
            else if (key == "volumes")
            {
                ReadVolumes(file, value, b);
            }
            else
            {
                ApplyScalar(file, key, value, ConfigSchema.Global.Single(k => k.Path == key), b);
            }
        }
    }

    private static string[] SectionKeys(string section) =>
        [.. ConfigSchema.Global.Where(k => k.Path.StartsWith(section + ".", StringComparison.Ordinal)).Select(k => k.Name)];

    private static void ReadVolumes(string file, YamlNode value, ConfigBuilder b)
    {
        if (IsNull(value))
        {
            return;
        }
        if (value is not YamlSequenceNode list)
        {
            throw new ConfigException($"{At(file, value)}: volumes: expected a list of volumes (each '- name: …')");
        }
        string[] volumeKeys = [.. ConfigSchema.Volume.Select(k => k.Path)];
        for (int i = 0; i < list.Children.Count; i++)
        {
            YamlNode item = list.Children[i];
            if (item is not YamlMappingNode entry)
            {
                throw new ConfigException($"{At(file, item)}: volumes[{i}]: expected a mapping with name, uri, mount_point…");
            }
            var v = new VolumeBuilder { Where = At(file, item) };
            foreach (var (keyNode, child) in Entries(file, entry, $"volumes[{i}].", volumeKeys))
            {
                string key = ((YamlScalarNode)keyNode).Value!;
                ConfigKey<VolumeBuilder> schema = ConfigSchema.Volume.Single(k => k.Path == key);
                string where = At(file, child);
                string scalar = key == "options" && child is YamlSequenceNode seq
                    ? string.Join(',', seq.Children.Select(c => ScalarText(file, $"volumes[{i}].options", c)))
                    : ScalarText(file, $"volumes[{i}].{key}", child);
                Apply(where, $"volumes[{i}].{key}", () => schema.Apply(v, scalar));
                v.KeyWhere[key] = where;
            }
            b.Volumes.Add(v);
        }
    }

    /// <summary>The entries of a mapping, refusing unknown keys (with a suggestion) and secrets.</summary>
    private static IEnumerable<(YamlNode Key, YamlNode Value)> Entries(string file, YamlMappingNode mapping, string prefix, IReadOnlyList<string> known)
    {
        // A key given twice never gets here: the YAML parser refuses it (ReadYaml says so).
        foreach (var (keyNode, value) in mapping.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key })
            {
                throw new ConfigException($"{At(file, keyNode)}: {prefix}: keys must be plain words");
            }
            if (ConfigSchema.LooksLikeSecret(key))
            {
                throw new ConfigException($"{At(file, keyNode)}: {prefix}{key}: credentials never go in the configuration file; name a credentials_file (mode 0600) or use the AWS credential chain");
            }
            if (!known.Contains(key))
            {
                string? near = Nearest(key, known);
                throw new ConfigException($"{At(file, keyNode)}: unknown key '{prefix}{key}'" +
                    (near is null ? "" : $" (did you mean '{prefix}{near}'?)") + $"; expected one of: {string.Join(", ", known)}");
            }
            yield return (keyNode, value);
        }
    }

    private static void ApplyScalar<TBuilder>(string file, string path, YamlNode value, ConfigKey<TBuilder> key, TBuilder builder)
    {
        string text = ScalarText(file, path, value);
        Apply(At(file, value), path, () => key.Apply(builder, text));
    }

    private static string ScalarText(string file, string path, YamlNode node) => node switch
    {
        YamlScalarNode s => s.Value ?? "",
        _ => throw new ConfigException($"{At(file, node)}: {path}: expected a single value, not a {(node is YamlSequenceNode ? "list" : "mapping")}"),
    };

    private static void Apply(string where, string path, Action apply)
    {
        try
        {
            apply();
        }
        catch (FormatException e)
        {
            throw new ConfigException($"{where}: {path}: {e.Message}");
        }
    }

    private static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    private static string At(string file, YamlNode node) => $"{file}:{node.Start.Line}:{node.Start.Column}";

    private static void ApplyEnvironment(ConfigBuilder b, IReadOnlyDictionary<string, string> environment)
    {
        foreach (var (name, value) in environment.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            if (!name.StartsWith(ConfigSchema.EnvironmentPrefix, StringComparison.Ordinal) || NotOverrides.Contains(name))
            {
                continue;
            }
            ConfigKey<ConfigBuilder>? global = ConfigSchema.Global.FirstOrDefault(k => ConfigSchema.EnvironmentName(k.Path) == name);
            if (global is not null)
            {
                Apply(name, global.Path, () => global.Apply(b, value));
                if (global.Path == "metrics.listen")
                {
                    b.MetricsListenWhere = name;
                }
                continue;
            }
            if (name.StartsWith(ConfigSchema.VolumeEnvironmentPrefix, StringComparison.Ordinal))
            {
                ApplyVolumeVariable(b, name, value);
                continue;
            }
            if (IsReserved(name))
            {
                string? near = Nearest(name, [.. ConfigSchema.Global.Select(k => ConfigSchema.EnvironmentName(k.Path))]);
                throw new ConfigException($"{name}: no configuration key has this variable" + (near is null ? "" : $" (did you mean {near}?)"));
            }
        }
    }

    // Variables under a section's prefix are overrides: a misspelled one is an error rather than silently ignored.
    private static bool IsReserved(string name) =>
        ConfigSchema.Sections.Any(s => name.StartsWith(ConfigSchema.EnvironmentName(s) + "_", StringComparison.Ordinal))
        || name.StartsWith(ConfigSchema.EnvironmentName("log"), StringComparison.Ordinal)
        || name.StartsWith(ConfigSchema.EnvironmentName("credentials"), StringComparison.Ordinal);

    private static void ApplyVolumeVariable(ConfigBuilder b, string name, string value)
    {
        foreach (VolumeBuilder v in b.Volumes)
        {
            if (v.Name is null)
            {
                continue;
            }
            foreach (ConfigKey<VolumeBuilder> key in ConfigSchema.Volume.Where(k => k.Path != "name"))
            {
                if (ConfigSchema.VolumeEnvironmentName(v.Name, key.Path) == name)
                {
                    Apply(name, $"volumes[{v.Name}].{key.Path}", () => key.Apply(v, value));
                    v.KeyWhere[key.Path] = name;
                    return;
                }
            }
        }
        string names = b.Volumes.Count == 0 ? "none are configured" : "volumes: " + string.Join(", ", b.Volumes.Select(v => v.Name));
        throw new ConfigException($"{name}: names no key of a configured volume ({names}; keys: {string.Join(", ", ConfigSchema.Volume.Where(k => k.Path != "name").Select(k => k.Path.ToUpperInvariant()))})");
    }

    private static ProxyFsConfig Build(ConfigBuilder b, string? path)
    {
        if (b.MetricsListen is { IsLoopback: false } listen && !b.MetricsAllowRemote)
        {
            throw new ConfigException($"{Where(b.MetricsListenWhere, path)}: metrics.listen: {listen} is not a loopback address; the endpoint is unauthenticated, so set metrics.allow_remote: true to expose it");
        }
        var volumes = new List<VolumeConfig>();
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        var envWords = new Dictionary<string, string>(StringComparer.Ordinal);
        var mountPoints = new Dictionary<string, string>(StringComparer.Ordinal);
        var endpoints = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < b.Volumes.Count; i++)
        {
            VolumeBuilder v = b.Volumes[i];
            string name = v.Name ?? throw new ConfigException($"{v.Where}: volumes[{i}]: name is missing");
            string uri = v.Uri ?? throw new ConfigException($"{v.Where}: volumes[{i}] ({name}): uri is missing");
            if (!names.TryAdd(name, v.KeyWhere.GetValueOrDefault("name", v.Where)))
            {
                throw new ConfigException($"{v.KeyWhere.GetValueOrDefault("name", v.Where)}: volumes[{i}].name: '{name}' is already the name of the volume at {names[name]}");
            }
            if (!envWords.TryAdd(ConfigSchema.EnvironmentWord(name), name))
            {
                throw new ConfigException($"{v.KeyWhere.GetValueOrDefault("name", v.Where)}: volumes[{i}].name: '{name}' and '{envWords[ConfigSchema.EnvironmentWord(name)]}' have the same PROXYFS_VOLUME_{ConfigSchema.EnvironmentWord(name)}_* variables; rename one");
            }
            if (v.MountPoint is string mp)
            {
                string normalized = mp.Length > 1 ? mp.TrimEnd('/') : mp;
                if (!mountPoints.TryAdd(normalized, name))
                {
                    throw new ConfigException($"{v.KeyWhere.GetValueOrDefault("mount_point", v.Where)}: volumes[{i}].mount_point: {mp} is already the mount point of volume '{mountPoints[normalized]}'");
                }
            }
            ListenAddress? endpoint = v.MetricsOff ? null : v.MetricsListen ?? b.MetricsListen?.WithPortOffset(i);
            if (endpoint is { IsLoopback: false } && !b.MetricsAllowRemote)
            {
                throw new ConfigException($"{v.KeyWhere.GetValueOrDefault("metrics_listen", v.Where)}: volumes[{i}].metrics_listen: {endpoint} is not a loopback address; set metrics.allow_remote: true to expose it");
            }
            if (endpoint is { Port: > 0 } && !endpoints.TryAdd(endpoint.ToString(), name))
            {
                throw new ConfigException($"{v.KeyWhere.GetValueOrDefault("metrics_listen", v.Where)}: volumes[{i}].metrics_listen: volume '{name}' would serve metrics on {endpoint} as volume '{endpoints[endpoint.ToString()]}' does; give it another port");
            }
            if (endpoint is { Port: > 65535 })
            {
                throw new ConfigException($"{v.Where}: volumes[{i}] ({name}): its metrics port {endpoint.Port} (metrics.listen's port + {i}) is past 65535; set metrics_listen");
            }
            volumes.Add(new VolumeConfig
            {
                Name = name,
                Uri = uri,
                MountPoint = v.MountPoint,
                ReadCacheWeight = v.ReadCacheWeight,
                Options = v.Options,
                CredentialsFile = v.CredentialsFile,
                MetricsListen = v.MetricsListen,
                MetricsOff = v.MetricsOff,
                Index = i,
                Where = v.Where,
            });
        }
        return new ProxyFsConfig
        {
            SourceFile = path,
            LogLevel = b.LogLevel,
            ReadCache = new ReadCacheConfig { Size = b.ReadCacheSize, LineSize = b.ReadCacheLineSize, HugePages = b.ReadCacheHugePages, DiskPath = b.ReadCacheDiskPath, DiskSize = b.ReadCacheDiskSize },
            Metrics = new MetricsConfig { Listen = b.MetricsListen, AllowRemote = b.MetricsAllowRemote },
            CredentialsFile = b.CredentialsFile,
            Gc = new GcConfig { Interval = b.GcInterval, Grace = b.GcGrace, CompactBelow = b.GcCompactBelow },
            ReplayLogDirectory = b.ReplayLogDirectory,
            Volumes = volumes,
        };
    }

    private static string Where(string where, string? path) => where.Length > 0 ? where : path ?? "(configuration)";

    /// <summary>The known word closest to <paramref name="word"/> by edit distance, when it is close enough to be a typo.</summary>
    internal static string? Nearest(string word, IReadOnlyList<string> known)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string k in known)
        {
            int d = Distance(word.ToLowerInvariant(), k.ToLowerInvariant());
            if (d < bestDistance)
            {
                bestDistance = d;
                best = k;
            }
        }
        return bestDistance <= Math.Max(2, word.Length / 4) ? best : null;
    }

    private static int Distance(string a, string b)
    {
        int[] previous = new int[b.Length + 1];
        int[] current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
