namespace ProxyFs.Host.Daemon;

/// <summary>One line of /proc/self/mountinfo that matters here.</summary>
public sealed record MountEntry(string MountPoint, string FsType, string Source);

/// <summary>Reads /proc/self/mountinfo (mount points are octal-escaped there: \040 for a space).</summary>
public static class MountTable
{
    public static IReadOnlyList<MountEntry> Read()
    {
        var result = new List<MountEntry>();
        foreach (string line in File.ReadLines("/proc/self/mountinfo"))
        {
            // id parent major:minor root mountpoint options [optional fields…] - fstype source superoptions
            string[] f = line.Split(' ');
            int dash = Array.IndexOf(f, "-");
            if (f.Length < 5 || dash < 0 || dash + 2 >= f.Length)
            {
                continue;
            }
            result.Add(new MountEntry(Unescape(f[4]), f[dash + 1], Unescape(f[dash + 2])));
        }
        return result;
    }

    /// <summary>The topmost mount at exactly <paramref name="mountPoint"/>, if any.</summary>
    public static MountEntry? Find(string mountPoint) => Read().LastOrDefault(m => m.MountPoint == mountPoint);

    public static bool IsFuse(MountEntry m) => m.FsType == "fuse" || m.FsType.StartsWith("fuse.", StringComparison.Ordinal);

    private static string Unescape(string s)
    {
        if (!s.Contains('\\', StringComparison.Ordinal))
        {
            return s;
        }
        var sb = new System.Text.StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 3 < s.Length && IsOctal(s[i + 1]) && IsOctal(s[i + 2]) && IsOctal(s[i + 3]))
            {
                sb.Append((char)(((s[i + 1] - '0') * 64) + ((s[i + 2] - '0') * 8) + (s[i + 3] - '0')));
                i += 3;
            }
            else
            {
                sb.Append(s[i]);
            }
        }
        return sb.ToString();
    }

    private static bool IsOctal(char c) => c is >= '0' and <= '7';
}
