using System.Runtime.CompilerServices;
using ProxyFs.Host.Daemon;

namespace ProxyFs.Integration.Tests.Support;

/// <summary>
/// A unique, empty directory to mount on (/tmp/proxyfs-test-&lt;test&gt;-&lt;random&gt;, the prefix the CI cleanup
/// looks for). Dispose detaches any mount still on it, lazily, and removes it: a failing test never leaves a
/// mount behind.
/// </summary>
public sealed class TestMountPoint : IDisposable
{
    public TestMountPoint([CallerMemberName] string test = "")
    {
        string name = new(test.Where(char.IsLetterOrDigit).Take(40).ToArray());
        Path = System.IO.Path.Combine("/tmp", $"proxyfs-test-{name}-{Guid.NewGuid():N}"[..Math.Min(80, 24 + name.Length + 12)]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public bool IsMounted => MountTable.Find(Path) is not null;

    public void Dispose()
    {
        for (int i = 0; i < 5 && IsMounted; i++)
        {
            Native.LazyUnmount(Path);
        }
        try
        {
            Directory.Delete(Path, recursive: false);
        }
        catch (IOException)
        {
            // Still busy or not empty: left for the run's cleanup, never a reason to fail the test here.
        }
    }
}

internal static partial class Native
{
    [System.Runtime.InteropServices.LibraryImport("libc", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
    private static partial int umount2(string target, int flags);

    public static void LazyUnmount(string path) => umount2(path, 2 /* MNT_DETACH */);
}
