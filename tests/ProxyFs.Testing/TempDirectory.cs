using System.Runtime.CompilerServices;

namespace ProxyFs.Testing;

/// <summary>
/// A fresh directory for one test, on tmpfs (/dev/shm) when the machine has it, named after the test
/// ([CallerMemberName]) so leftovers are easy to attribute; removed with everything in it on Dispose.
/// </summary>
public sealed class TempDirectory : IDisposable
{
    private static int _counter;

    private TempDirectory(string path)
    {
        Path = path;
    }

    public string Path { get; }

    /// <summary>The parent of every test directory: /dev/shm/proxyfs-tests, or the temp directory without tmpfs.</summary>
    public static string Root { get; } = System.IO.Path.Combine(
        Directory.Exists("/dev/shm") ? "/dev/shm" : System.IO.Path.GetTempPath(), "proxyfs-tests");

    public static TempDirectory Create([CallerMemberName] string name = "")
    {
        string safe = string.Concat(name.Select(ch => char.IsLetterOrDigit(ch) || ch is '-' or '_' ? ch : '_'));
        string path = System.IO.Path.Combine(Root, $"{safe}-{Environment.ProcessId}-{Interlocked.Increment(ref _counter)}");
        Directory.CreateDirectory(path);
        // Scenarios act as other users: they must be able to reach the directory.
        Posix.Native.Chmod(Root, 0x3FF);
        Posix.Native.Chmod(path, 0x1ED);
        return new TempDirectory(path);
    }

    public override string ToString() => Path;

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
