namespace ProxyFs.Core.FileSystem;

/// <summary>Answers whether a process belongs to a supplementary group (the kernel does not send them).</summary>
public interface ISupplementaryGroups
{
    bool Contains(int pid, uint gid);
}

/// <summary>Who makes a request: the credentials permission checks and new inodes' ownership come from.</summary>
public readonly struct Caller
{
    private readonly ISupplementaryGroups? _groups;

    public Caller(uint uid, uint gid, int pid, ISupplementaryGroups? groups = null)
    {
        Uid = uid;
        Gid = gid;
        Pid = pid;
        _groups = groups;
    }

    /// <summary>The filesystem itself: root, for internal work and tests.</summary>
    public static Caller Root => new(0, 0, 0);

    public uint Uid { get; }
    public uint Gid { get; }
    public int Pid { get; }
    public bool IsRoot => Uid == 0;

    /// <summary>True when <paramref name="gid"/> is the caller's group or one of its supplementary groups.</summary>
    public bool IsInGroup(uint gid) => gid == Gid || (_groups is not null && _groups.Contains(Pid, gid));

    public override string ToString() => $"uid={Uid} gid={Gid} pid={Pid}";
}
