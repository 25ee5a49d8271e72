using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ProxyFs.Core.FileSystem;
using ProxyFs.Testing.Posix;

namespace ProxyFs.Testing.Scenarios;

/// <summary>
/// What a scenario sees: operations on the target, each recorded as one normalized transcript line (the call,
/// its errno, and values that must agree between filesystems: sizes, modes, link counts, owners, data hashes,
/// sorted name sets, and timestamp facts relative to an earlier observation). Inode numbers, device ids and raw
/// clock times never appear; times that the scenario set explicitly do. Paths are relative to the scenario's own
/// directory.
/// </summary>
public sealed class ScenarioContext
{
    private readonly List<string> _lines = [];
    private readonly string _base;
    private readonly HashSet<int> _fds = [];

    public ScenarioContext(IPosixTarget target, string baseDirectory)
    {
        Target = target;
        _base = baseDirectory.TrimEnd('/');
    }

    public IPosixTarget Target { get; }

    public IReadOnlyList<string> Lines => _lines;

    /// <summary>The path on the target for a scenario path.</summary>
    public string P(string path) => _base.Length == 0 ? path : path.Length == 0 ? _base : _base + "/" + path;

    public void Log(string line) => _lines.Add(line);

    private int Rec(string call, int errno)
    {
        _lines.Add($"{call} -> {Errno.Name(errno)}");
        return errno;
    }

    private static string Octal(uint mode) => Convert.ToString(mode, 8).PadLeft(4, '0');

    /// <summary>Runs the following operations as <paramref name="user"/> until disposed.</summary>
    public IDisposable As(PosixUser user)
    {
        PosixUser previous = Target.User;
        Target.User = user;
        _lines.Add($"as {user}");
        return new Restore(() =>
        {
            Target.User = previous;
            _lines.Add($"as {previous}");
        });
    }

    private sealed class Restore(Action action) : IDisposable
    {
        public void Dispose() => action();
    }

    public uint Umask
    {
        get => Target.Umask;
        set
        {
            Target.Umask = value;
            _lines.Add($"umask {Octal(value)}");
        }
    }

    // ---- names ----

    public int Mkdir(string path, uint mode = 0x1ED) => Rec($"mkdir {path} {Octal(mode)}", Target.Mkdir(P(path), mode));

    public int Rmdir(string path) => Rec($"rmdir {path}", Target.Rmdir(P(path)));

    public int Unlink(string path) => Rec($"unlink {path}", Target.Unlink(P(path)));

    public int Rename(string from, string to, RenameFlags flags = RenameFlags.None) =>
        Rec($"rename {from} {to} {flags}", Target.Rename(P(from), P(to), flags));

    public int Link(string existing, string newPath) => Rec($"link {existing} {newPath}", Target.Link(P(existing), P(newPath)));

    public int LinkFd(int fd, string newPath) => Rec($"linkfd {newPath}", Target.LinkFd(fd, P(newPath)));

    public int Symlink(string target, string linkPath) =>
        Rec($"symlink {Short(target)} {linkPath}", Target.Symlink(target, P(linkPath)));

    public string? ReadLink(string path)
    {
        int e = Target.ReadLink(P(path), out string target);
        _lines.Add($"readlink {path} -> {Errno.Name(e)}{(e == 0 ? " " + Short(target) : string.Empty)}");
        return e == 0 ? target : null;
    }

    public int Mknod(string path, uint mode, uint major = 0, uint minor = 0) =>
        Rec($"mknod {path} {Convert.ToString(mode, 8)} {major}:{minor}", Target.Mknod(P(path), mode, major, minor));

    private static string Short(string s) => s.Length <= 40 ? s : $"<{s.Length} chars {Hash(Encoding.UTF8.GetBytes(s))}>";

    // ---- files ----

    /// <summary>open(2); returns the descriptor or -1.</summary>
    public int Open(string path, int flags, uint mode = 0x1A4)
    {
        int e = Target.Open(P(path), flags, mode, out int fd);
        Rec($"open {path} {FlagNames(flags)} {Octal(mode)}", e);
        if (e == 0)
        {
            _fds.Add(fd);
            return fd;
        }
        return -1;
    }

