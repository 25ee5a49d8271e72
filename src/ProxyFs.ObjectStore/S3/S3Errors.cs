using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;

namespace ProxyFs.ObjectStore.S3;

/// <summary>Maps what the AWS SDK and the HTTP stack throw to an <see cref="ObjectStoreException"/> with a kind.</summary>
internal static class S3Errors
{
    public static bool IsStoreError(Exception e) =>
        e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or SocketException;

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

    private static string Describe(Exception e) => e switch
    {
        SocketException s => $"{s.SocketErrorCode} ({s.Message})",
        HttpRequestException { InnerException: SocketException s } h => $"{h.Message} ({s.SocketErrorCode})",
        _ => e.Message,
    };
}
