namespace ProxyFs.Host.Cli;

/// <summary>
/// Exit codes of the proxyfs command, documented in docs/CLI.md and proxyfs(1): 32 for a failed mount, as mount(8);
/// 78 for a configuration error, as sysexits' EX_CONFIG (the unit does not restart on it).
/// </summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int MountFailed = 32;
    public const int Config = 78;
}
