using ProxyFs.Host.Cli;

namespace ProxyFs.Host.Daemon;

/// <summary>What `proxyfs mount` was asked to do.</summary>
public sealed record MountRequest(string Uri, string MountPoint, MountOptions Options);
