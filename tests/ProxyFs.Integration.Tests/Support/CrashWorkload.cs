using System.Text;
using ProxyFs.Core.FileSystem;
using ProxyFs.Testing.Posix;

namespace ProxyFs.Integration.Tests.Support;

/// <summary>
/// A seeded mixed workload against a mount (create, write, fsync, rename over targets, link, unlink, truncate,
/// xattrs, mkdir, rmdir), one system call per step, tracked in a <see cref="CrashModel"/>; and the check after a crash.
/// </summary>
/// <remarks>
/// <para>What survives a crash: everything up to the last fsync that returned (<see cref="Durable"/>), then some prefix
/// of the calls made after it (<see cref="Pending"/>, the last of which may have been cut by the crash), each whole
/// or absent — log order is call order. <see cref="Verify"/> looks for the longest such prefix that matches the mount
/// (names, sizes, hard-link groups and nlink, xattrs, subdirectories); its file contents must be byte-exact where the
/// file was not written since the last fsync, and elsewhere each byte is the written one or zero (data not yet in the
/// store when the process died reads as zeros, docs/SEMANTICS.md).</para>
/// </remarks>
public sealed class CrashWorkload(int seed)
{
    private const int FilesPerDirectory = 8;
    private const int MaxWrite = 48 * 1024;
    private readonly Random _random = new(seed);
    private CrashModel _model = new();

    /// <summary>The state the last returned fsync made durable.</summary>
    public CrashModel Durable { get; private set; } = new();

    /// <summary>The calls since that fsync; the last may not have completed.</summary>
    public List<CrashOp> Pending { get; } = [];

    /// <summary>Calls that returned so far, fsyncs that returned so far.</summary>
    public long Completed { get; private set; }

    public long Fsyncs { get; private set; }

    private static bool Sleep()
    {
        Thread.Sleep(300);
        return true;
    }

    /// <summary>Creates the top directories and makes them durable (on a fresh volume).</summary>
    public static void Prepare(IPosixTarget t)
    {
        foreach (string d in CrashModel.TopDirectories)
        {
            Check(t.Mkdir(d, 0x1ED), "mkdir " + d);
        }
        Check(t.Open(CrashModel.TopDirectories[0], OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY, 0, out int fd), "open");
        Check(t.Fsync(fd, dataOnly: false), "fsync");
        t.Close(fd);
    }

    /// <summary>
    /// Runs up to <paramref name="steps"/> calls, or until one fails because the daemon died (then false). A call that
    /// fails for another reason is a test failure.
    /// </summary>
    public bool Run(IPosixTarget t, int steps, Func<bool> daemonAlive)
    {
        for (int i = 0; i < steps; i++)
        {
            CrashOp op = Next();
            Pending.Add(op);
            int e = op.Run(t);
            if (e != 0)
            {
                // ENOTCONN, ECONNABORTED, ENODEV: the connection is gone. Anything else counts as the crash only if
                // the daemon is dead (a kill in progress), never as an answer of a live daemon.
                if (e is Errno.ENOTCONN or 103 or Errno.ENODEV || !daemonAlive() || (Sleep() && !daemonAlive()))
                {
                    return false;
                }
                throw new InvalidOperationException($"{op} failed with errno {e} while the daemon was alive (seed {seed}, step {i})");
            }
            op.Apply(_model);
            Completed++;
            if (op is FsyncOp)
            {
                Fsyncs++;
                Durable = _model.Clone();
                Pending.Clear();
            }
        }
        return true;
    }