    public int OpenErr(string path, int flags, uint mode = 0x1A4)
    {
        int e = Target.Open(P(path), flags, mode, out int fd);
        Rec($"open {path} {FlagNames(flags)} {Octal(mode)}", e);
        if (e == 0)
        {
            Target.Close(fd);
        }
        return e;
    }

    public int Close(int fd)
    {
        _fds.Remove(fd);
        return Rec("close", Target.Close(fd));
    }

    /// <summary>Creates (or truncates) a file holding <paramref name="data"/>.</summary>
    public int WriteFile(string path, ReadOnlySpan<byte> data, uint mode = 0x1A4)
    {
        int fd = Open(path, OpenFlags.O_CREAT | OpenFlags.O_WRONLY | OpenFlags.O_TRUNC, mode);
        if (fd < 0)
        {
            return -1;
        }
        if (!data.IsEmpty)
        {
            PWrite(fd, data, 0);
        }
        return Close(fd);
    }

    public int WriteFile(string path, string text, uint mode = 0x1A4) => WriteFile(path, Encoding.UTF8.GetBytes(text), mode);

    public int Write(int fd, ReadOnlySpan<byte> data)
    {
        int e = Target.Write(fd, data, out int n);
        _lines.Add($"write {data.Length} {Hash(data)} -> {Errno.Name(e)} {n}");
        return e;
    }

    public int Write(int fd, string text) => Write(fd, Encoding.UTF8.GetBytes(text));

    public int PWrite(int fd, ReadOnlySpan<byte> data, long offset)
    {
        int e = Target.PWrite(fd, data, offset, out int n);
        _lines.Add($"pwrite {data.Length}@{offset} {Hash(data)} -> {Errno.Name(e)} {n}");
        return e;
    }

    public int PWrite(int fd, string text, long offset) => PWrite(fd, Encoding.UTF8.GetBytes(text), offset);

    /// <summary>read(2) of up to <paramref name="count"/> bytes; records the count and a hash.</summary>
    public byte[] Read(int fd, int count)
    {
        byte[] buffer = new byte[count];
        int e = Target.Read(fd, buffer, out int n);
        _lines.Add($"read {count} -> {Errno.Name(e)} {n} {Hash(buffer.AsSpan(0, n))}");
        return buffer[..n];
    }

    public byte[] PRead(int fd, int count, long offset)
    {
        byte[] buffer = new byte[count];
        int e = Target.PRead(fd, buffer, offset, out int n);
        _lines.Add($"pread {count}@{offset} -> {Errno.Name(e)} {n} {Hash(buffer.AsSpan(0, n))}");
        return buffer[..n];
    }

    /// <summary>Reads a whole file (as the current user) and records its size and hash.</summary>
    public byte[]? ReadFile(string path)
    {
        int e = Target.Open(P(path), OpenFlags.O_RDONLY, 0, out int fd);
        if (e != 0)
        {
            Rec($"readfile {path}", e);
            return null;
        }
        var all = new MemoryStream();
        byte[] buffer = new byte[1 << 20];
        long offset = 0;
        while (true)
        {
            e = Target.PRead(fd, buffer, offset, out int n);
            if (e != 0 || n == 0)
            {
                break;
            }
            all.Write(buffer, 0, n);
            offset += n;
        }
        Target.Close(fd);
        byte[] data = all.ToArray();
        _lines.Add($"readfile {path} -> {Errno.Name(e)} {data.Length} {Hash(data)}");
        return data;
    }

    public long Seek(int fd, long offset, int whence)
    {
        int e = Target.Seek(fd, offset, whence, out long result);
        _lines.Add($"lseek {offset} {whence} -> {Errno.Name(e)}{(e == 0 ? " " + result.ToString(CultureInfo.InvariantCulture) : string.Empty)}");
        return e == 0 ? result : -1;
    }

    public int Truncate(string path, long length) => Rec($"truncate {path} {length}", Target.Truncate(P(path), length));

    public int FTruncate(int fd, long length) => Rec($"ftruncate {length}", Target.FTruncate(fd, length));

    public int Fsync(int fd, bool dataOnly = false) => Rec($"fsync {dataOnly}", Target.Fsync(fd, dataOnly));

