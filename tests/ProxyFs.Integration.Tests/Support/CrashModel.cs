using System.Text;
using ProxyFs.Core.FileSystem;
using ProxyFs.Testing.Posix;

namespace ProxyFs.Integration.Tests.Support;

/// <summary>
/// What a crash workload expects of a mount: the files (by path, with an identity shared by hard links), their
/// contents and an xattr, and the subdirectories. Contents are immutable arrays, replaced by each write, so two states
/// share an array exactly when the file was not written in between.
/// </summary>
public sealed class CrashModel
{
    public static readonly string[] TopDirectories = ["d0", "d1", "d2"];

    public Dictionary<string, int> Names { get; } = new(StringComparer.Ordinal);
    public Dictionary<int, byte[]> Content { get; } = [];
    public Dictionary<int, string?> Xattr { get; } = [];
    public SortedSet<string> Subdirectories { get; } = new(StringComparer.Ordinal);
    public int NextId { get; set; } = 1;

    public CrashModel Clone()
    {
        var c = new CrashModel { NextId = NextId };
        foreach ((string k, int v) in Names)
        {
            c.Names[k] = v;
        }
        foreach ((int k, byte[] v) in Content)
        {
            c.Content[k] = v;
        }
        foreach ((int k, string? v) in Xattr)
        {
            c.Xattr[k] = v;
        }
        c.Subdirectories.UnionWith(Subdirectories);
        return c;
    }

    public int Links(int id) => Names.Values.Count(v => v == id);
}

/// <summary>One mutating system call of the workload (or an fsync), applied to the mount and to the model alike.</summary>
public abstract record CrashOp
{
    /// <summary>Runs the call; 0 or an errno.</summary>
    public abstract int Run(IPosixTarget t);

    /// <summary>The same change in the model.</summary>
    public abstract void Apply(CrashModel m);
}

public sealed record CreateOp(string Path) : CrashOp
{
    public override int Run(IPosixTarget t)
    {
        int e = t.Open(Path, OpenFlags.O_CREAT | OpenFlags.O_EXCL | OpenFlags.O_WRONLY, 0x1A4, out int fd);
        return e != 0 ? e : t.Close(fd);
    }

    public override void Apply(CrashModel m)
    {
        int id = m.NextId++;
        m.Names[Path] = id;
        m.Content[id] = [];
        m.Xattr[id] = null;
    }
}

public sealed record WriteOp(string Path, long Offset, byte[] Data) : CrashOp
{
    public override int Run(IPosixTarget t)
    {
        int e = t.Open(Path, OpenFlags.O_WRONLY, 0, out int fd);
        if (e != 0)
        {
            return e;
        }
        e = t.PWrite(fd, Data, Offset, out int n);
        int c = t.Close(fd);
        return e != 0 ? e : n != Data.Length ? Errno.EIO : c;
    }

    public override void Apply(CrashModel m)
    {
        int id = m.Names[Path];
        byte[] old = m.Content[id];
        var next = new byte[Math.Max(old.Length, Offset + Data.Length)];
        old.CopyTo(next, 0);
        Data.CopyTo(next, Offset);
        m.Content[id] = next;
    }

    public override string ToString() => $"write {Path} [{Offset}, {Offset + Data.Length})";
}

public sealed record TruncateOp(string Path, long Length) : CrashOp
{
    public override int Run(IPosixTarget t) => t.Truncate(Path, Length);

    public override void Apply(CrashModel m)
    {
        int id = m.Names[Path];
        byte[] next = new byte[Length];
        m.Content[id].AsSpan(0, (int)Math.Min(Length, m.Content[id].Length)).CopyTo(next);
        m.Content[id] = next;
    }
}

public sealed record RenameOp(string From, string To) : CrashOp
{
    public override int Run(IPosixTarget t) => t.Rename(From, To);

    public override void Apply(CrashModel m)
    {
        int id = m.Names[From];
        if (m.Names.TryGetValue(To, out int target) && target == id)
        {
            return; // two links of one inode: rename does nothing
        }
        m.Names.Remove(From);
        m.Names[To] = id;
        Forget(m, target);
    }

    internal static void Forget(CrashModel m, int id)
    {
        if (id != 0 && m.Links(id) == 0)
        {
            m.Content.Remove(id);
            m.Xattr.Remove(id);
        }
    }
}

public sealed record LinkOp(string From, string To) : CrashOp
{
    public override int Run(IPosixTarget t) => t.Link(From, To);

    public override void Apply(CrashModel m) => m.Names[To] = m.Names[From];
}

public sealed record UnlinkOp(string Path) : CrashOp
{
    public override int Run(IPosixTarget t) => t.Unlink(Path);

    public override void Apply(CrashModel m)
    {
        int id = m.Names[Path];
        m.Names.Remove(Path);
        RenameOp.Forget(m, id);
    }
}

public sealed record SetXattrOp(string Path, string Value) : CrashOp
{
    public const string Name = "user.crash";

    public override int Run(IPosixTarget t) => t.SetXattr(Path, Name, Encoding.UTF8.GetBytes(Value), XattrFlags.None);

    public override void Apply(CrashModel m) => m.Xattr[m.Names[Path]] = Value;
}

public sealed record MkdirOp(string Path) : CrashOp
{
    public override int Run(IPosixTarget t) => t.Mkdir(Path, 0x1ED);

    public override void Apply(CrashModel m) => m.Subdirectories.Add(Path);
}

public sealed record RmdirOp(string Path) : CrashOp
{
    public override int Run(IPosixTarget t) => t.Rmdir(Path);

    public override void Apply(CrashModel m) => m.Subdirectories.Remove(Path);
}

/// <summary>fsync of one file: on success, every change made before it is durable (docs/SEMANTICS.md).</summary>
public sealed record FsyncOp(string Path) : CrashOp
{
    public override int Run(IPosixTarget t)
    {
        int e = t.Open(Path, OpenFlags.O_RDONLY, 0, out int fd);
        if (e != 0)
        {
            return e;
        }
        e = t.Fsync(fd, dataOnly: false);
        int c = t.Close(fd);
        return e != 0 ? e : c;
    }

    public override void Apply(CrashModel m)
    {
    }
}
