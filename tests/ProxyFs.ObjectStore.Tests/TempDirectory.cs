using System.Runtime.CompilerServices;

namespace ProxyFs.ObjectStore.Tests;

/// <summary>A unique directory under the temp directory, removed on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory([CallerMemberName] string name = "")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"proxyfs-os-{name}-{Guid.NewGuid():N}");
    }

    /// <summary>The directory (not created: the file store creates its root).</summary>
    public string Path { get; }

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
