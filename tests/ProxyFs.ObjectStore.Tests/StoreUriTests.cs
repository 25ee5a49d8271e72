using ProxyFs.ObjectStore.Decorators;
using ProxyFs.ObjectStore.File;
using ProxyFs.ObjectStore.Memory;

namespace ProxyFs.ObjectStore.Tests;

public sealed class StoreUriTests
{
    [Fact]
    public void S3_uris_carry_every_option()
    {
        var uri = StoreUri.Parse("s3://bucket/vol/one?endpoint=http://127.0.0.1:7480&region=eu-west-1&path_style=false&profile=p&read_connections=8&write_connections=4&multipart_threshold=64MiB&part_size=16M&part_concurrency=2&chunked_upload=false&connect_timeout=500ms&request_timeout=10s&read_idle_timeout=1m&retries=6");
        var s3 = uri.S3!;
        Assert.Equal("bucket", s3.Bucket);
        Assert.Equal("vol/one", s3.Prefix);
        Assert.Equal(new Uri("http://127.0.0.1:7480"), s3.Endpoint);
        Assert.Equal("eu-west-1", s3.Region);
        Assert.False(s3.PathStyle);
        Assert.Equal("p", s3.Profile);
        Assert.Equal(8, s3.ReadConnections);
        Assert.Equal(4, s3.WriteConnections);
        Assert.Equal(64L << 20, s3.MultipartThreshold);
        Assert.Equal(16 << 20, s3.PartSize);
        Assert.Equal(2, s3.PartConcurrency);
        Assert.False(s3.ChunkedUpload);
        Assert.Equal(TimeSpan.FromMilliseconds(500), s3.ConnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(10), s3.RequestTimeout);
        Assert.Equal(TimeSpan.FromMinutes(1), s3.ReadIdleTimeout);
        Assert.Equal(6, uri.Retries);
        Assert.Null(s3.Credentials);
    }

    [Theory]
    [InlineData("s3://b/p?access_key=AKIA&secret_key=x", "credentials never go in the URI")]
    [InlineData("s3://AKIA:secret@b/p", "credentials never go in the URI")]
    [InlineData("s3://b/p?endpoint=http://u:p@127.0.0.1:1", "without credentials")]
    [InlineData("s3://b/p?colour=blue", "unknown parameter(s) colour")]
    [InlineData("s3://b/p?part_size=1MiB", "PartSize")]
    [InlineData("s3://b/p?read_connections=0", "read_connections=0")]
    [InlineData("s3://b/p?request_timeout=soon", "request_timeout=soon")]
    [InlineData("s3:///p", "no bucket")]
    [InlineData("file://relative/path", "absolute path")]
    [InlineData("file:///x?fsync=maybe", "fsync=maybe")]
    [InlineData("ftp://host/x", "unknown scheme 'ftp'")]
    [InlineData("/just/a/path", "expected file:///path")]
    public void Bad_uris_are_refused_with_the_reason(string uri, string reason)
    {
        var e = Assert.Throws<ArgumentException>(() => StoreUri.Parse(uri));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret@", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_builds_the_stack_it_is_asked_for()
    {
        using var dir = new TempDirectory();
        await using (var plain = ObjectStores.Open($"file://{dir.Path}?fsync=false&retries=1"))
        {
            Assert.IsType<FileObjectStore>(plain);
        }
        var metrics = new ObjectStoreMetrics();
        await using var stacked = ObjectStores.Open("memory://x", new ObjectStoreOpenOptions { Metrics = metrics, Faults = new FaultPlan() });
        var retrying = Assert.IsType<RetryingObjectStore>(stacked);
        var measured = Assert.IsType<MetricsObjectStore>(retrying.Inner);
        var faulty = Assert.IsType<FaultInjectingObjectStore>(measured.Inner);
        Assert.IsType<MemoryObjectStore>(faulty.Inner);
        Assert.Equal("memory://x", stacked.Location);
    }
}