    /// <summary>
    /// Checks the remounted tree (see the remarks) and continues from what it holds. Returns how many of the pending
    /// calls survived; throws with a description when no prefix matches.
    /// </summary>
    public int Verify(IPosixTarget t)
    {
        var failures = new List<string>();
        foreach ((int k, CrashModel candidate, string how) in Candidates())
        {
            string? mismatch = Compare(t, candidate, out Dictionary<int, byte[]> actualContent);
            if (mismatch is null)
            {
                // The mount is the truth from now on (bytes that read as zeros included), and it is durable: a
                // crash before the next fsync replays the same log onto the same checkpoint.
                foreach ((int id, byte[] bytes) in actualContent)
                {
                    candidate.Content[id] = bytes;
                }
                _model = candidate;
                Durable = candidate.Clone();
                Pending.Clear();
                return k;
            }
            failures.Add($"  with {k} of {Pending.Count} calls after the last fsync{how}: {mismatch}");
        }
        throw new InvalidOperationException(
            $"after the crash the mount matches no durable state (seed {seed}); calls after the last fsync: {string.Join("; ", Pending)}\n{string.Join("\n", failures)}");
    }

    /// <summary>
    /// The states a crash may leave, longest first: the durable state with the first k calls applied, and then, when
    /// call k + 1 is a write, with a part of it. The kernel sends a write larger than what one FUSE request carries as
    /// several requests, each a change of its own (cut at page boundaries), and a crash may keep the first ones:
    /// a write not covered by an fsync may survive in part, as on a local filesystem.
    /// </summary>
    private IEnumerable<(int K, CrashModel Model, string How)> Candidates()
    {
        for (int k = Pending.Count; k >= 0; k--)
        {
            CrashModel prefix = Durable.Clone();
            foreach (CrashOp op in Pending.Take(k))
            {
                op.Apply(prefix);
            }
            if (k < Pending.Count && Pending[k] is WriteOp w)
            {
                for (long end = (w.Offset + w.Data.Length - 1) / 4096 * 4096; end > w.Offset; end -= 4096)
                {
                    CrashModel part = prefix.Clone();
                    new WriteOp(w.Path, w.Offset, w.Data[..(int)(end - w.Offset)]).Apply(part);
                    yield return (k, part, $" and {w} up to {end}");
                }
            }
            yield return (k, prefix, "");
        }
    }

