namespace ProxyFs.Host.Daemon;

/// <summary>Settings of the running kernel that the filesystem follows so that it behaves as a local filesystem would.</summary>
internal static class HostKernel
{
    private const string ProtectedHardlinksPath = "/proc/sys/fs/protected_hardlinks";

    /// <summary>
    /// fs.protected_hardlinks: whether the kernel restricts hard links to files the caller does not own. The
    /// filesystem applies the same rule where the kernel does not (mounts without default_permissions). When the
    /// setting cannot be read the rule stays on, the safe side and the default of every mainstream distribution.
    /// </summary>
    public static bool ProtectedHardlinks => ReadFlag(ProtectedHardlinksPath) ?? true;

    private static bool? ReadFlag(string path)
    {
        try
        {
            string text = File.ReadAllText(path).Trim();
            return text.Length == 0 ? null : text != "0";
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
