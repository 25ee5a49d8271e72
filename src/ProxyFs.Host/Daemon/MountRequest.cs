using ProxyFs.Host.Cli;

namespace ProxyFs.Host.Daemon;

/// <summary>What `proxyfs mount` was asked to do.</summary>
public sealed record MountRequest(string Uri, string MountPoint, MountOptions Options)
{
    /// <summary>What the configuration adds: daemon-wide settings, the volume's name, its read cache share (Config/MountSettings.cs).</summary>
    public Config.MountSettings Settings { get; init; } = Config.MountSettings.Default;
}
