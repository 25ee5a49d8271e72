using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using ProxyFs.ObjectStore.S3;

namespace ProxyFs.ObjectStore.Tests.S3;

/// <summary>The s3:// backend against endpoints that are not S3 servers: a closed port, a server that never answers.</summary>
public sealed class S3OfflineTests
{
    private static S3StoreOptions Options(int port) => new()
    {
        Bucket = "b",
        Endpoint = new Uri($"http://127.0.0.1:{port}"),
        Credentials = new BasicAWSCredentials("AKID", "SECRET"),
        ConnectTimeout = TimeSpan.FromSeconds(2),
        RequestTimeout = TimeSpan.FromSeconds(1),
    };

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    [Fact]
    public async Task An_unreachable_endpoint_fails_with_a_clear_transient_error_after_the_retries()
    {
        int port = ClosedPort();
        await using var store = ObjectStores.Decorate(new S3ObjectStore(Options(port)), new ObjectStoreOpenOptions());
        var e = await Assert.ThrowsAsync<ObjectStoreException>(() => store.HeadAsync("k"));
        Assert.Equal(ObjectStoreErrorKind.Transient, e.Kind);
        Assert.Contains($"127.0.0.1:{port}", e.Message, StringComparison.Ordinal);
        Assert.Contains("cannot talk to the endpoint", e.Message, StringComparison.Ordinal);
        Assert.Contains("ConnectionRefused", e.Message, StringComparison.Ordinal);
        Assert.Contains("gave up after 4 attempts", e.Message, StringComparison.Ordinal);
        Assert.False(e.OutcomeUnknown);
    }

