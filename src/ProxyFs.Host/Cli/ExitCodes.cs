namespace ProxyFs.Host.Cli;

/// <summary>Exit codes of the proxyfs command, documented in docs/CLI.md (32 for a failed mount, as mount(8)).</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int MountFailed = 32;
}
