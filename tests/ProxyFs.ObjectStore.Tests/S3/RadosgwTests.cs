using System.Text;
using Amazon.Runtime;
using ProxyFs.ObjectStore.S3;
using ProxyFs.Testing.S3;

namespace ProxyFs.ObjectStore.Tests.S3;

/// <summary>What only a real S3 server can show: credentials, buckets, conditional multipart, the doctor.</summary>
[Collection("radosgw")]
public sealed class RadosgwTests(RadosgwFixture server)
{
    private static string Unique(string name) => $"{name}-{Guid.NewGuid():N}/";

    [Fact]
    public async Task A_wrong_secret_is_AuthFailed_and_the_secret_is_not_in_the_message()
    {
        var options = server.Options(Unique("auth")) with { Credentials = new BasicAWSCredentials(server.Credentials.GetCredentials().AccessKey, "not-the-secret-123") };
        await using var store = new S3ObjectStore(options);
        var e = await Assert.ThrowsAsync<ObjectStoreException>(() => store.PutAsync("k", new byte[] { 1 }));
        Assert.Equal(ObjectStoreErrorKind.AuthFailed, e.Kind);
        Assert.Equal(403, e.HttpStatus);
        Assert.DoesNotContain("not-the-secret-123", e.ToString(), StringComparison.Ordinal);
        Assert.Contains("SignatureDoesNotMatch", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_access_key_is_AuthFailed()
    {
        await using var store = new S3ObjectStore(server.Options(Unique("auth")) with { Credentials = new BasicAWSCredentials("NOSUCHKEY", "whatever") });
        var e = await Assert.ThrowsAsync<ObjectStoreException>(() => store.ListAsync(""));
        Assert.Equal(ObjectStoreErrorKind.AuthFailed, e.Kind);
        Assert.Contains("InvalidAccessKeyId", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_bucket_is_NoSuchBucket_for_every_operation_that_says_so()
    {
        await using var store = new S3ObjectStore(server.Options() with { Bucket = "no-such-bucket-" + Guid.NewGuid().ToString("N")[..8] });
        var put = await Assert.ThrowsAsync<ObjectStoreException>(() => store.PutAsync("k", new byte[] { 1 }));
        Assert.Equal(ObjectStoreErrorKind.NoSuchBucket, put.Kind);
        Assert.Contains("no-such-bucket-", put.Message, StringComparison.Ordinal);
        Assert.Equal(ObjectStoreErrorKind.NoSuchBucket, (await Assert.ThrowsAsync<ObjectStoreException>(() => store.GetAsync("k"))).Kind);
        Assert.Equal(ObjectStoreErrorKind.NoSuchBucket, (await Assert.ThrowsAsync<ObjectStoreException>(() => store.ListAsync(""))).Kind);
        // A HEAD answer has no body: a missing bucket and a missing key look the same.
        Assert.Equal(ObjectStoreErrorKind.NotFound, (await Assert.ThrowsAsync<ObjectStoreException>(() => store.HeadAsync("k"))).Kind);
    }

    [Fact]
    public async Task A_large_conditional_put_is_one_request_so_the_condition_holds()
    {
        // radosgw ignores If-None-Match on CompleteMultipartUpload: a conditional put above the multipart threshold
        // must still be a single PUT, or the second create-only put would overwrite.
        await using var store = new S3ObjectStore(server.Options(Unique("big-conditional")));
        byte[] first = new byte[14 << 20];
        byte[] second = new byte[14 << 20];
        first[0] = 1;
        second[0] = 2;
        await store.PutAsync("k", first, PutCondition.IfNoneMatch);
        var e = await Assert.ThrowsAsync<ObjectStoreException>(() => store.PutAsync("k", second, PutCondition.IfNoneMatch));
        Assert.Equal(ObjectStoreErrorKind.PreconditionFailed, e.Kind);
        Assert.Equal(1, (await store.GetBytesAsync("k", ByteRange.Of(0, 1)))[0]);
    }

    [Fact]
    public async Task Multipart_uploads_store_the_whole_object_and_report_its_size()
    {
        await using var store = new S3ObjectStore(server.Options(Unique("multipart")) with { PartConcurrency = 3 });
        byte[] data = new byte[(26 << 20) + 5];
        new Random(5).NextBytes(data);
        var put = await store.PutAsync("k", data);
        Assert.Equal(data.Length, put.Size);
        Assert.EndsWith("-6", put.ETag, StringComparison.Ordinal); // 6 parts of 5 MiB (the last one shorter)
        Assert.Equal(data, await store.GetBytesAsync("k"));
    }

    [Fact]
    public async Task The_doctor_passes_on_radosgw()
    {
        await using var store = ObjectStores.Decorate(new S3ObjectStore(server.Options(Unique("doctor"))), new ObjectStoreOpenOptions());
        var report = await ObjectStoreDoctor.RunAsync(store);
        Assert.True(report.Ok, report.ToString());
        Assert.Contains("create-only put refused on an existing object: refused with HTTP 412", report.ToString(), StringComparison.Ordinal);
        Assert.Empty((await store.ListAsync(".proxyfs-doctor/")).Objects);
    }

    [Fact]
    public async Task A_store_opened_from_its_uri_with_environment_free_credentials_works()
    {
        string uri = $"s3://{server.Bucket}/{Unique("uri")}?endpoint={server.Endpoint}&region={server.Region}&path_style=true&read_connections=4&write_connections=2&retries=3";
        await using var store = ObjectStores.Open(uri, new ObjectStoreOpenOptions { Credentials = server.Credentials });
        await store.PutAsync("hello", Encoding.ASCII.GetBytes("world"));
        Assert.Equal("world", Encoding.ASCII.GetString(await store.GetBytesAsync("hello")));
        Assert.Contains(server.Endpoint.Authority, store.Location, StringComparison.Ordinal);
    }
}

[Collection("s3rver")]
public sealed class S3rverTests(S3rverFixture server)
{
    [Fact]
    public async Task The_doctor_says_clearly_that_s3rver_does_not_enforce_conditional_writes()
    {
        await using var store = new S3ObjectStore(server.Options($"doctor-{Guid.NewGuid():N}/"));
        var report = await ObjectStoreDoctor.RunAsync(store);
        Assert.False(report.Ok);
        var failed = report.Checks.Where(c => !c.Passed).Select(c => c.Name).ToList();
        Assert.Contains("create-only put refused on an existing object", failed);
        Assert.Contains("compare-and-swap with a stale ETag refused", failed);
        string text = report.ToString();
        Assert.Contains("does not enforce create-only writes", text, StringComparison.Ordinal);
        Assert.Contains("verdict: proxyfs cannot use this store safely", text, StringComparison.Ordinal);
    }
}