    private string? Compare(IPosixTarget t, CrashModel m, out Dictionary<int, byte[]> actualContent)
    {
        actualContent = [];
        var files = new SortedSet<string>(StringComparer.Ordinal);
        var subdirectories = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string d in CrashModel.TopDirectories)
        {
            foreach (string name in List(t, d))
            {
                string path = d + "/" + name;
                Check(t.LStat(path, out PosixStat st), "lstat " + path);
                (st.Type == ModeBits.S_IFDIR ? subdirectories : files).Add(path);
            }
        }
        if (!files.SetEquals(m.Names.Keys))
        {
            return $"files [{string.Join(' ', files)}] expected [{string.Join(' ', m.Names.Keys.Order(StringComparer.Ordinal))}]";
        }
        if (!subdirectories.SetEquals(m.Subdirectories))
        {
            return $"subdirectories [{string.Join(' ', subdirectories)}] expected [{string.Join(' ', m.Subdirectories)}]";
        }
        var inodeOf = new Dictionary<int, ulong>();
        foreach ((string path, int id) in m.Names)
        {
            Check(t.Stat(path, out PosixStat st), "stat " + path);
            byte[] expected = m.Content[id];
            if (st.Size != expected.Length)
            {
                return $"{path}: size {st.Size}, expected {expected.Length}";
            }
            if (st.Nlink != m.Links(id))
            {
                return $"{path}: nlink {st.Nlink}, expected {m.Links(id)}";
            }
            if (inodeOf.TryGetValue(id, out ulong ino) ? ino != st.Ino : inodeOf.ContainsValue(st.Ino))
            {
                return $"{path}: inode {st.Ino} does not group with the same links as expected";
            }
            inodeOf[id] = st.Ino;
            string? xattr = ReadXattr(t, path);
            if (xattr != m.Xattr[id])
            {
                return $"{path}: xattr '{xattr}', expected '{m.Xattr[id]}'";
            }
            if (!actualContent.ContainsKey(id))
            {
                byte[] actual = ReadAll(t, path, expected.Length);
                bool exact = Durable.Content.TryGetValue(id, out byte[]? durable) && ReferenceEquals(durable, expected);
                for (int i = 0; i < expected.Length; i++)
                {
                    if (actual[i] != expected[i] && (exact || actual[i] != 0))
                    {
                        return $"{path}: byte {i} is {actual[i]}, expected {expected[i]}{(exact ? " (fsynced)" : " or 0")}";
                    }
                }
                actualContent[id] = actual;
            }
        }
        return null;
    }

    private CrashOp Next()
    {
        List<string> existing = [.. _model.Names.Keys.Order(StringComparer.Ordinal)];
        string AnyPath() => $"{CrashModel.TopDirectories[_random.Next(CrashModel.TopDirectories.Length)]}/f{_random.Next(FilesPerDirectory)}";
        string? Free()
        {
            for (int i = 0; i < 10; i++)
            {
                string p = AnyPath();
                if (!_model.Names.ContainsKey(p) && !_model.Subdirectories.Contains(p))
                {
                    return p;
                }
            }
            return null;
        }
        string? Some() => existing.Count == 0 ? null : existing[_random.Next(existing.Count)];

        int roll = _random.Next(100);
        if (roll < 14 || existing.Count == 0)
        {
            return Free() is { } p ? new CreateOp(p) : new FsyncOp(Some()!);
        }
        string path = Some()!;
        int size = _model.Content[_model.Names[path]].Length;
        if (roll < 44)
        {
            byte[] data = new byte[1 + _random.Next(MaxWrite)];
            _random.NextBytes(data);
            long offset = _random.Next(3) == 0 ? size : _random.Next(size + 1);
            return new WriteOp(path, offset, data);
        }
        if (roll < 58)
        {
            return new FsyncOp(path);
        }
        if (roll < 68)
        {
            string to = _random.Next(2) == 0 ? Some()! : Free() ?? Some()!;
            return to == path ? new FsyncOp(path) : new RenameOp(path, to);
        }
        if (roll < 74)
        {
            return Free() is { } to ? new LinkOp(path, to) : new FsyncOp(path);
        }
        if (roll < 80)
        {
            return new UnlinkOp(path);
        }
        if (roll < 88)
        {
            return new TruncateOp(path, _random.Next(size + 8192));
        }
        if (roll < 94)
        {
            return new SetXattrOp(path, $"v{_random.Next(1000)}");
        }
        string sub = $"{CrashModel.TopDirectories[_random.Next(CrashModel.TopDirectories.Length)]}/s{_random.Next(3)}";
        return _model.Subdirectories.Contains(sub) ? new RmdirOp(sub) : new MkdirOp(sub);
    }

    private static List<string> List(IPosixTarget t, string dir)
    {
        Check(t.OpenDir(dir, out int h), "opendir " + dir);
        var names = new List<string>();
        while (true)
        {
            Check(t.ReadDir(h, out PosixDirEntry? entry), "readdir " + dir);
            if (entry is null)
            {
                break;
            }
            if (entry.Value.Name is not ("." or ".."))
            {
                names.Add(entry.Value.Name);
            }
        }
        t.CloseDir(h);
        return names;
    }

    private static string? ReadXattr(IPosixTarget t, string path)
    {
        var buffer = new byte[256];
        int e = t.GetXattr(path, SetXattrOp.Name, buffer, out int size);
        return e == Errno.ENODATA ? null : e != 0 ? throw new InvalidOperationException($"getxattr {path}: errno {e}") : Encoding.UTF8.GetString(buffer, 0, size);
    }

    private static byte[] ReadAll(IPosixTarget t, string path, int length)
    {
        var data = new byte[length];
        Check(t.Open(path, OpenFlags.O_RDONLY, 0, out int fd), "open " + path);
        int at = 0;
        while (at < length)
        {
            Check(t.PRead(fd, data.AsSpan(at), at, out int n), "read " + path);
            if (n == 0)
            {
                break;
            }
            at += n;
        }
        t.Close(fd);
        return at == length ? data : throw new InvalidOperationException($"{path}: read {at} bytes of {length} (size points past its data)");
    }

    private static void Check(int errno, string what)
    {
        if (errno != 0)
        {
            throw new InvalidOperationException($"{what}: errno {errno}");
        }
    }
}
