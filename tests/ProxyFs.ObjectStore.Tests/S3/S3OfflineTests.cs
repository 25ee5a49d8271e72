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
