using ProxyFs.Core.FileSystem;

namespace ProxyFs.Core.Tests.Memory;

/// <summary>The permission matrix: owner, group (with supplementary groups), other, root.</summary>
public sealed class PermissionTests
{
    private sealed class Groups(params uint[] gids) : ISupplementaryGroups
    {
        public bool Contains(int pid, uint gid) => Array.IndexOf(gids, gid) >= 0;
    }

    private static readonly Caller Owner = new(1000, 1000, 10);
    private static readonly Caller GroupMember = new(1001, 1001, 11, new Groups(1000));
    private static readonly Caller Other = new(1002, 1002, 12);

    public static IEnumerable<object[]> Matrix()
    {
        // mode, caller, mask, expected (R=4 W=2 X=1)
        (uint Mode, string Who, int Mask, bool Allowed)[] rows =
        [
            (0x180 /*600*/, "owner", 6, true), (0x180, "group", 4, false), (0x180, "other", 4, false), (0x180, "root", 6, true),
            (0x1A0 /*640*/, "group", 4, true), (0x1A0, "group", 2, false), (0x1A0, "other", 4, false),
            (0x184 /*604*/, "group", 4, false), (0x184, "other", 4, true),
            (0x038 /*070*/, "owner", 4, false), (0x038, "group", 7, true),
            (0x000, "root", 6, true), (0x000, "root", 1, false), (0x040 /*100*/, "root", 1, true), (0x008 /*010*/, "root", 1, true),
            (0x1ED /*755*/, "other", 5, true), (0x1ED, "other", 2, false),
        ];
        return rows.Select(r => new object[] { r.Mode, r.Who, r.Mask, r.Allowed });
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public void Access_follows_the_matrix(uint mode, string who, int mask, bool allowed)
    {
        var m = new MemFs();
        (ulong ino, ulong h) = m.Create(MemFs.Root, "f", mode, Owner);
        m.Fs.Release(ino, h);
        Caller caller = who switch
        {
            "owner" => Owner,
            "group" => GroupMember,
            "other" => Other,
            _ => Caller.Root,
        };
        Assert.Equal(allowed ? 0 : Errno.EACCES, m.Fs.Access(caller, ino, mask));
    }

    [Fact]
    public void Sticky_directory_protects_other_users_entries()
    {
        var m = new MemFs();
        ulong tmp = m.MkDir(MemFs.Root, "tmp", 0x3FF /*1777*/);
        (ulong ino, ulong h) = m.Create(tmp, "mine", 0x1B6, Owner);
        m.Fs.Release(ino, h);
        Assert.Equal(Errno.EPERM, m.Fs.Unlink(Other, tmp, MemFs.N("mine")));
        Assert.Equal(Errno.EPERM, m.Fs.Rename(Other, tmp, MemFs.N("mine"), tmp, MemFs.N("theirs"), RenameFlags.None));
        Assert.Equal(0, m.Fs.Unlink(Owner, tmp, MemFs.N("mine")));
    }

    [Fact]
    public void Setgid_directory_gives_its_group_and_bit()
    {
        var m = new MemFs();
        ulong shared = m.MkDir(MemFs.Root, "shared", 0x5FF /*2777*/);
        // mkdir drops sgid from the mode it is given (as Linux): chmod sets it.
        Assert.Equal(0, m.Fs.SetAttr(Caller.Root, shared, new SetAttrIn { Fields = SetAttrFields.Gid | SetAttrFields.Mode, Gid = 1000, Mode = 0x5FF }, out _));
        Assert.Equal(0, m.Fs.MkDir(Other, shared, MemFs.N("sub"), 0x1ED, 0, out EntryOut sub));
        Assert.Equal(1000u, sub.Attr.Gid);
        Assert.NotEqual(0u, sub.Attr.Mode & ModeBits.S_ISGID);
        (ulong ino, ulong h) = m.Create(shared, "f", 0x5ED /*2755*/, Other);
        Assert.Equal(1000u, m.Attr(ino).Gid);
        Assert.Equal(0u, m.Attr(ino).Mode & ModeBits.S_ISGID); // not in group 1000: stripped
        m.Fs.Release(ino, h);
    }

    [Fact]
    public void Suid_is_cleared_by_a_non_root_write_and_by_chown()
    {
        var m = new MemFs();
        (ulong ino, ulong h) = m.Create(MemFs.Root, "f", 0x9FF /*4777*/, Owner);
        Assert.Equal(0, m.Fs.Write(Caller.Root, ino, h, 0, "x"u8, WriteFlags.None, out _));
        Assert.NotEqual(0u, m.Attr(ino).Mode & ModeBits.S_ISUID);
        Assert.Equal(0, m.Fs.Write(Owner, ino, h, 0, "x"u8, WriteFlags.None, out _));
        Assert.Equal(0u, m.Attr(ino).Mode & ModeBits.S_ISUID);
        Assert.Equal(0, m.Fs.SetAttr(Caller.Root, ino, new SetAttrIn { Fields = SetAttrFields.Mode, Mode = 0x9ED }, out _));
        Assert.Equal(0, m.Fs.Write(Caller.Root, ino, h, 0, "x"u8, WriteFlags.KillSuidGid, out _));
        Assert.Equal(0u, m.Attr(ino).Mode & ModeBits.S_ISUID);
        Assert.Equal(0, m.Fs.SetAttr(Caller.Root, ino, new SetAttrIn { Fields = SetAttrFields.Mode, Mode = 0x9ED }, out _));
        Assert.Equal(0, m.Fs.SetAttr(Caller.Root, ino, new SetAttrIn { Fields = SetAttrFields.Uid, Uid = 0 }, out InodeAttr attr));
        Assert.Equal(0u, attr.Mode & ModeBits.S_ISUID);
        m.Fs.Release(ino, h);
    }

    [Fact]
    public void Chmod_chown_and_utimes_rules()
    {
        var m = new MemFs();
        (ulong ino, ulong h) = m.Create(MemFs.Root, "f", 0x1B6, Owner);
        m.Fs.Release(ino, h);
        Assert.Equal(Errno.EPERM, m.Fs.SetAttr(Other, ino, new SetAttrIn { Fields = SetAttrFields.Mode, Mode = 0x1FF }, out _));
        Assert.Equal(Errno.EPERM, m.Fs.SetAttr(Owner, ino, new SetAttrIn { Fields = SetAttrFields.Uid, Uid = 1002 }, out _));
        Assert.Equal(Errno.EPERM, m.Fs.SetAttr(Owner, ino, new SetAttrIn { Fields = SetAttrFields.Gid, Gid = 1002 }, out _));
        Assert.Equal(0, m.Fs.SetAttr(Owner, ino, new SetAttrIn { Fields = SetAttrFields.Gid, Gid = 1000 }, out _));
        var touch = new SetAttrIn { Fields = SetAttrFields.Atime | SetAttrFields.AtimeNow | SetAttrFields.Mtime | SetAttrFields.MtimeNow };
        Assert.Equal(0, m.Fs.SetAttr(Other, ino, touch, out _)); // mode 666: writable by others
        var explicitTimes = new SetAttrIn { Fields = SetAttrFields.Mtime, Mtime = new Timespec(5, 6) };
        Assert.Equal(Errno.EPERM, m.Fs.SetAttr(Other, ino, explicitTimes, out _));
        Assert.Equal(0, m.Fs.SetAttr(Owner, ino, explicitTimes, out InodeAttr attr));
        Assert.Equal(new Timespec(5, 6), attr.Mtime);
        Assert.Equal(0, m.Fs.SetAttr(Owner, ino, new SetAttrIn { Fields = SetAttrFields.Mode, Mode = 0x180 }, out _));
        Assert.Equal(Errno.EACCES, m.Fs.SetAttr(Other, ino, touch, out _));
    }
}
