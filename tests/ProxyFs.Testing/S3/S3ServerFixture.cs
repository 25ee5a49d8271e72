using System.Diagnostics;
using System.Runtime.CompilerServices;
using Amazon.Runtime;
using ProxyFs.ObjectStore.S3;
using Xunit;

namespace ProxyFs.Testing.S3;

/// <summary>
/// Starts an S3 server on 127.0.0.1 with scripts/s3/&lt;name&gt;.sh once per test run (an xunit collection fixture) and
/// stops it at the end. The script prints <c>export NAME=value</c> lines: endpoint, keys, bucket. Store tests use
/// <see cref="Options"/>; tests of the proxyfs executable use <see cref="VolumeUri(string)"/> and pass
/// <see cref="CredentialEnvironment"/> to the processes they start (credentials never go into a URI).
/// </summary>
public abstract class S3ServerFixture : IAsyncLifetime
{
    private readonly string _script;
    private readonly string _dir;
    private Dictionary<string, string> _env = [];

    protected S3ServerFixture(string name)
    {
        Name = name;
        _script = Path.Combine(RepoRoot, "scripts", "s3", name + ".sh");
        _dir = Path.Combine(Path.GetTempPath(), $"proxyfs-test-{name}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");
    }

    /// <summary>radosgw or s3rver.</summary>
    public string Name { get; }

    /// <summary>How long the script took to bring the server up.</summary>
    public TimeSpan StartTime { get; private set; }

    public Uri Endpoint => new(_env["S3_ENDPOINT"]);

    public string Bucket => _env["S3_BUCKET"];

    public string Region => _env["AWS_REGION"];

    public AWSCredentials Credentials => new BasicAWSCredentials(_env["AWS_ACCESS_KEY_ID"], _env["AWS_SECRET_ACCESS_KEY"]);

    /// <summary>The variables the AWS credential chain of a proxyfs process reads: access key, secret, region.</summary>
    public IReadOnlyDictionary<string, string> CredentialEnvironment => new Dictionary<string, string>
    {
        ["AWS_ACCESS_KEY_ID"] = _env["AWS_ACCESS_KEY_ID"],
        ["AWS_SECRET_ACCESS_KEY"] = _env["AWS_SECRET_ACCESS_KEY"],
        ["AWS_REGION"] = _env["AWS_REGION"],
    };

    /// <summary>An s3:// volume URI under <paramref name="prefix"/> of the bucket, with the endpoint and region in its query.</summary>
    public string VolumeUri(string prefix) => VolumeUri(prefix, Endpoint);

    /// <summary>The same, reaching the server through <paramref name="endpoint"/> (an <see cref="OutageProxy"/>).</summary>
    public string VolumeUri(string prefix, Uri endpoint) =>
        $"s3://{Bucket}/{prefix.Trim('/')}?endpoint={endpoint.GetLeftPart(UriPartial.Authority)}&region={Region}&path_style=true";

    /// <summary>Options for a store under <paramref name="prefix"/>, with small multipart settings so that tests exercise multipart cheaply.</summary>
    public S3StoreOptions Options(string prefix = "") => new()
    {
        Bucket = Bucket,
        Prefix = prefix,
        Endpoint = Endpoint,
        Region = Region,
        PathStyle = true,
        Credentials = Credentials,
        MultipartThreshold = 12L << 20,
        PartSize = 5 << 20,
        RequestTimeout = TimeSpan.FromSeconds(60),
        ChunkedUpload = Name != "s3rver", // s3rver stores aws-chunked framing as the object's bytes
    };

    /// <summary>The repository: above this source file (builds may put the binaries anywhere), else above the binaries.</summary>
    public static string RepoRoot => FindRepoRoot();

    private static string FindRepoRoot([CallerFilePath] string sourceFile = "")
    {
        foreach (string start in new[] { Path.GetDirectoryName(sourceFile) ?? "", AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = start.Length == 0 ? null : new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (System.IO.File.Exists(Path.Combine(dir.FullName, "scripts", "s3", "radosgw.sh")))
                {
                    return dir.FullName;
                }
            }
        }
        throw new InvalidOperationException($"cannot find the repository (scripts/s3/radosgw.sh) above {sourceFile} or {AppContext.BaseDirectory}");
    }

    public async Task InitializeAsync()
    {
        var sw = Stopwatch.StartNew();
        var (code, output, error) = await RunScriptAsync("start", TimeSpan.FromSeconds(120));
        StartTime = sw.Elapsed;
        if (code != 0)
        {
            throw new InvalidOperationException($"{_script} start {_dir} failed (exit {code}); is the server installed (scripts/s3/install.sh)?\n{error}\n{output}");
        }
        _env = [];
        foreach (string line in output.Split('\n'))
        {
            string l = line.Trim();
            if (!l.StartsWith("export ", StringComparison.Ordinal))
            {
                continue;
            }
            int eq = l.IndexOf('=', StringComparison.Ordinal);
            _env[l[7..eq]] = l[(eq + 1)..].Trim('\'');
        }
        foreach (string required in new[] { "S3_ENDPOINT", "S3_BUCKET", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION" })
        {
            if (!_env.ContainsKey(required))
            {
                throw new InvalidOperationException($"{_script} start printed no {required}:\n{output}");
            }
        }
    }

    public async Task DisposeAsync()
    {
        var (code, output, error) = await RunScriptAsync("stop", TimeSpan.FromSeconds(60));
        if (code != 0)
        {
            throw new InvalidOperationException($"{_script} stop {_dir} failed (exit {code}):\n{error}\n{output}");
        }
    }

    private async Task<(int Code, string Output, string Error)> RunScriptAsync(string command, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo("bash", [_script, command, _dir])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot run {_script}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{_script} {command} did not finish within {timeout.TotalSeconds} s:\n{await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>Ceph radosgw (scripts/s3/radosgw.sh). xunit wants collection definitions in the test assembly: each test project declares its own.</summary>
public sealed class RadosgwFixture() : S3ServerFixture("radosgw");

/// <summary>s3rver (scripts/s3/s3rver.sh).</summary>
public sealed class S3rverFixture() : S3ServerFixture("s3rver");
