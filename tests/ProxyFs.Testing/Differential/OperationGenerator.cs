using ProxyFs.Core.FileSystem;

namespace ProxyFs.Testing.Differential;

/// <summary>
/// Generates operation sequences over a small namespace (a few names in a few directories, so that operations
/// collide), deterministic per seed. Paths never leave the working directory: symlink targets are relative and
/// never contain "..". No fifos or devices are made (opening them would block; sockets are, opening them is
/// ENXIO), and FALLOC_FL_ZERO_RANGE is not
/// used (tmpfs lacks it).
/// </summary>
public static class OperationGenerator
{
    public const int Slots = 3;

    private static readonly string[] Paths = ["a", "b", "c", "d0", "d1", "d0/a", "d0/b", "d0/d2", "d1/a", "d1/b", "d0/d2/a", "d0/d2/b"];
    private static readonly string[] Dirs = ["", "d0", "d1", "d0/d2"];
    private static readonly string[] Users = ["root", "root", "root", "alice", "bob", "carol"];
    private static readonly int[] FileModes = [0x1A4, 0x180, 0x1ED, 0x1FF, 0x124, 0, 0x9ED, 0x5ED, 0x5B4, 0x1A0, 0x1B6];
    private static readonly int[] DirModes = [0x1ED, 0x1C0, 0x1FF, 0x3FF, 0x5FD, 0x16D];
    private static readonly string[] XattrNames = ["user.a", "user.b", "trusted.t", "security.s", "user.", "other.x"];

    private static readonly (OpKind Kind, int Weight)[] Weights =
    [
        (OpKind.Open, 9), (OpKind.TmpFile, 1), (OpKind.Close, 5), (OpKind.Write, 12), (OpKind.Append, 3), (OpKind.Read, 4),
        (OpKind.Truncate, 4), (OpKind.FTruncate, 3), (OpKind.Fsync, 1), (OpKind.Fallocate, 3), (OpKind.Seek, 2),
        (OpKind.CopyRange, 2), (OpKind.Rename, 8), (OpKind.Link, 4), (OpKind.LinkFd, 1), (OpKind.Unlink, 6),
        (OpKind.Mkdir, 5), (OpKind.Rmdir, 4), (OpKind.Symlink, 3), (OpKind.ReadLink, 1), (OpKind.Stat, 2),
        (OpKind.Chmod, 4), (OpKind.Chown, 3), (OpKind.Utimens, 2), (OpKind.SetXattr, 4), (OpKind.GetXattr, 2),
        (OpKind.ListXattr, 1), (OpKind.RemoveXattr, 2), (OpKind.Mknod, 1), (OpKind.Access, 2),
    ];

    /// <param name="remountWeight">How often, among the other kinds' weights, to remount (0: never, and the sequences stay as they always were).</param>
    public static List<DiffOp> Generate(int seed, int steps, int remountWeight = 0)
    {
        var random = new Random(seed);
        var ops = new List<DiffOp>(steps);
        (OpKind Kind, int Weight)[] weights = remountWeight > 0 ? [.. Weights, (OpKind.Remount, remountWeight)] : Weights;
        int total = weights.Sum(w => w.Weight);
        for (int i = 0; i < steps; i++)
        {
            int pick = random.Next(total);
            OpKind kind = weights[0].Kind;
            foreach ((OpKind k, int weight) in weights)
            {
                if (pick < weight)
                {
                    kind = k;
                    break;
                }
                pick -= weight;
            }
            ops.Add(Make(random, kind));
        }
        return ops;
    }

