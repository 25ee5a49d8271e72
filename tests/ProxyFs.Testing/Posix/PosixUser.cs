namespace ProxyFs.Testing.Posix;

/// <summary>The identity an operation is performed as: uid, primary gid and supplementary groups.</summary>
public sealed record PosixUser(uint Uid, uint Gid, params uint[] Groups)
{
    public static readonly PosixUser Root = new(0, 0);

    /// <summary>An ordinary user.</summary>
    public static readonly PosixUser Alice = new(1000, 1000);

    /// <summary>Another user, also a member of Alice's group.</summary>
    public static readonly PosixUser Bob = new(1001, 1001, 1000);

    /// <summary>A user sharing no group with the others.</summary>
    public static readonly PosixUser Carol = new(1002, 1002);

    public bool IsRoot => Uid == 0;

    public bool IsInGroup(uint gid) => gid == Gid || Array.IndexOf(Groups, gid) >= 0;

    public override string ToString() => Groups.Length == 0
        ? $"{Uid}:{Gid}"
        : $"{Uid}:{Gid}+{string.Join(",", Groups)}";

    public bool Equals(PosixUser? other) =>
        other is not null && Uid == other.Uid && Gid == other.Gid && Groups.AsSpan().SequenceEqual(other.Groups);

    public override int GetHashCode() => HashCode.Combine(Uid, Gid, Groups.Length);
}
