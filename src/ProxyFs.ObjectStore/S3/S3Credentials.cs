using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;

namespace ProxyFs.ObjectStore.S3;

/// <summary>
/// The standard AWS credential sources, in the AWS CLI's order: an explicit profile; else the environment
/// (<c>AWS_ACCESS_KEY_ID</c>, <c>AWS_SECRET_ACCESS_KEY</c>, <c>AWS_SESSION_TOKEN</c>); else the profile named by
/// <c>AWS_PROFILE</c> (or <c>default</c>) in the shared credentials file (<c>AWS_SHARED_CREDENTIALS_FILE</c> or
/// <c>~/.aws/credentials</c>). Instance and container metadata endpoints are deliberately not consulted: they are
/// network calls to addresses outside the configured endpoint. Secrets are never logged or put in messages.
/// </summary>
public static class S3Credentials
{
    /// <summary>The credentials for <paramref name="options"/>, or an <see cref="ObjectStoreErrorKind.AuthFailed"/> error naming what was tried.</summary>
    public static AWSCredentials Resolve(S3StoreOptions options, string location) => Resolve(options, location, Environment.GetEnvironmentVariable);

    /// <summary>As <see cref="Resolve(S3StoreOptions, string)"/>, reading the environment through <paramref name="environment"/>.</summary>
    internal static AWSCredentials Resolve(S3StoreOptions options, string location, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Credentials is not null)
        {
            return options.Credentials;
        }
        if (options.Profile is null)
        {
            string? key = environment("AWS_ACCESS_KEY_ID");
            string? secret = environment("AWS_SECRET_ACCESS_KEY");
            if (!string.IsNullOrEmpty(key) || !string.IsNullOrEmpty(secret))
            {
                if (string.IsNullOrEmpty(key) || string.IsNullOrEmpty(secret))
                {
                    throw new ObjectStoreException(ObjectStoreErrorKind.AuthFailed, ObjectStoreOperation.Open, location, null,
                        "only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set; set both");
                }
                string? token = environment("AWS_SESSION_TOKEN");
                return string.IsNullOrEmpty(token) ? new BasicAWSCredentials(key, secret) : new SessionAWSCredentials(key, secret, token);
            }
        }
        string profile = options.Profile ?? NonEmpty(environment("AWS_PROFILE")) ?? "default";
        string? file = NonEmpty(environment("AWS_SHARED_CREDENTIALS_FILE"));
        var chain = file is null ? new CredentialProfileStoreChain() : new CredentialProfileStoreChain(file);
        if (chain.TryGetAWSCredentials(profile, out var credentials))
        {
            return credentials;
        }
        throw new ObjectStoreException(ObjectStoreErrorKind.AuthFailed, ObjectStoreOperation.Open, location, null,
            options.Profile is null
                ? $"no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE naming a profile of {file ?? "~/.aws/credentials"} (profile '{profile}' was not found there)"
                : $"no credentials: the profile '{profile}' was not found in {file ?? "~/.aws/credentials"}");
    }

    private static string? NonEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
