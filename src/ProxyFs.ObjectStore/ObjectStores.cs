using System.Globalization;
using Amazon.Runtime;
using ProxyFs.ObjectStore.Decorators;
using ProxyFs.ObjectStore.File;
using ProxyFs.ObjectStore.Memory;
using ProxyFs.ObjectStore.S3;

namespace ProxyFs.ObjectStore;

/// <summary>How <see cref="ObjectStores.Open(string, ObjectStoreOpenOptions?)"/> stacks decorators over the backend.</summary>
public sealed record ObjectStoreOpenOptions
{
    /// <summary>The retry policy of the outer <see cref="RetryingObjectStore"/>; null for none. A <c>retries=N</c> URI parameter sets its attempts.</summary>
    public RetryPolicy? Retry { get; init; } = RetryPolicy.Default;

    /// <summary>When set, a <see cref="MetricsObjectStore"/> under the retries counts every attempt into it.</summary>
    public ObjectStoreMetrics? Metrics { get; init; }

    /// <summary>When set (tests), a <see cref="FaultInjectingObjectStore"/> right over the backend injects these faults.</summary>
    public FaultPlan? Faults { get; init; }

    /// <summary>Credentials given in code for s3:// (tests and tools); otherwise the standard AWS sources are used.</summary>
    public AWSCredentials? Credentials { get; init; }
}

/// <summary>
/// Opens a store from its URI (docs/OBJECTSTORE.md has every parameter):
/// <list type="bullet">
/// <item><c>file:///absolute/path[?fsync=true|false&amp;create=true|false]</c></item>
/// <item><c>s3://bucket[/prefix][?endpoint=http://127.0.0.1:7480&amp;region=us-east-1&amp;path_style=true&amp;profile=NAME
/// &amp;read_connections=64&amp;write_connections=32&amp;multipart_threshold=32MiB&amp;part_size=8MiB&amp;part_concurrency=4&amp;chunked_upload=true
/// &amp;connect_timeout=5s&amp;request_timeout=30s&amp;read_idle_timeout=30s]</c></item>
/// <item><c>memory://[name]</c> (one process, gone when disposed)</item>
/// </list>
/// Any scheme takes <c>retries=N</c> (attempts, 1 = none). Credentials are never accepted in a URI.
/// The stack is Retrying(Metrics(Faults(backend))), each layer present only when asked for.
/// </summary>
public static class ObjectStores
{
    private static readonly string[] SecretParameters =
        ["access_key", "secret_key", "access_key_id", "secret_access_key", "aws_access_key_id", "aws_secret_access_key", "session_token", "password", "secret"];

    /// <summary>Opens the store named by <paramref name="uri"/>.</summary>
    public static IObjectStore Open(string uri, ObjectStoreOpenOptions? options = null) => Open(StoreUri.Parse(uri), options);

    /// <summary>Opens the store named by <paramref name="uri"/>.</summary>
    public static IObjectStore Open(Uri uri, ObjectStoreOpenOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(uri);
        return Open(uri.OriginalString, options);
    }

    /// <summary>Opens the store a parsed URI (or a configuration section bound to <see cref="StoreUri"/>) describes.</summary>
    public static IObjectStore Open(StoreUri uri, ObjectStoreOpenOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(uri);
        options ??= new ObjectStoreOpenOptions();
        IObjectStore store = uri switch
        {
            { File: FileStoreOptions file, Path: string path } => new FileObjectStore(path, file),
            { S3: S3StoreOptions s3 } => new S3ObjectStore(options.Credentials is null ? s3 : s3 with { Credentials = options.Credentials }),
            _ => new MemoryObjectStore(uri.Path ?? ""),
        };
        return Decorate(store, uri.Retries is int attempts && options.Retry is not null ? options with { Retry = options.Retry with { MaxAttempts = attempts } } : options);
    }

    /// <summary>Wraps <paramref name="backend"/> in the decorators <paramref name="options"/> asks for.</summary>
    public static IObjectStore Decorate(IObjectStore backend, ObjectStoreOpenOptions options)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(options);
        IObjectStore store = backend;
        if (options.Faults is not null)
        {
            store = new FaultInjectingObjectStore(store, options.Faults);
        }
        if (options.Metrics is not null)
        {
            store = new MetricsObjectStore(store, options.Metrics);
        }
        if (options.Retry is not null && options.Retry.MaxAttempts > 1)
        {
            store = new RetryingObjectStore(store, options.Retry);
        }
        return store;
    }

    internal static bool IsSecretParameter(string name) => SecretParameters.Contains(name, StringComparer.OrdinalIgnoreCase);
}