    public int Fallocate(int fd, int mode, long offset, long length) =>
        Rec($"fallocate {mode} {offset} {length}", Target.Fallocate(fd, mode, offset, length));

    public long CopyFileRange(int fdIn, long? offsetIn, int fdOut, long? offsetOut, long length)
    {
        int e = Target.CopyFileRange(fdIn, offsetIn, fdOut, offsetOut, length, out long copied);
        _lines.Add($"copy_file_range {offsetIn?.ToString(CultureInfo.InvariantCulture) ?? "pos"} {offsetOut?.ToString(CultureInfo.InvariantCulture) ?? "pos"} {length} -> {Errno.Name(e)} {copied}");
        return e == 0 ? copied : -1;
    }

    // ---- attributes ----

    /// <summary>stat(2) (or lstat), recording the chosen fields.</summary>
    public PosixStat? Stat(string path, StatFields fields = StatFields.Default, bool follow = true)
    {
        int e = follow ? Target.Stat(P(path), out PosixStat st) : Target.LStat(P(path), out st);
        _lines.Add($"{(follow ? "stat" : "lstat")} {path} -> {Errno.Name(e)}{(e == 0 ? " " + Describe(st, fields) : string.Empty)}");
        return e == 0 ? st : null;
    }

    public PosixStat? LStat(string path, StatFields fields = StatFields.Default) => Stat(path, fields, follow: false);

    public PosixStat? FStat(int fd, StatFields fields = StatFields.Default)
    {
        int e = Target.FStat(fd, out PosixStat st);
        _lines.Add($"fstat -> {Errno.Name(e)}{(e == 0 ? " " + Describe(st, fields) : string.Empty)}");
        return e == 0 ? st : null;
    }

    /// <summary>
    /// stat without recording: an observation for later timestamp comparisons. On a real kernel it then lets the
    /// coarse clock tick (<see cref="LetClockTick"/>), so the next change is stamped later even on kernels without
    /// fine-grained (multigrain) timestamps.
    /// </summary>
    public PosixStat Observe(string path, bool follow = true)
    {
        int e = follow ? Target.Stat(P(path), out PosixStat st) : Target.LStat(P(path), out st);
        if (e != 0)
        {
            _lines.Add($"observe {path} -> {Errno.Name(e)}");
        }
        AfterObservation();
        return st;
    }

    public PosixStat ObserveFd(int fd)
    {
        int e = Target.FStat(fd, out PosixStat st);
        if (e != 0)
        {
            _lines.Add($"observe fd -> {Errno.Name(e)}");
        }
        AfterObservation();
        return st;
    }

    private void AfterObservation()
    {
        if (Target is LibcTarget)
        {
            LetClockTick();
        }
    }

    /// <summary>
    /// Waits until the kernel's coarse clock has passed every timestamp handed out so far. Needed before link,
    /// unlink and rmdir when a scenario checks the directory's times: tmpfs stamps the directory with the ctime it
    /// just gave the linked or removed inode, which (multigrain timestamps) can equal the directory's own time when
    /// no clock tick came between. A wait, not an assertion: nothing is measured.
    /// </summary>
    public static void LetClockTick() => Thread.Sleep(20);

    /// <summary>Records how each timestamp of <paramref name="path"/> moved since <paramref name="before"/>.</summary>
    public void Times(string path, PosixStat before, bool follow = true)
    {
        PosixStat after = Observe(path, follow);
        _lines.Add($"times {path}: {Compare(before, after)}");
    }

    public void TimesFd(int fd, PosixStat before, string label)
    {
        PosixStat after = ObserveFd(fd);
        _lines.Add($"times {label}: {Compare(before, after)}");
    }

    private static string Compare(PosixStat before, PosixStat after) =>
        $"atime {Move(before.Atime, after.Atime)} mtime {Move(before.Mtime, after.Mtime)} ctime {Move(before.Ctime, after.Ctime)}";

    private static string Move(Timespec before, Timespec after) =>
        after > before ? "advanced" : after == before ? "same" : "went-back";

