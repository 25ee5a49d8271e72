using System.Globalization;
using System.Text;
using ProxyFs.Core.FileSystem;
using ProxyFs.Testing.Posix;
using ProxyFs.Testing.Scenarios;

namespace ProxyFs.Testing.Differential;

/// <summary>
/// Applies <see cref="DiffOp"/>s to one target inside a working directory, keeping the descriptor slots, and
/// describes the outcome of each step and the state of the tree in normalized text (see
/// <see cref="Snapshot"/>). Must be used on a <see cref="PosixThread"/>.
/// </summary>
internal sealed class OperationRunner
{
    private static readonly Dictionary<string, PosixUser> UsersByName = new()
    {
        ["root"] = PosixUser.Root,
        ["alice"] = PosixUser.Alice,
        ["bob"] = PosixUser.Bob,
        ["carol"] = PosixUser.Carol,
    };

    private readonly IPosixTarget _target;
    private readonly string _base;
    private readonly bool _compareTimes;
    private readonly int[] _slots = Enumerable.Repeat(-1, OperationGenerator.Slots).ToArray();
    private readonly string[] _slotPaths = new string[OperationGenerator.Slots];
    private Dictionary<ulong, (Timespec Mtime, Timespec Ctime)> _times = [];

    public OperationRunner(IPosixTarget target, string baseDirectory, bool compareTimes)
    {
        _target = target;
        _base = baseDirectory;
        _compareTimes = compareTimes;
    }

    private string P(string path) => path.Length == 0 ? _base : _base + "/" + path;

    public string Apply(DiffOp op)
    {
        _target.User = UsersByName[op.User];
        try
        {
            return ApplyAs(op);
        }
        finally
        {
            _target.User = PosixUser.Root;
        }
    }

