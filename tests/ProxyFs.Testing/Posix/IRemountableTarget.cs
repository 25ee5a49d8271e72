namespace ProxyFs.Testing.Posix;

/// <summary>A target whose filesystem can be unmounted and mounted again mid-run (what survives is what a remount keeps).</summary>
public interface IRemountableTarget
{
    /// <summary>Unmounts and mounts again; descriptors are closed first by the caller.</summary>
    void Remount();
}