    private static DiffOp Make(Random r, OpKind kind)
    {
        string user = Users[r.Next(Users.Length)];
        string path = Paths[r.Next(Paths.Length)];
        string path2 = Paths[r.Next(Paths.Length)];
        int slot = r.Next(Slots);
        int slot2 = r.Next(Slots);
        var op = new DiffOp(user, kind, Slot: slot);
        return kind switch
        {
            OpKind.Open => op with { Path = path, A = OpenFlagsFor(r), B = FileModes[r.Next(FileModes.Length)] },
            OpKind.TmpFile => op with
            {
                Path = Dirs[r.Next(Dirs.Length)],
                A = r.Next(2) == 0 ? OpenFlags.O_RDWR : OpenFlags.O_WRONLY | OpenFlags.O_EXCL,
                B = FileModes[r.Next(FileModes.Length)],
            },
            OpKind.Write => op with { A = Offset(r), B = Length(r), C = r.Next(1000) },
            OpKind.Append => op with { B = Length(r), C = r.Next(1000) },
            OpKind.Read => op with { A = Offset(r), B = Length(r) },
            OpKind.Truncate => op with { Path = path, A = r.Next(10) == 0 ? -1 : r.Next(80000) },
            OpKind.FTruncate => op with { A = r.Next(80000) },
            OpKind.Fsync => op with { A = r.Next(2) },
            OpKind.Fallocate => op with
            {
                A = new[] { 0, FallocateMode.KeepSize, FallocateMode.PunchHole | FallocateMode.KeepSize, FallocateMode.PunchHole }[r.Next(4)],
                B = Offset(r),
                C = r.Next(10) == 0 ? 0 : r.Next(1, 30000),
            },
            OpKind.Seek => op with { A = r.Next(2) == 0 ? SeekWhence.Data : SeekWhence.Hole, B = Offset(r) },
            OpKind.CopyRange => op with { Slot2 = slot2, A = Offset(r), B = Offset(r), C = Length(r) },
            OpKind.Rename => op with { Path = path, Path2 = path2, A = new[] { 0, 0, 0, 1, 2 }[r.Next(5)] },
            OpKind.Link or OpKind.Symlink => op with { Path = path, Path2 = path2 },
            OpKind.LinkFd or OpKind.Unlink or OpKind.Rmdir or OpKind.ReadLink or OpKind.Stat or OpKind.ListXattr => op with { Path = path },
            OpKind.Mkdir => op with { Path = path, A = DirModes[r.Next(DirModes.Length)] },
            OpKind.Chmod => op with { Path = path, A = r.Next(3) == 0 ? DirModes[r.Next(DirModes.Length)] : FileModes[r.Next(FileModes.Length)] },
            OpKind.Chown => op with { Path = path, A = Id(r), B = Id(r) },
            OpKind.Utimens => op with { Path = path, A = TimeArg(r), B = TimeArg(r), C = r.Next(2) },
            OpKind.SetXattr => op with { Path = path, Path2 = XattrNames[r.Next(XattrNames.Length)], A = r.Next(20) == 0 ? 70000 : r.Next(100), B = r.Next(3), C = r.Next(1000) },
            OpKind.GetXattr => op with { Path = path, Path2 = XattrNames[r.Next(XattrNames.Length)], A = r.Next(4) == 0 ? r.Next(3) : 65536 },
            OpKind.Mknod => op with
            {
                Path = path,
                A = (r.Next(2) == 0 ? ModeBits.S_IFSOCK : ModeBits.S_IFREG) | (uint)FileModes[r.Next(FileModes.Length)],
            },
            OpKind.Access => op with { Path = path, A = r.Next(8) },
            OpKind.RemoveXattr => op with { Path = path, Path2 = XattrNames[r.Next(XattrNames.Length)] },
            _ => op,
        };
    }

    private static long OpenFlagsFor(Random r)
    {
        int flags = new[] { OpenFlags.O_RDONLY, OpenFlags.O_WRONLY, OpenFlags.O_RDWR, OpenFlags.O_RDWR }[r.Next(4)];
        if (r.Next(2) == 0)
        {
            flags |= OpenFlags.O_CREAT;
        }
        if (r.Next(5) == 0)
        {
            flags |= OpenFlags.O_TRUNC;
        }
        if (r.Next(6) == 0)
        {
            flags |= OpenFlags.O_APPEND;
        }
        if (r.Next(8) == 0)
        {
            flags |= OpenFlags.O_EXCL;
        }
        if (r.Next(10) == 0)
        {
            flags |= OpenFlags.O_NOFOLLOW;
        }
        if (r.Next(12) == 0)
        {
            flags |= OpenFlags.O_DIRECTORY;
        }
        if (r.Next(12) == 0)
        {
            flags |= OpenFlags.O_NOATIME;
        }
        return flags;
    }

    private static long Offset(Random r) => r.Next(4) switch
    {
        0 => 0,
        1 => r.Next(8) * 4096,
        _ => r.Next(65536),
    };

    private static long Length(Random r) => r.Next(10) == 0 ? 0 : r.Next(1, 8192);

    private static long Id(Random r) => new long[] { -1, 0, 1000, 1001, 1002 }[r.Next(5)];

    /// <summary>A utimensat argument: -1 UTIME_NOW, -2 UTIME_OMIT, otherwise seconds.</summary>
    private static long TimeArg(Random r) => r.Next(4) switch
    {
        0 => -1,
        1 => -2,
        _ => 1_000_000_000 + r.Next(1_000_000),
    };
}
