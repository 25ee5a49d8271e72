using System.Text;

namespace ProxyFs.Host.Cli;

/// <summary>
/// proxyfs invoked as a mount(8) helper: /sbin/mount.proxyfs (for `mount -t proxyfs`) or /sbin/mount.fuse.proxyfs
/// (for `mount -t fuse.proxyfs` and fstab lines of that type). mount(8) calls it as
/// <c>mount.proxyfs SOURCE DIR [-sfnv] [-N ns] [-o OPTIONS] [-t TYPE]</c>; this turns that into
/// <c>proxyfs mount SOURCE DIR -o OPTIONS</c> (detached, returning once the mount answers).
/// </summary>
public static class MountHelper
{
    /// <summary>The name the process was started under (argv[0]), which .NET does not otherwise expose.</summary>
    public static string InvokedName()
    {
        try
        {
            byte[] cmdline = File.ReadAllBytes("/proc/self/cmdline");
            int end = Array.IndexOf(cmdline, (byte)0);
            return Path.GetFileName(Encoding.UTF8.GetString(cmdline, 0, end < 0 ? cmdline.Length : end));
        }
        catch (IOException)
        {
            return "proxyfs";
        }
    }

    public static bool IsMountHelperName(string name) => name is "mount.proxyfs" or "mount.fuse.proxyfs";

    /// <summary>
    /// Translates the helper's arguments. Returns null and a message for bad usage. mount(8)'s -f (fake) means
    /// do nothing; -s (sloppy) drops options proxyfs does not know instead of failing.
    /// </summary>
    public static string[]? Translate(IReadOnlyList<string> args, out bool fake, out string error)
    {
        fake = false;
        error = "";
        var positional = new List<string>();
        var options = new List<string>();
        bool sloppy = false;
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (a == "-o" && i + 1 < args.Count)
            {
                options.Add(args[++i]);
            }
            else if (a.StartsWith("-o", StringComparison.Ordinal) && a.Length > 2)
            {
                options.Add(a[2..]);
            }
            else if ((a == "-t" || a == "-N") && i + 1 < args.Count)
            {
                i++;
            }
            else if (a.StartsWith('-') && a.Length > 1 && a.Skip(1).All(c => c is 's' or 'f' or 'n' or 'v'))
            {
                sloppy |= a.Contains('s', StringComparison.Ordinal);
                fake |= a.Contains('f', StringComparison.Ordinal);
            }
            else if (a.StartsWith('-') && a.Length > 1)
            {
                error = $"unknown argument '{a}'";
                return null;
            }
            else
            {
                positional.Add(a);
            }
        }
        if (positional.Count != 2)
        {
            error = "usage: mount.proxyfs SOURCE-URI MOUNTPOINT [-o options]";
            return null;
        }
        var result = new List<string> { "mount", positional[0], positional[1] };
        string joined = string.Join(',', options.SelectMany(o => o.Split(',', StringSplitOptions.RemoveEmptyEntries)));
        if (sloppy)
        {
            joined = string.Join(',', joined.Split(',', StringSplitOptions.RemoveEmptyEntries).Where(MountOptions.IsKnown));
        }
        if (joined.Length > 0)
        {
            result.Add("-o");
            result.Add(joined);
        }
        return [.. result];
    }
}