    private string ApplyAs(DiffOp op)
    {
        int fd = _slots[op.Slot];
        switch (op.Kind)
        {
            case OpKind.Open:
            case OpKind.TmpFile:
                {
                    CloseSlot(op.Slot);
                    int e = _target.Open(P(op.Path), op.Kind == OpKind.TmpFile ? (int)op.A | OpenFlags.O_TMPFILE : (int)op.A, (uint)op.B, out int opened);
                    if (e == 0)
                    {
                        _slots[op.Slot] = opened;
                        _slotPaths[op.Slot] = op.Path;
                    }
                    return Name(e);
                }
            case OpKind.Close:
                return fd < 0 ? "no fd" : Name(CloseSlot(op.Slot));
            case OpKind.Write:
                {
                    if (fd < 0)
                    {
                        return "no fd";
                    }
                    byte[] data = ScenarioContext.Pattern((int)op.B, (int)op.C);
                    int e = _target.PWrite(fd, data, op.A, out int n);
                    return $"{Name(e)} {n}";
                }
            case OpKind.Append:
                {
                    if (fd < 0)
                    {
                        return "no fd";
                    }
                    byte[] data = ScenarioContext.Pattern((int)op.B, (int)op.C);
                    int e = _target.Write(fd, data, out int n);
                    _target.Seek(fd, 0, SeekWhence.Current, out long position);
                    return $"{Name(e)} {n} pos={position}";
                }
            case OpKind.Read:
                {
                    if (fd < 0)
                    {
                        return "no fd";
                    }
                    byte[] buffer = new byte[op.B];
                    int e = _target.PRead(fd, buffer, op.A, out int n);
                    return $"{Name(e)} {n} {ScenarioContext.Hash(buffer.AsSpan(0, n))}";
                }
            case OpKind.Truncate:
                return Name(_target.Truncate(P(op.Path), op.A));
            case OpKind.FTruncate:
                return fd < 0 ? "no fd" : Name(_target.FTruncate(fd, op.A));
            case OpKind.Remount:
                CloseAll();
                (_target as IRemountableTarget)?.Remount();
                return "OK";
            case OpKind.Fsync:
                return fd < 0 ? "no fd" : Name(_target.Fsync(fd, op.A != 0));
            case OpKind.Fallocate:
                return fd < 0 ? "no fd" : Name(_target.Fallocate(fd, (int)op.A, op.B, op.C));
            case OpKind.Seek:
                {
                    if (fd < 0)
                    {
                        return "no fd";
                    }
                    int e = _target.Seek(fd, op.B, (int)op.A, out long result);
                    return e == 0 ? $"OK {result}" : Name(e);
                }
            case OpKind.CopyRange:
                {
                    int output = _slots[op.Slot2];
                    if (fd < 0 || output < 0)
                    {
                        return "no fd";
                    }
                    int e = _target.CopyFileRange(fd, op.A, output, op.B, op.C, out long copied);
                    return $"{Name(e)} {copied}";
                }
            case OpKind.Rename:
                return Name(_target.Rename(P(op.Path), P(op.Path2), (RenameFlags)op.A));
            case OpKind.Link:
                return Name(_target.Link(P(op.Path), P(op.Path2)));
            case OpKind.LinkFd:
                return fd < 0 ? "no fd" : Name(_target.LinkFd(fd, P(op.Path)));
            case OpKind.Unlink:
                return Name(_target.Unlink(P(op.Path)));
            case OpKind.Mkdir:
                return Name(_target.Mkdir(P(op.Path), (uint)op.A));
            case OpKind.Rmdir:
                return Name(_target.Rmdir(P(op.Path)));
            case OpKind.Symlink:
                return Name(_target.Symlink(op.Path, P(op.Path2)));
            case OpKind.ReadLink:
                {
                    int e = _target.ReadLink(P(op.Path), out string link);
                    return e == 0 ? "OK " + link : Name(e);
                }
            case OpKind.Stat:
                {
                    int e = _target.Stat(P(op.Path), out PosixStat st);
                    return e == 0 ? "OK " + ScenarioContext.Describe(st, StatFields.All) : Name(e);
                }
            case OpKind.Chmod:
                return Name(_target.Chmod(P(op.Path), (uint)op.A));
            case OpKind.Chown:
                return Name(_target.Chown(P(op.Path), (int)op.A, (int)op.B));
            case OpKind.Utimens:
                return Name(_target.Utimens(P(op.Path), Time(op.A), Time(op.B), op.C != 0));
            case OpKind.SetXattr:
                {
                    byte[] value = ScenarioContext.Pattern((int)op.A, (int)op.C);
                    return Name(_target.SetXattr(P(op.Path), op.Path2, value, (XattrFlags)op.B));
                }
            case OpKind.GetXattr:
                {
                    byte[] buffer = new byte[op.A];
                    int e = _target.GetXattr(P(op.Path), op.Path2, buffer, out int size);
                    return e == 0 ? $"OK {size} {(op.A > 0 ? ScenarioContext.Hash(buffer.AsSpan(0, size)) : string.Empty)}" : Name(e);
                }
            case OpKind.ListXattr:
                {
                    int e = _target.ListXattr(P(op.Path), new byte[65536], out int size);
                    return e == 0 ? $"OK {size}" : Name(e);
                }
            case OpKind.RemoveXattr:
                return Name(_target.RemoveXattr(P(op.Path), op.Path2));
            case OpKind.Mknod:
                return Name(_target.Mknod(P(op.Path), (uint)op.A, 0, 0));
            case OpKind.Access:
                return Name(_target.Access(P(op.Path), (int)op.A));
            default:
                throw new InvalidOperationException("unknown operation " + op.Kind);
        }
    }

    private static PosixTime Time(long value) => value switch
    {
        -1 => PosixTime.Now,
        -2 => PosixTime.Omit,
        _ => PosixTime.At(value, value % 1_000_000_000),
    };

    private static string Name(int errno) => Errno.Name(errno);

    private int CloseSlot(int slot)
    {
        int fd = _slots[slot];
        if (fd < 0)
        {
            return 0;
        }
        _slots[slot] = -1;
        return _target.Close(fd);
    }

    public void CloseAll()
    {
        for (int i = 0; i < _slots.Length; i++)
        {
            CloseSlot(i);
        }
    }