    [Fact]
    public async Task A_server_that_never_answers_times_out_per_request()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var accepted = new List<TcpClient>();
        var accepting = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    accepted.Add(await listener.AcceptTcpClientAsync());
                }
            }
            catch (SocketException)
            {
                // The listener was stopped at the end of the test.
            }
            catch (ObjectDisposedException)
            {
                // The listener was stopped at the end of the test.
            }
        });
        try
        {
            await using var store = new S3ObjectStore(Options(port));
            var e = await Assert.ThrowsAsync<ObjectStoreException>(() => store.PutAsync("k", new byte[] { 1, 2, 3 }, PutCondition.IfNoneMatch));
            Assert.Equal(ObjectStoreErrorKind.Transient, e.Kind);
            Assert.Contains("no answer within 1", e.Message, StringComparison.Ordinal);
            Assert.True(e.OutcomeUnknown, "a put that timed out may have landed");
        }
        finally
        {
            listener.Stop();
            await accepting;
            foreach (var c in accepted)
            {
                c.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_body_that_stops_coming_fails_the_read_after_the_idle_timeout_and_the_GET_is_signed()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        string? request = null;
        using var stop = new CancellationTokenSource();
        var serving = Task.Run(async () =>
        {
            // One GET answered with 1,000 bytes promised and 10 sent; the connection then stays open and silent.
            using var client = await listener.AcceptTcpClientAsync(stop.Token);
            var stream = client.GetStream();
            var head = new System.Text.StringBuilder();
            var buffer = new byte[4096];
            while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                int n = await stream.ReadAsync(buffer, stop.Token);
                if (n == 0)
                {
                    return;
                }
                head.Append(System.Text.Encoding.ASCII.GetString(buffer, 0, n));
            }
            request = head.ToString();
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
                "HTTP/1.1 206 Partial Content\r\nContent-Length: 1000\r\nContent-Range: bytes 0-999/5000\r\nETag: \"abc\"\r\n\r\n0123456789"), stop.Token);
            await Task.Delay(Timeout.Infinite, stop.Token);
        });
        try
        {
            await using var store = new S3ObjectStore(Options(port) with { ReadIdleTimeout = TimeSpan.FromMilliseconds(300) });
            await using var body = await store.GetAsync("dir/a b", ByteRange.Of(0, 1000));
            Assert.Equal(5000, body.Object.Size);
            Assert.Equal("abc", body.Object.ETag);
            var buffer = new byte[1000];
            // The server stays silent until the test ends: without the idle timeout the read never returns, and the
            // guard's TimeoutException fails the assertion.
            var e = await Assert.ThrowsAsync<ObjectStoreException>(() => body.ReadFullyAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.Equal(ObjectStoreErrorKind.Transient, e.Kind);
            Assert.Contains("no data for 0.3 s", e.ToString(), StringComparison.Ordinal);

            // What went over the wire: the key encoded once in a path-style path, the range, and a SigV4 header signature.
            Assert.NotNull(request);
            Assert.StartsWith("GET /b/dir/a%20b HTTP/1.1\r\n", request, StringComparison.Ordinal);
            Assert.Contains($"Host: 127.0.0.1:{port}\r\n", request, StringComparison.Ordinal);
            Assert.Contains("Range: bytes=0-999\r\n", request, StringComparison.Ordinal);
            Assert.Contains("x-amz-content-sha256: " + S3RequestSigner.EmptyPayloadHash, request, StringComparison.Ordinal);
            Assert.Matches(@"Authorization: AWS4-HMAC-SHA256 Credential=AKID/\d{8}/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}\r\n", request);
        }
        finally
        {
            await stop.CancelAsync();
            listener.Stop();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => serving);
        }
    }

    [Fact]
    public void Without_credentials_opening_fails_and_says_where_it_looked()
    {
        string missingFile = Path.Combine(Path.GetTempPath(), $"no-credentials-{Guid.NewGuid():N}");
        var env = new Dictionary<string, string?> { ["AWS_SHARED_CREDENTIALS_FILE"] = missingFile };
        var e = Assert.Throws<ObjectStoreException>(() => S3Credentials.Resolve(new S3StoreOptions { Bucket = "b" }, "s3://b/", k => env.GetValueOrDefault(k)));
        Assert.Equal(ObjectStoreErrorKind.AuthFailed, e.Kind);
        Assert.Contains("AWS_ACCESS_KEY_ID", e.Message, StringComparison.Ordinal);
        Assert.Contains(missingFile, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Credentials_come_from_the_environment_then_from_the_named_profile()
    {
        var env = new Dictionary<string, string?> { ["AWS_ACCESS_KEY_ID"] = "ENVKEY", ["AWS_SECRET_ACCESS_KEY"] = "ENVSECRET" };
        var fromEnv = S3Credentials.Resolve(new S3StoreOptions { Bucket = "b" }, "s3://b/", k => env.GetValueOrDefault(k)).GetCredentials();
        Assert.Equal("ENVKEY", fromEnv.AccessKey);

        string file = Path.Combine(Path.GetTempPath(), $"credentials-{Guid.NewGuid():N}");
        System.IO.File.WriteAllText(file, "[other]\naws_access_key_id = PROFILEKEY\naws_secret_access_key = PROFILESECRET\n");
        try
        {
            var profileEnv = new Dictionary<string, string?> { ["AWS_SHARED_CREDENTIALS_FILE"] = file, ["AWS_PROFILE"] = "other" };
            var fromProfile = S3Credentials.Resolve(new S3StoreOptions { Bucket = "b" }, "s3://b/", k => profileEnv.GetValueOrDefault(k)).GetCredentials();
            Assert.Equal("PROFILEKEY", fromProfile.AccessKey);

            var half = new Dictionary<string, string?> { ["AWS_ACCESS_KEY_ID"] = "ONLYKEY" };
            var e = Assert.Throws<ObjectStoreException>(() => S3Credentials.Resolve(new S3StoreOptions { Bucket = "b" }, "s3://b/", k => half.GetValueOrDefault(k)));
            Assert.Contains("set both", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            System.IO.File.Delete(file);
        }
    }
}
