using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ProxyFs.ObjectStore.S3;

/// <summary>
/// AWS Signature Version 4 for bodiless S3 requests (GET, HEAD) signed in the Authorization header: the canonical
/// request over the method, the URI-encoded path, no query, and the headers host, range (when sent),
/// x-amz-content-sha256 (the hash of the empty body), x-amz-date and x-amz-security-token (with session credentials).
/// The signing key depends only on the day, the region and the secret, so it is derived once per day.
/// </summary>
/// <remarks>
/// The read path sends its GETs this way rather than through the SDK's request pipeline: a cold read makes hundreds of
/// ranged GETs per GiB, and the pipeline's per-request work (and, in a fresh daemon, recompiling it) was a large part of
/// the daemon's CPU (docs/ARCHITECTURE.md, "The read path's GETs").
/// </remarks>
internal sealed class S3RequestSigner(string region)
{
    /// <summary>SHA-256 of the empty body, as x-amz-content-sha256 of a GET or HEAD.</summary>
    public const string EmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    private readonly Lock _lock = new();
    private (string Day, string Secret, byte[] Key)? _signingKey;

    /// <summary>The headers to send with a request for <paramref name="path"/> (already URI-encoded) on <paramref name="host"/>.</summary>
    /// <param name="method">GET or HEAD.</param>
    /// <param name="host">The Host header exactly as sent (with the port when it is not the scheme's default).</param>
    /// <param name="path">The request path, URI-encoded as sent (see <see cref="EncodePath"/>).</param>
    /// <param name="range">The Range header value, or null.</param>
    /// <param name="accessKey">The access key id.</param>
    /// <param name="secretKey">The secret key.</param>
    /// <param name="sessionToken">The session token of temporary credentials, or null.</param>
    /// <param name="now">The request time (UTC).</param>
    public SignedHeaders Sign(string method, string host, string path, string? range, string accessKey, string secretKey, string? sessionToken, DateTime now)
    {
        string amzDate = now.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        string day = amzDate[..8];
        var canonical = new StringBuilder(256);
        canonical.Append(method).Append('\n').Append(path).Append("\n\n");
        canonical.Append("host:").Append(host).Append('\n');
        if (range is not null)
        {
            canonical.Append("range:").Append(range).Append('\n');
        }
        canonical.Append("x-amz-content-sha256:").Append(EmptyPayloadHash).Append('\n');
        canonical.Append("x-amz-date:").Append(amzDate).Append('\n');
        if (sessionToken is not null)
        {
            canonical.Append("x-amz-security-token:").Append(sessionToken).Append('\n');
        }
        string signedHeaders = (range is null ? "host;" : "host;range;") + "x-amz-content-sha256;x-amz-date" + (sessionToken is null ? "" : ";x-amz-security-token");
        canonical.Append('\n').Append(signedHeaders).Append('\n').Append(EmptyPayloadHash);

        string scope = $"{day}/{region}/s3/aws4_request";
        string stringToSign = "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString())));
        string signature = Hex(HMACSHA256.HashData(SigningKey(day, secretKey), Encoding.UTF8.GetBytes(stringToSign)));
        return new SignedHeaders(amzDate, $"AWS4-HMAC-SHA256 Credential={accessKey}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}");
    }

    /// <summary>
    /// <paramref name="key"/> as an S3 request path segment: every UTF-8 byte but the unreserved characters
    /// (A–Z a–z 0–9 - . _ ~) and '/' percent-encoded with upper-case hex, once (S3 does not double-encode).
    /// </summary>
    public static string EncodePath(string key)
    {
        var bytes = Encoding.UTF8.GetBytes(key);
        var sb = new StringBuilder(bytes.Length + 16);
        foreach (byte b in bytes)
        {
            if (b is (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'a' and <= (byte)'z') or (>= (byte)'0' and <= (byte)'9') or (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~' or (byte)'/')
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }
        return sb.ToString();
    }

    private byte[] SigningKey(string day, string secret)
    {
        lock (_lock)
        {
            if (_signingKey is { } cached && cached.Day == day && cached.Secret == secret)
            {
                return cached.Key;
            }
            byte[] key = HMACSHA256.HashData(Encoding.UTF8.GetBytes("AWS4" + secret), Encoding.UTF8.GetBytes(day));
            key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(region));
            key = HMACSHA256.HashData(key, "s3"u8);
            key = HMACSHA256.HashData(key, "aws4_request"u8);
            _signingKey = (day, secret, key);
            return key;
        }
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}

/// <summary>The x-amz-date and Authorization headers of a signed request.</summary>
internal readonly record struct SignedHeaders(string AmzDate, string Authorization);
