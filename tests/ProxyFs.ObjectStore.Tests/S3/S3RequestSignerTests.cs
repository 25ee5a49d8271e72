using ProxyFs.ObjectStore.S3;

namespace ProxyFs.ObjectStore.Tests.S3;

/// <summary>
/// The read path's own Signature Version 4: the example GET of the S3 documentation ("Example: GET Object", a ranged
/// GET of examplebucket/test.txt), the path encoding, and where requests go for each addressing style. Real servers check
/// the rest (the conformance suite runs every GET through it against radosgw).
/// </summary>
public sealed class S3RequestSignerTests
{
    [Fact]
    public void The_documented_example_GET_gets_the_documented_signature()
    {
        var signer = new S3RequestSigner("us-east-1");
        var signed = signer.Sign("GET", "examplebucket.s3.amazonaws.com", "/test.txt", "bytes=0-9",
            "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", null, new DateTime(2013, 5, 24, 0, 0, 0, DateTimeKind.Utc));
        Assert.Equal("20130524T000000Z", signed.AmzDate);
        Assert.Equal(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, " +
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, " +
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
            signed.Authorization);
    }

    [Fact]
    public void A_session_token_is_signed_and_the_signing_key_follows_the_day()
    {
        var signer = new S3RequestSigner("eu-west-1");
        var day1 = new DateTime(2026, 11, 22, 23, 59, 59, DateTimeKind.Utc);
        var a = signer.Sign("GET", "h", "/b/k", null, "AK", "SK", "TOKEN", day1);
        Assert.Contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,", a.Authorization, StringComparison.Ordinal);
        Assert.Contains("/20261122/eu-west-1/s3/aws4_request", a.Authorization, StringComparison.Ordinal);
        var b = signer.Sign("GET", "h", "/b/k", null, "AK", "SK", "TOKEN", day1.AddSeconds(1));
        Assert.Contains("/20261123/eu-west-1/s3/aws4_request", b.Authorization, StringComparison.Ordinal);
        // A fresh signer (no cached key) signs the next day's request the same: the cached key was replaced, not reused.
        Assert.Equal(b, new S3RequestSigner("eu-west-1").Sign("GET", "h", "/b/k", null, "AK", "SK", "TOKEN", day1.AddSeconds(1)));
        Assert.NotEqual(b, signer.Sign("GET", "h", "/b/k", null, "AK", "other", "TOKEN", day1.AddSeconds(1)));
    }

    [Theory]
    [InlineData("segments/00ab", "segments/00ab")]
    [InlineData("a b+c", "a%20b%2Bc")]
    [InlineData("x~y_z-w.v", "x~y_z-w.v")]
    [InlineData("dir/ünï/%", "dir/%C3%BCn%C3%AF/%25")]
    [InlineData("./..", "./..")]
    public void Keys_are_encoded_once_keeping_slashes_and_unreserved_characters(string key, string path) =>
        Assert.Equal(path, S3RequestSigner.EncodePath(key));

    [Theory]
    [InlineData("http://127.0.0.1:7480", null, "b", "http://127.0.0.1:7480/", "/b")]
    [InlineData("http://127.0.0.1:7480/gw/", null, "b", "http://127.0.0.1:7480/", "/gw/b")]
    [InlineData("https://s3.example.com", false, "b", "https://b.s3.example.com/", "")]
    [InlineData(null, null, "b", "https://b.s3.eu-west-1.amazonaws.com/", "")]
    [InlineData(null, true, "b", "https://s3.eu-west-1.amazonaws.com/", "/b")]
    [InlineData(null, null, "my.bucket", "https://s3.eu-west-1.amazonaws.com/", "/my.bucket")]
    public void Requests_go_where_the_addressing_style_puts_the_bucket(string? endpoint, bool? pathStyle, string bucket, string baseUri, string prefix)
    {
        var (target, pathPrefix) = S3ObjectStore.ReadTarget(new S3StoreOptions
        {
            Bucket = bucket,
            Endpoint = endpoint is null ? null : new Uri(endpoint),
            PathStyle = pathStyle,
            Region = "eu-west-1",
        });
        Assert.Equal(baseUri, target.ToString());
        Assert.Equal(prefix, pathPrefix);
    }
}
