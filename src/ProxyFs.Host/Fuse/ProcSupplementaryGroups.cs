using System.Globalization;
using ProxyFs.Core.FileSystem;

namespace ProxyFs.Host.Fuse;

/// <summary>
/// Supplementary groups of the requesting thread, read from /proc/&lt;pid&gt;/status ("Groups:"), since the FUSE
/// request carries only uid, gid and pid. Read on demand: only a permission check that the owner and primary
/// group did not decide gets here, and group membership can change at any time, so nothing is cached.
/// </summary>
internal sealed class ProcSupplementaryGroups : ISupplementaryGroups
{
    public static readonly ProcSupplementaryGroups Instance = new();

    public bool Contains(int pid, uint gid)
    {
        if (pid <= 0)
        {
            return false;
        }
        string path = "/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/status";
        try
        {
            foreach (string line in File.ReadLines(path))
            {
                if (!line.StartsWith("Groups:", StringComparison.Ordinal))
                {
                    continue;
                }
                ReadOnlySpan<char> rest = line.AsSpan(7);
                foreach (Range r in rest.Split(' '))
                {
                    ReadOnlySpan<char> field = rest[r].Trim();
                    if (field.Length > 0 && uint.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out uint g) && g == gid)
                    {
                        return true;
                    }
                }
                return false;
            }
        }
        catch (IOException)
        {
            // The process has exited: it belongs to no group any more.
        }
        catch (UnauthorizedAccessException)
        {
            // Unreadable status (another user's process, daemon not root): membership cannot be shown.
        }
        return false;
    }
}
