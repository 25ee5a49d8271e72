using ProxyFs.Host.Daemon;
using ProxyFs.ObjectStore;

namespace ProxyFs.Integration.Tests.Host;

/// <summary>Store failures a person fixes by hand end with what to do; the others keep the store's message alone.</summary>
public sealed class StoreErrorsTests
{
    private static ObjectStoreException Error(ObjectStoreErrorKind kind, string location, int status) =>
        new(kind, ObjectStoreOperation.Get, location, "volume", "the cause") { HttpStatus = status };

    [Fact]
    public void A_missing_bucket_says_to_create_it_or_fix_the_uri()
    {
        string line = StoreErrors.Describe(Error(ObjectStoreErrorKind.NoSuchBucket, "s3://b/p", 404));
        Assert.StartsWith("GET s3://b/p", line);
        Assert.EndsWith("the bucket does not exist: create it first or correct the bucket in the URI", line);
        Assert.Contains("the directory does not exist", StoreErrors.Describe(Error(ObjectStoreErrorKind.NoSuchBucket, "file:///srv/v", 0)));
    }

    [Fact]
    public void Refused_credentials_name_where_credentials_come_from()
    {
        string line = StoreErrors.Describe(Error(ObjectStoreErrorKind.AuthFailed, "s3://b/p", 403));
        Assert.Contains("the store refused the credentials: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", line);
        // Credentials that are missing altogether are explained by the store's own message.
        Assert.Null(StoreErrors.Hint(Error(ObjectStoreErrorKind.AuthFailed, "s3://b/p", 0)));
    }

    [Fact]
    public void An_endpoint_nothing_answers_on_says_to_check_it()
    {
        Assert.EndsWith("check the endpoint in the URI and that the store is up",
            StoreErrors.Describe(Error(ObjectStoreErrorKind.Transient, "s3://b/p", 0)));
    }

    [Fact]
    public void Other_failures_keep_the_message_alone()
    {
        ObjectStoreException e = Error(ObjectStoreErrorKind.PreconditionFailed, "s3://b/p", 412);
        Assert.Equal(e.Message, StoreErrors.Describe(e));
        Assert.Equal("plain", StoreErrors.Describe(new IOException("plain")));
    }
}
