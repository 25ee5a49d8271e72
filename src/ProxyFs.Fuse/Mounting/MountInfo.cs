using System.Globalization;
using System.Text;

namespace ProxyFs.Fuse.Mounting;

/// <summary>One line of /proc/self/mountinfo.</summary>
internal sealed record MountInfoEntry(int Major, int Minor, string MountPoint, string FileSystemType, string Source)
{
    /// <summary>"major:minor", as /sys/class/bdi names the mount's backing device.</summary>
    public string Device => Major.ToString(CultureInfo.InvariantCulture) + ":" + Minor.ToString(CultureInfo.InvariantCulture);

    /// <summary>The connection's directory name under /sys/fs/fuse/connections (the kernel's dev_t).</summary>
    public uint ConnectionId => ((uint)Major << 20) | (uint)Minor;

    public bool IsFuse => FileSystemType == "fuse" || FileSystemType.StartsWith("fuse.", StringComparison.Ordinal)
        || FileSystemType == "fuseblk" || FileSystemType.StartsWith("fuseblk.", StringComparison.Ordinal);
}

internal static class MountInfo
{
    public const string SelfPath = "/proc/self/mountinfo";

    public static IReadOnlyList<MountInfoEntry> Read(string path = SelfPath) => Parse(File.ReadAllLines(path));

    /// <summary>The topmost mount at <paramref name="mountPoint"/> (a canonical path), or null.</summary>
    public static MountInfoEntry? Find(string mountPoint, string path = SelfPath)
    {
        MountInfoEntry? found = null;
        foreach (var entry in Read(path))
        {
            if (entry.MountPoint == mountPoint)
            {
                found = entry; // later lines are mounted on top of earlier ones
            }
        }
        return found;
    }

    /// <summary>"36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw": fields 3 and 5, then after "-".</summary>
    public static IReadOnlyList<MountInfoEntry> Parse(IEnumerable<string> lines)
    {
        var result = new List<MountInfoEntry>();
        foreach (string line in lines)
        {
            string[] fields = line.Split(' ');
            int separator = fields.Length < 10 ? -1 : Array.IndexOf(fields, "-", 6);
            if (separator < 0 || separator + 2 >= fields.Length)
            {
                continue;
            }
            string[] device = fields[2].Split(':');
            if (device.Length != 2
                || !int.TryParse(device[0], NumberStyles.None, CultureInfo.InvariantCulture, out int major)
                || !int.TryParse(device[1], NumberStyles.None, CultureInfo.InvariantCulture, out int minor))
            {
                continue;
            }
            result.Add(new MountInfoEntry(major, minor, Unescape(fields[4]), fields[separator + 1], Unescape(fields[separator + 2])));
        }
        return result;
    }

    /// <summary>The kernel writes space, tab, newline and backslash as \040, \011, \012, \134.</summary>
    public static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }
        var bytes = new List<byte>(field.Length);
        byte[] raw = Encoding.UTF8.GetBytes(field);
        for (int i = 0; i < raw.Length; i++)
        {
            if (raw[i] == '\\' && i + 3 < raw.Length && IsOctal(raw[i + 1]) && IsOctal(raw[i + 2]) && IsOctal(raw[i + 3]))
            {
                bytes.Add((byte)(((raw[i + 1] - '0') << 6) | ((raw[i + 2] - '0') << 3) | (raw[i + 3] - '0')));
                i += 3;
            }
            else
            {
                bytes.Add(raw[i]);
            }
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private static bool IsOctal(byte b) => b >= '0' && b <= '7';
}
