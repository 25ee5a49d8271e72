using ProxyFs.Core.FileSystem;
using ProxyFs.Core.FileSystem.Memory;

namespace ProxyFs.Host.Daemon;

/// <summary>A filesystem opened from a URI, and what to call it in logs and status.</summary>
public sealed record OpenedVolume(IFileSystem FileSystem, string Description, string FsName) : IDisposable
{
    public void Dispose() => (FileSystem as IDisposable)?.Dispose();
}

/// <summary>A URI that names no volume this build can open.</summary>
public sealed class VolumeUriException(string message) : Exception(message);

/// <summary>
/// Opens the filesystem a URI names. The host is the only layer that knows concrete filesystems and stores:
/// memory:// is the in-memory reference filesystem (nothing persists).
/// </summary>
public static class VolumeFactory
{
    public static OpenedVolume Open(string uri)
    {
        if (!System.Uri.TryCreate(uri, UriKind.Absolute, out Uri? parsed))
        {
            throw new VolumeUriException($"'{uri}' is not a URI; expected memory://, file:///path or s3://bucket/prefix");
        }
        return parsed.Scheme switch
        {
            "memory" => new OpenedVolume(new MemoryFileSystem(), "memory:// (in-memory, not persistent)", "proxyfs-memory"),
            "file" or "s3" => throw new VolumeUriException(
                $"'{uri}': volumes on {parsed.Scheme}:// stores are not in this build yet; use memory://"),
            _ => throw new VolumeUriException($"'{uri}': unknown scheme '{parsed.Scheme}'; expected memory://, file:// or s3://"),
        };
    }
}