    /// <summary>Records the exact times (only meaningful after they were set explicitly).</summary>
    public void ExactTimes(string path, bool atime = true, bool mtime = true)
    {
        PosixStat st = Observe(path);
        _lines.Add($"exact-times {path}:{(atime ? " atime " + st.Atime : string.Empty)}{(mtime ? " mtime " + st.Mtime : string.Empty)}");
    }

    public int Chmod(string path, uint mode) => Rec($"chmod {path} {Octal(mode)}", Target.Chmod(P(path), mode));

    public int Chown(string path, int uid, int gid, bool follow = true) =>
        Rec($"{(follow ? "chown" : "lchown")} {path} {uid}:{gid}", Target.Chown(P(path), uid, gid, follow));

    public int Utimens(string path, PosixTime atime, PosixTime mtime, bool follow = true) =>
        Rec($"utimens {path} {atime} {mtime} {(follow ? "follow" : "nofollow")}", Target.Utimens(P(path), atime, mtime, follow));

    public int Access(string path, int mask) => Rec($"access {path} {mask}", Target.Access(P(path), mask));

    public PosixStatFs? StatFs(string path)
    {
        int e = Target.StatFs(P(path), out PosixStatFs st);
        _lines.Add($"statfs {path} -> {Errno.Name(e)}{(e == 0 ? $" bsize={st.BlockSize} namemax={st.NameMax}" : string.Empty)}");
        return e == 0 ? st : null;
    }

    // ---- directories ----

    /// <summary>Lists a directory and records the sorted set of names with types ("." and ".." left out).</summary>
    public List<PosixDirEntry>? List(string path)
    {
        int e = Target.OpenDir(P(path), out int dir);
        if (e != 0)
        {
            Rec($"list {path}", e);
            return null;
        }
        var entries = new List<PosixDirEntry>();
        while (true)
        {
            e = Target.ReadDir(dir, out PosixDirEntry? entry);
            if (e != 0 || entry is null)
            {
                break;
            }
            if (entry.Value.Name is not ("." or ".."))
            {
                entries.Add(entry.Value);
            }
        }
        Target.CloseDir(dir);
        IEnumerable<string> names = entries.Select(x => $"{x.Name}:{x.Type}").Order(StringComparer.Ordinal);
        _lines.Add($"list {path} -> {Errno.Name(e)} [{string.Join(' ', names)}]");
        return entries;
    }

    public int OpenDir(string path, out int dir) => Rec($"opendir {path}", Target.OpenDir(P(path), out dir));

    public PosixDirEntry? ReadDirQuiet(int dir)
    {
        int e = Target.ReadDir(dir, out PosixDirEntry? entry);
        if (e != 0)
        {
            _lines.Add($"readdir -> {Errno.Name(e)}");
        }
        return entry;
    }

    public int CloseDir(int dir) => Rec("closedir", Target.CloseDir(dir));

    // ---- xattrs ----

    public int SetXattr(string path, string name, ReadOnlySpan<byte> value, XattrFlags flags = XattrFlags.None, bool follow = false) =>
        Rec($"setxattr {path} {Short(name)} {value.Length} {Hash(value)} {flags}", Target.SetXattr(P(path), name, value, flags, follow));

    public int SetXattr(string path, string name, string value, XattrFlags flags = XattrFlags.None, bool follow = false) =>
        SetXattr(path, name, Encoding.UTF8.GetBytes(value), flags, follow);

    /// <summary>getxattr with a buffer of <paramref name="bufferSize"/> bytes (0: the size query).</summary>
    public int GetXattr(string path, string name, int bufferSize = 65536, bool follow = false)
    {
        byte[] buffer = new byte[bufferSize];
        int e = Target.GetXattr(P(path), name, buffer, out int size, follow);
        string value = e == 0 && bufferSize > 0 ? " " + Hash(buffer.AsSpan(0, size)) : string.Empty;
        _lines.Add($"getxattr {path} {Short(name)} {bufferSize} -> {Errno.Name(e)} {size}{value}");
        return e;
    }