/// <summary>A parsed store URI: the backend and its options. Parse errors are <see cref="ArgumentException"/>s that say what is wrong.</summary>
public sealed record StoreUri
{
    /// <summary>file, s3 or memory.</summary>
    public required string Scheme { get; init; }

    /// <summary>The root directory (file) or the name (memory).</summary>
    public string? Path { get; init; }

    /// <summary>Options of a file store.</summary>
    public FileStoreOptions? File { get; init; }

    /// <summary>Options of an S3 store.</summary>
    public S3StoreOptions? S3 { get; init; }

    /// <summary>The <c>retries</c> parameter: attempts in all.</summary>
    public int? Retries { get; init; }

    /// <summary>Parses <paramref name="uri"/>.</summary>
    public static StoreUri Parse(string uri)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(uri);
        int colon = uri.IndexOf("://", StringComparison.Ordinal);
        if (colon <= 0)
        {
            throw Bad(uri, "expected file:///path, s3://bucket/prefix or memory://");
        }
        string scheme = uri[..colon].ToLowerInvariant();
        string rest = uri[(colon + 3)..];
        int q = rest.IndexOf('?', StringComparison.Ordinal);
        string query = q < 0 ? "" : rest[(q + 1)..];
        string path = q < 0 ? rest : rest[..q];
        var parameters = ParseQuery(uri, query);
        int? retries = Take(parameters, "retries") is string r ? ParseInt(uri, "retries", r, 1) : null;
        StoreUri result = scheme switch
        {
            "file" => ParseFile(uri, path, parameters),
            "s3" => ParseS3(uri, path, parameters),
            "memory" => new StoreUri { Scheme = "memory", Path = Uri.UnescapeDataString(path) },
            _ => throw Bad(uri, $"unknown scheme '{scheme}'; expected file, s3 or memory"),
        };
        if (parameters.Count > 0)
        {
            throw Bad(uri, $"unknown parameter(s) {string.Join(", ", parameters.Keys)} for {scheme}://");
        }
        return result with { Retries = retries };
    }

    private static StoreUri ParseFile(string uri, string path, Dictionary<string, string> parameters)
    {
        if (!path.StartsWith('/'))
        {
            throw Bad(uri, "a file store needs an absolute path: file:///absolute/path (three slashes)");
        }
        string root = Uri.UnescapeDataString(path);
        var options = new FileStoreOptions();
        if (Take(parameters, "fsync") is string fsync)
        {
            options = options with { Fsync = ParseBool(uri, "fsync", fsync) };
        }
        if (Take(parameters, "create") is string create)
        {
            options = options with { Create = ParseBool(uri, "create", create) };
        }
        return new StoreUri { Scheme = "file", Path = root, File = options };
    }

    private static StoreUri ParseS3(string uri, string path, Dictionary<string, string> parameters)
    {
        int slash = path.IndexOf('/', StringComparison.Ordinal);
        string bucket = slash < 0 ? path : path[..slash];
        string prefix = slash < 0 ? "" : Uri.UnescapeDataString(path[(slash + 1)..]);
        if (bucket.Length == 0)
        {
            throw Bad(uri, "no bucket: expected s3://bucket/prefix");
        }
        if (bucket.Contains('@', StringComparison.Ordinal) || bucket.Contains(':', StringComparison.Ordinal))
        {
            throw Bad(uri, "credentials never go in the URI: use AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile");
        }
        var o = new S3StoreOptions { Bucket = bucket, Prefix = prefix };
        if (Take(parameters, "endpoint") is string endpoint)
        {
            if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var e) || e.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(e.UserInfo))
            {
                throw Bad(uri, $"endpoint '{endpoint}' is not an http:// or https:// URL without credentials");
            }
            o = o with { Endpoint = e };
        }
        if (Take(parameters, "region") is string region)
        {
            o = o with { Region = region };
        }
        if (Take(parameters, "path_style") is string pathStyle)
        {
            o = o with { PathStyle = ParseBool(uri, "path_style", pathStyle) };
        }
        if (Take(parameters, "profile") is string profile)
        {
            o = o with { Profile = profile };
        }
        if (Take(parameters, "read_connections") is string rc)
        {
            o = o with { ReadConnections = ParseInt(uri, "read_connections", rc, 1) };
        }
        if (Take(parameters, "write_connections") is string wc)
        {
            o = o with { WriteConnections = ParseInt(uri, "write_connections", wc, 1) };
        }
        if (Take(parameters, "multipart_threshold") is string mt)
        {
            o = o with { MultipartThreshold = ParseSize(uri, "multipart_threshold", mt) };
        }
        if (Take(parameters, "part_size") is string ps)
        {
            long size = ParseSize(uri, "part_size", ps);
            o = o with { PartSize = size <= int.MaxValue ? (int)size : throw Bad(uri, "part_size is too large") };
        }
        if (Take(parameters, "part_concurrency") is string pc)
        {
            o = o with { PartConcurrency = ParseInt(uri, "part_concurrency", pc, 1) };
        }
        if (Take(parameters, "chunked_upload") is string cu)
        {
            o = o with { ChunkedUpload = ParseBool(uri, "chunked_upload", cu) };
        }
        if (Take(parameters, "connect_timeout") is string ct)
        {
            o = o with { ConnectTimeout = ParseDuration(uri, "connect_timeout", ct) };
        }
        if (Take(parameters, "request_timeout") is string rt)
        {
            o = o with { RequestTimeout = ParseDuration(uri, "request_timeout", rt) };
        }
        if (Take(parameters, "read_idle_timeout") is string it)
        {
            o = o with { ReadIdleTimeout = ParseDuration(uri, "read_idle_timeout", it) };
        }
        try
        {
            o.Validate();
        }
        catch (ArgumentException e)
        {
            throw Bad(uri, e.Message);
        }
        return new StoreUri { Scheme = "s3", S3 = o };
    }

    private static Dictionary<string, string> ParseQuery(string uri, string query)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            string name = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]).ToLowerInvariant();
            string value = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..]);
            if (ObjectStores.IsSecretParameter(name))
            {
                throw new ArgumentException($"the store URI has a '{name}' parameter: credentials never go in the URI (it ends up in logs and configuration files); use AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile");
            }
            if (!result.TryAdd(name, value))
            {
                throw Bad(uri, $"parameter '{name}' is given twice");
            }
        }
        return result;
    }

    private static string? Take(Dictionary<string, string> parameters, string name) => parameters.Remove(name, out string? value) ? value : null;

    private static bool ParseBool(string uri, string name, string value) => value.ToLowerInvariant() switch
    {
        "true" or "1" or "yes" or "on" => true,
        "false" or "0" or "no" or "off" => false,
        _ => throw Bad(uri, $"{name}={value}: expected true or false"),
    };

    private static int ParseInt(string uri, string name, string value, int min) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= min ? n : throw Bad(uri, $"{name}={value}: expected an integer of at least {min}");

    /// <summary>Sizes: a number of bytes, or with a suffix K, M, G (powers of 1024; KiB, MiB, GiB and KB, MB, GB mean the same).</summary>
    internal static long ParseSize(string uri, string name, string value)
    {
        string v = value.Trim();
        long unit = 1;
        foreach (var (suffix, factor) in new[] { ("kib", 1L << 10), ("mib", 1L << 20), ("gib", 1L << 30), ("kb", 1L << 10), ("mb", 1L << 20), ("gb", 1L << 30), ("k", 1L << 10), ("m", 1L << 20), ("g", 1L << 30), ("b", 1L) })
        {
            if (v.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                unit = factor;
                v = v[..^suffix.Length];
                break;
            }
        }
        return long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n > 0 && n <= long.MaxValue / unit
            ? n * unit
            : throw Bad(uri, $"{name}={value}: expected a size such as 8MiB");
    }

    /// <summary>Durations: a number of seconds, or with a suffix ms, s, m.</summary>
    internal static TimeSpan ParseDuration(string uri, string name, string value)
    {
        string v = value.Trim();
        double unitMs = 1000;
        if (v.EndsWith("ms", StringComparison.OrdinalIgnoreCase))
        {
            unitMs = 1;
            v = v[..^2];
        }
        else if (v.EndsWith('s'))
        {
            v = v[..^1];
        }
        else if (v.EndsWith('m'))
        {
            unitMs = 60_000;
            v = v[..^1];
        }
        return double.TryParse(v, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double d) && d > 0
            ? TimeSpan.FromMilliseconds(d * unitMs)
            : throw Bad(uri, $"{name}={value}: expected a duration such as 5s or 500ms");
    }

    private static ArgumentException Bad(string uri, string why) => new($"bad store URI '{Redact(uri)}': {why}", nameof(uri));

    // A URI in a message never shows user info (someone may have put a secret there).
    private static string Redact(string uri)
    {
        int scheme = uri.IndexOf("://", StringComparison.Ordinal);
        int at = uri.IndexOf('@', StringComparison.Ordinal);
        int slash = scheme < 0 ? -1 : uri.IndexOf('/', scheme + 3);
        return scheme >= 0 && at > scheme && (slash < 0 || at < slash) ? uri[..(scheme + 3)] + "***@" + uri[(at + 1)..] : uri;
    }
}
