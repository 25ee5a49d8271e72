using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;

namespace ProxyFs.ObjectStore.S3;

/// <summary>Maps what the AWS SDK and the HTTP stack throw to an <see cref="ObjectStoreException"/> with a kind.</summary>
internal static class S3Errors
{
    // An ObjectStoreException (an IOException) is already mapped: it passes as it is.
    public static bool IsStoreError(Exception e) =>
        e is not ObjectStoreException && e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or SocketException;

    public static ObjectStoreException Map(Exception e, ObjectStoreOperation operation, string location, string? key)
    {
        if (e is AmazonServiceException service && service.StatusCode != 0)
        {
            int status = (int)service.StatusCode;
            string code = service.ErrorCode ?? "";
            string detail = $"HTTP {status} {code}".TrimEnd() + (string.IsNullOrEmpty(service.Message) ? "" : ": " + service.Message)
                + (string.IsNullOrEmpty(service.RequestId) ? "" : $" (request {service.RequestId})");
            var kind = Classify(service.StatusCode, code);
            if (kind == ObjectStoreErrorKind.NotFound && operation is ObjectStoreOperation.Head or ObjectStoreOperation.Get && code.Length == 0)
            {
                detail = $"HTTP {status}: no such key";
            }
            return new ObjectStoreException(kind, operation, location, key, detail, e) { HttpStatus = status };
        }
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is HttpRequestException or SocketException or IOException)
            {
                bool notSent = FindSocketError(e) is SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.HostNotFound;
                return new ObjectStoreException(ObjectStoreErrorKind.Transient, operation, location, key,
                    $"cannot talk to the endpoint: {Describe(inner)}", e)
                { OutcomeUnknown = !notSent };
            }
        }
        return new ObjectStoreException(ObjectStoreErrorKind.Permanent, operation, location, key, $"{e.GetType().Name}: {e.Message}", e);
    }

    /// <summary>
    /// An error answer to a request sent without the SDK (<see cref="S3RequestSigner"/>): its status and the
    /// <c>Code</c>, <c>Message</c> and <c>RequestId</c> of S3's XML error body, classified as the SDK's exceptions are.
    /// </summary>
    public static ObjectStoreException FromResponse(int status, string body, ObjectStoreOperation operation, string location, string? key)
    {
        string code = XmlElement(body, "Code");
        string message = XmlElement(body, "Message");
        string requestId = XmlElement(body, "RequestId");
        var kind = Classify((HttpStatusCode)status, code);
        string detail = kind == ObjectStoreErrorKind.NotFound && code.Length == 0
            ? $"HTTP {status}: no such key"
            : $"HTTP {status} {code}".TrimEnd() + (message.Length == 0 ? "" : ": " + message) + (requestId.Length == 0 ? "" : $" (request {requestId})");
        return new ObjectStoreException(kind, operation, location, key, detail) { HttpStatus = status };
    }

    public static ObjectStoreException Timeout(ObjectStoreOperation operation, string location, string? key, TimeSpan timeout, Exception inner) =>
        new(ObjectStoreErrorKind.Transient, operation, location, key, $"no answer within {timeout.TotalSeconds:0.#} s", inner) { OutcomeUnknown = true };

    private static SocketError? FindSocketError(Exception e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException s)
            {
                return s.SocketErrorCode;
            }
        }
        return null;
    }

    private static ObjectStoreErrorKind Classify(HttpStatusCode status, string code)
    {
        switch (code)
        {
            case "NoSuchBucket":
                return ObjectStoreErrorKind.NoSuchBucket;
            case "NoSuchKey":
                return ObjectStoreErrorKind.NotFound;
            case "SlowDown" or "Throttling" or "ThrottlingException" or "RequestLimitExceeded" or "TooManyRequests":
                return ObjectStoreErrorKind.Throttled;
            case "RequestTimeout" or "ConditionalRequestConflict" or "OperationAborted" or "InternalError" or "ServiceUnavailable":
                return ObjectStoreErrorKind.Transient;
            case "InvalidAccessKeyId" or "SignatureDoesNotMatch" or "AccessDenied" or "ExpiredToken" or "InvalidToken" or "RequestTimeTooSkewed":
                return ObjectStoreErrorKind.AuthFailed;
        }
        int s = (int)status;
        return s switch
        {
            412 => ObjectStoreErrorKind.PreconditionFailed,
            404 => ObjectStoreErrorKind.NotFound,
            401 or 403 => ObjectStoreErrorKind.AuthFailed,
            429 or 503 => ObjectStoreErrorKind.Throttled,
            408 => ObjectStoreErrorKind.Transient,
            >= 500 => ObjectStoreErrorKind.Transient,
            _ => ObjectStoreErrorKind.Permanent,
        };
    }

    // The text of the first <name>…</name> of an S3 error body ("" when absent): the bodies are small and flat.
    private static string XmlElement(string body, string name)
    {
        int start = body.IndexOf("<" + name + ">", StringComparison.Ordinal);
        if (start < 0)
        {
            return "";
        }
        start += name.Length + 2;
        int end = body.IndexOf("</" + name + ">", start, StringComparison.Ordinal);
        return end < 0 ? "" : System.Net.WebUtility.HtmlDecode(body[start..end]).Trim();
    }

    private static string Describe(Exception e) => e switch
    {
        SocketException s => $"{s.SocketErrorCode} ({s.Message})",
        HttpRequestException { InnerException: SocketException s } h => $"{h.Message} ({s.SocketErrorCode})",
        _ => e.Message,
    };
}