    /// <summary>listxattr, recording the sorted names.</summary>
    public int ListXattr(string path, int bufferSize = 65536, bool follow = false)
    {
        byte[] buffer = new byte[bufferSize];
        int e = Target.ListXattr(P(path), buffer, out int size, follow);
        string names = e == 0 && bufferSize > 0
            ? " [" + string.Join(' ', Encoding.UTF8.GetString(buffer, 0, size).Split('\0', StringSplitOptions.RemoveEmptyEntries).Select(Short).Order(StringComparer.Ordinal)) + "]"
            : string.Empty;
        _lines.Add($"listxattr {path} {bufferSize} -> {Errno.Name(e)} {size}{names}");
        return e;
    }

    public int RemoveXattr(string path, string name, bool follow = false) =>
        Rec($"removexattr {path} {Short(name)}", Target.RemoveXattr(P(path), name, follow));

    // ---- helpers ----

    public static string Hash(ReadOnlySpan<byte> data) =>
        data.IsEmpty ? "-" : Convert.ToHexString(SHA256.HashData(data))[..16];

    /// <summary>Deterministic bytes for a scenario.</summary>
    public static byte[] Pattern(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    public static string Describe(PosixStat st, StatFields fields)
    {
        var sb = new StringBuilder();
        if ((fields & StatFields.Type) != 0)
        {
            sb.Append("type=").Append(TypeName(st.Mode)).Append(' ');
        }
        if ((fields & StatFields.Mode) != 0)
        {
            sb.Append("mode=").Append(Octal(st.Permissions)).Append(' ');
        }
        if ((fields & StatFields.Nlink) != 0)
        {
            sb.Append("nlink=").Append(st.Nlink).Append(' ');
        }
        if ((fields & StatFields.Owner) != 0)
        {
            sb.Append("owner=").Append(st.Uid).Append(':').Append(st.Gid).Append(' ');
        }
        if ((fields & StatFields.Size) != 0 && !st.IsDirectory)
        {
            sb.Append("size=").Append(st.Size).Append(' ');
        }
        if ((fields & StatFields.Blocks) != 0 && st.IsRegular)
        {
            sb.Append("blocks=").Append(st.Blocks).Append(' ');
        }
        if ((fields & StatFields.Rdev) != 0 && (st.Type == ModeBits.S_IFCHR || st.Type == ModeBits.S_IFBLK))
        {
            sb.Append("rdev=").Append(st.RdevMajor).Append(':').Append(st.RdevMinor).Append(' ');
        }
        return sb.ToString().TrimEnd();
    }

    public static string TypeName(uint mode) => (mode & ModeBits.S_IFMT) switch
    {
        ModeBits.S_IFREG => "reg",
        ModeBits.S_IFDIR => "dir",
        ModeBits.S_IFLNK => "lnk",
        ModeBits.S_IFIFO => "fifo",
        ModeBits.S_IFSOCK => "sock",
        ModeBits.S_IFCHR => "chr",
        ModeBits.S_IFBLK => "blk",
        _ => "?",
    };

    public static string FlagNames(int flags)
    {
        var parts = new List<string>
        {
            (flags & OpenFlags.O_ACCMODE) switch
            {
                OpenFlags.O_WRONLY => "WRONLY",
                OpenFlags.O_RDWR => "RDWR",
                _ => "RDONLY",
            },
        };
        if ((flags & OpenFlags.O_TMPFILE) == OpenFlags.O_TMPFILE)
        {
            parts.Add("TMPFILE");
            flags &= ~OpenFlags.O_TMPFILE;
        }
        (int Bit, string Name)[] known =
        [
            (OpenFlags.O_CREAT, "CREAT"), (OpenFlags.O_EXCL, "EXCL"), (OpenFlags.O_TRUNC, "TRUNC"),
            (OpenFlags.O_APPEND, "APPEND"), (OpenFlags.O_DIRECTORY, "DIRECTORY"), (OpenFlags.O_NOFOLLOW, "NOFOLLOW"),
            (OpenFlags.O_NOATIME, "NOATIME"),
        ];
        foreach ((int bit, string name) in known)
        {
            if ((flags & bit) != 0)
            {
                parts.Add(name);
            }
        }
        return string.Join('|', parts);
    }

    /// <summary>Closes descriptors the scenario left open.</summary>
    internal void CloseLeftovers()
    {
        foreach (int fd in _fds)
        {
            Target.Close(fd);
        }
        _fds.Clear();
    }
}
