using ProxyFs.Host.Config;

namespace ProxyFs.Integration.Tests.Host;

/// <summary>Credentials files: mode 0600 or stricter, the two formats, and values never in a message.</summary>
public sealed class CredentialsFileTests : IDisposable
{
    private const string Secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    private readonly string _dir = Directory.CreateTempSubdirectory("proxyfs-test-credentials-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string text, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        string path = Path.Combine(_dir, Guid.NewGuid().ToString("N"));
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, mode);
        return path;
    }

    [Fact]
    public void An_environment_file_gives_the_aws_variables()
    {
        string path = Write($"# proxyfs\nexport AWS_ACCESS_KEY_ID=AKIDEXAMPLE\nAWS_SECRET_ACCESS_KEY=\"{Secret}\"\n\nAWS_SESSION_TOKEN='tok'\n");
        IReadOnlyDictionary<string, string> v = CredentialsFile.Read(path);
        Assert.Equal("AKIDEXAMPLE", v["AWS_ACCESS_KEY_ID"]);
        Assert.Equal(Secret, v["AWS_SECRET_ACCESS_KEY"]);
        Assert.Equal("tok", v["AWS_SESSION_TOKEN"]);
    }

    [Fact]
    public void A_shared_credentials_file_is_handed_to_the_aws_chain_by_path()
    {
        string path = Write($"[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = {Secret}\n");
        Assert.Equal(path, CredentialsFile.Read(path)["AWS_SHARED_CREDENTIALS_FILE"]);
    }

    [Theory]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, "0640")]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead, "0604")]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, "0644")]
    public void A_file_others_can_read_is_refused_with_the_fix(UnixFileMode mode, string octal)
    {
        string path = Write($"AWS_ACCESS_KEY_ID=AKIDEXAMPLE\nAWS_SECRET_ACCESS_KEY={Secret}\n", mode);
        string message = Assert.Throws<ConfigException>(() => CredentialsFile.Read(path)).Message;
        Assert.Equal($"credentials file {path} has mode {octal}; it must be readable by its owner only (0600 or stricter): chmod 600 {path}", message);
    }

    [Fact]
    public void Mode_0400_is_accepted()
    {
        string path = Write($"AWS_ACCESS_KEY_ID=AKIDEXAMPLE\nAWS_SECRET_ACCESS_KEY={Secret}\n", UnixFileMode.UserRead);
        Assert.Equal(2, CredentialsFile.Read(path).Count);
    }

    [Fact]
    public void A_missing_file_or_a_directory_is_refused()
    {
        string missing = Path.Combine(_dir, "missing");
        Assert.Equal($"credentials file {missing} does not exist", Assert.Throws<ConfigException>(() => CredentialsFile.Read(missing)).Message);
        Assert.Contains("is not a regular file", Assert.Throws<ConfigException>(() => CredentialsFile.Read(_dir)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("AWS_ACCESS_KEY_ID=AKIDEXAMPLE\n", "set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")]
    [InlineData("# nothing\n", "no credentials in it")]
    [InlineData("AWS_SECRET_ACCESS_KEY=" + Secret + "\nAWS_SECRET_ACCESS_KEY=" + Secret + "\n", ":2: AWS_SECRET_ACCESS_KEY is set twice")]
    [InlineData("AWS_REGION=us-east-1\n", ":1: unknown variable 'AWS_REGION'")]
    [InlineData(Secret + "\n", ":1: expected NAME=VALUE")]
    public void Mistakes_name_the_line_never_the_secret(string text, string expected)
    {
        string path = Write(text);
        string message = Assert.Throws<ConfigException>(() => CredentialsFile.Read(path)).Message;
        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, message, StringComparison.Ordinal);
    }
}