    /// <summary>
    /// The state of the working tree, as root: every entry (sorted) with type, mode, nlink, owner, size (not for
    /// directories), st_blocks of regular files, symlink targets, xattrs with value hashes, and whether mtime and
    /// ctime of each non-directory changed since the previous snapshot (tracked by inode number, which never
    /// appears itself). With <paramref name="data"/>, a hash of each regular file's content. Then the same for each
    /// open descriptor. atime and directory times are left out: Linux updates them from a coarse clock or from
    /// another inode's ctime, so equal behaviour can show different values.
    /// </summary>
    public string Snapshot(bool data)
    {
        _target.User = PosixUser.Root;
        var sb = new StringBuilder();
        var times = new Dictionary<ulong, (Timespec, Timespec)>();
        Walk(string.Empty, sb, times, data);
        for (int i = 0; i < _slots.Length; i++)
        {
            if (_slots[i] >= 0 && _target.FStat(_slots[i], out PosixStat st) == 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"fd{i}: {ScenarioContext.Describe(st, StatFields.All)}{TimeFacts(st, times)}\n");
            }
        }
        _times = times;
        return sb.ToString();
    }

    private void Walk(string path, StringBuilder sb, Dictionary<ulong, (Timespec, Timespec)> times, bool data)
    {
        var names = new List<string>();
        if (_target.OpenDir(P(path), out int dir) == 0)
        {
            while (_target.ReadDir(dir, out PosixDirEntry? entry) == 0 && entry is { } e)
            {
                if (e.Name is not ("." or ".."))
                {
                    names.Add(e.Name);
                }
            }
            _target.CloseDir(dir);
        }
        names.Sort(StringComparer.Ordinal);
        foreach (string name in names)
        {
            string child = path.Length == 0 ? name : path + "/" + name;
            if (_target.LStat(P(child), out PosixStat st) != 0)
            {
                sb.Append(child).Append(": vanished\n");
                continue;
            }
            sb.Append(child).Append(": ").Append(ScenarioContext.Describe(st, StatFields.All));
            if (st.IsSymlink && _target.ReadLink(P(child), out string link) == 0)
            {
                sb.Append(" -> ").Append(link);
            }
            sb.Append(Xattrs(child)).Append(TimeFacts(st, times));
            if (data && st.IsRegular)
            {
                sb.Append(" data=").Append(Content(child));
            }
            sb.Append('\n');
            if (st.IsDirectory)
            {
                Walk(child, sb, times, data);
            }
        }
    }

    private string TimeFacts(PosixStat st, Dictionary<ulong, (Timespec, Timespec)> times)
    {
        if (st.IsDirectory || !_compareTimes)
        {
            return string.Empty;
        }
        times[st.Ino] = (st.Mtime, st.Ctime);
        if (!_times.TryGetValue(st.Ino, out (Timespec Mtime, Timespec Ctime) before))
        {
            return " times=new";
        }
        return $" mtime={(st.Mtime == before.Mtime ? "same" : "changed")} ctime={(st.Ctime == before.Ctime ? "same" : "changed")}";
    }

    private string Xattrs(string path)
    {
        byte[] list = new byte[65536];
        if (_target.ListXattr(P(path), list, out int size) != 0 || size == 0)
        {
            return string.Empty;
        }
        var sb = new StringBuilder(" xattrs=");
        foreach (string name in Encoding.UTF8.GetString(list, 0, size).Split('\0', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal))
        {
            byte[] value = new byte[65536];
            int e = _target.GetXattr(P(path), name, value, out int length);
            sb.Append(name).Append(':').Append(e == 0 ? ScenarioContext.Hash(value.AsSpan(0, length)) : Name(e)).Append(',');
        }
        return sb.ToString();
    }

    private string Content(string path)
    {
        if (_target.Open(P(path), OpenFlags.O_RDONLY | OpenFlags.O_NOFOLLOW | OpenFlags.O_NOATIME, 0, out int fd) != 0)
        {
            return "unreadable";
        }
        var all = new MemoryStream();
        byte[] buffer = new byte[65536];
        long offset = 0;
        while (_target.PRead(fd, buffer, offset, out int n) == 0 && n > 0)
        {
            all.Write(buffer, 0, n);
            offset += n;
        }
        _target.Close(fd);
        return ScenarioContext.Hash(all.ToArray());
    }
}
