using System.Runtime.InteropServices;

namespace ProxyFs.Host.Config;

/// <summary>
/// A file of credentials for s3:// stores, named by credentials_file. Two forms:
/// <list type="bullet">
/// <item>an environment file: <c>AWS_ACCESS_KEY_ID=…</c>, <c>AWS_SECRET_ACCESS_KEY=…</c>, optionally
/// <c>AWS_SESSION_TOKEN=…</c> or <c>AWS_PROFILE=…</c> (one per line; <c>export</c>, quotes and # comments allowed);</item>
/// <item>an AWS shared credentials file (<c>[default]</c> sections, as ~/.aws/credentials), used as
/// AWS_SHARED_CREDENTIALS_FILE.</item>
/// </list>
/// The file must be a regular file owned by root or by the user running proxyfs, readable by no one else (mode 0600
/// or stricter), or it is refused. Values are never logged or put in messages: errors name the line, not its content.
/// </summary>
public static partial class CredentialsFile
{
    /// <summary>The variables an environment-style credentials file may set.</summary>
    public static IReadOnlyList<string> AllowedVariables { get; } =
        ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"];

    /// <summary>Checks the file's type, owner and mode without reading it. Throws <see cref="ConfigException"/>.</summary>
    public static void CheckPermissions(string path)
    {
        FileStatus st = Stat(path);
        if (!st.IsRegularFile)
        {
            throw new ConfigException($"credentials file {path} is not a regular file");
        }
        uint euid = geteuid();
        if (st.Uid != 0 && st.Uid != euid)
        {
            throw new ConfigException($"credentials file {path} is owned by uid {st.Uid}; it must belong to root or to the user running proxyfs (uid {euid}): chown {euid} {path}");
        }
        if ((st.Mode & 0x3F /* 077 */) != 0)
        {
            throw new ConfigException($"credentials file {path} has mode {Convert.ToString(st.Mode & 0xFFF, 8).PadLeft(4, '0')}; it must be readable by its owner only (0600 or stricter): chmod 600 {path}");
        }
    }

    /// <summary>
    /// Checks <paramref name="path"/> and reads it: the environment variables that hand its credentials to the AWS
    /// credential chain. Throws <see cref="ConfigException"/>.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Read(string path)
    {
        CheckPermissions(path);
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"credentials file {path}: cannot read it: {e.Message}");
        }
        if (lines.Any(l => l.TrimStart().StartsWith('[')))
        {
            return new Dictionary<string, string>(StringComparer.Ordinal) { ["AWS_SHARED_CREDENTIALS_FILE"] = path };
        }
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            if (line.StartsWith("export ", StringComparison.Ordinal))
            {
                line = line["export ".Length..].TrimStart();
            }
            int eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new ConfigException($"credentials file {path}:{i + 1}: expected NAME=VALUE (or an AWS credentials file with [profile] sections)");
            }
            string name = line[..eq].Trim();
            string value = Unquote(line[(eq + 1)..].Trim());
            if (!AllowedVariables.Contains(name))
            {
                throw new ConfigException($"credentials file {path}:{i + 1}: unknown variable '{(name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') ? name : "?")}'; expected {string.Join(", ", AllowedVariables)}");
            }
            if (!result.TryAdd(name, value))
            {
                throw new ConfigException($"credentials file {path}:{i + 1}: {name} is set twice");
            }
        }
        if (result.ContainsKey("AWS_ACCESS_KEY_ID") != result.ContainsKey("AWS_SECRET_ACCESS_KEY"))
        {
            throw new ConfigException($"credentials file {path}: set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (only one is there)");
        }
        if (result.Count == 0)
        {
            throw new ConfigException($"credentials file {path}: no credentials in it (expected AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)");
        }
        return result;
    }

    /// <summary>Reads the file and puts its variables in this process's environment, where the AWS chain finds them.</summary>
    /// <returns>The names of the variables set (never their values).</returns>
    public static IReadOnlyList<string> Apply(string path)
    {
        IReadOnlyDictionary<string, string> variables = Read(path);
        foreach (var (name, value) in variables)
        {
            Environment.SetEnvironmentVariable(name, value);
        }
        if (variables.ContainsKey("AWS_ACCESS_KEY_ID") && !variables.ContainsKey("AWS_SESSION_TOKEN"))
        {
            // A session token inherited from elsewhere would not belong to these keys.
            Environment.SetEnvironmentVariable("AWS_SESSION_TOKEN", null);
        }
        return [.. variables.Keys.Order(StringComparer.Ordinal)];
    }

    private static string Unquote(string v) =>
        v.Length >= 2 && ((v[0] == '"' && v[^1] == '"') || (v[0] == '\'' && v[^1] == '\'')) ? v[1..^1] : v;

    private readonly record struct FileStatus(uint Uid, uint Mode)
    {
        public bool IsRegularFile => (Mode & 0xF000) == 0x8000;
    }

    private static FileStatus Stat(string path)
    {
        // statx: the same struct layout on every architecture (struct stat is not).
        Span<byte> buffer = stackalloc byte[256];
        int r;
        unsafe
        {
            fixed (byte* p = buffer)
            {
                r = statx(AtFdCwd, path, 0, StatxMode | StatxUid, p);
            }
        }
        if (r != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new ConfigException(errno switch
            {
                2 => $"credentials file {path} does not exist",
                13 => $"credentials file {path}: permission denied",
                _ => $"credentials file {path}: cannot examine it (errno {errno})",
            });
        }
        uint uid = BitConverter.ToUInt32(buffer[20..24]);
        uint mode = BitConverter.ToUInt16(buffer[28..30]);
        return new FileStatus(uid, mode);
    }

    private const int AtFdCwd = -100;
    private const uint StatxMode = 0x2;
    private const uint StatxUid = 0x8;

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc")]
    private static partial uint geteuid();
}
