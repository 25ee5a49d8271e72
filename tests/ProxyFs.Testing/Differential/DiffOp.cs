using System.Globalization;
using System.Text;

namespace ProxyFs.Testing.Differential;

/// <summary>The operations the differential tester generates.</summary>
public enum OpKind
{
    Open,
    TmpFile,
    Close,
    Write,
    Append,
    Read,
    Truncate,
    FTruncate,
    Fsync,
    Fallocate,
    Seek,
    CopyRange,
    Rename,
    Link,
    LinkFd,
    Unlink,
    Mkdir,
    Rmdir,
    Symlink,
    ReadLink,
    Stat,
    Chmod,
    Chown,
    Utimens,
    SetXattr,
    GetXattr,
    ListXattr,
    RemoveXattr,
    Mknod,
    Access,
    /// <summary>Every descriptor is closed and the filesystem unmounted and mounted again (a target that cannot: only the closes).</summary>
    Remount,
}

/// <summary>
/// One generated operation, as the user who performs it, the paths and descriptor slots it names and up to three
/// numbers whose meaning depends on the kind. Its text form ("alice Write slot=1 a=100 b=20 c=7") is what failure
/// reports print and what regression tests store; <see cref="Parse"/> reads it back.
/// </summary>
public sealed record DiffOp(string User, OpKind Kind, string Path = "", string Path2 = "", int Slot = 0, int Slot2 = 0, long A = 0, long B = 0, long C = 0)
{
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(User).Append(' ').Append(Kind);
        if (Path.Length > 0)
        {
            sb.Append(" path=").Append(Path);
        }
        if (Path2.Length > 0)
        {
            sb.Append(" path2=").Append(Path2);
        }
        sb.Append(" slot=").Append(Slot);
        if (Slot2 != 0)
        {
            sb.Append(" slot2=").Append(Slot2);
        }
        sb.Append(CultureInfo.InvariantCulture, $" a={A} b={B} c={C}");
        return sb.ToString();
    }

    public static DiffOp Parse(string text)
    {
        string[] parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var op = new DiffOp(parts[0], Enum.Parse<OpKind>(parts[1]));
        foreach (string part in parts.Skip(2))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            string key = part[..eq];
            string value = part[(eq + 1)..];
            op = key switch
            {
                "path" => op with { Path = value },
                "path2" => op with { Path2 = value },
                "slot" => op with { Slot = int.Parse(value, CultureInfo.InvariantCulture) },
                "slot2" => op with { Slot2 = int.Parse(value, CultureInfo.InvariantCulture) },
                "a" => op with { A = long.Parse(value, CultureInfo.InvariantCulture) },
                "b" => op with { B = long.Parse(value, CultureInfo.InvariantCulture) },
                "c" => op with { C = long.Parse(value, CultureInfo.InvariantCulture) },
                _ => throw new FormatException($"unknown field {key} in '{text}'"),
            };
        }
        return op;
    }
}
