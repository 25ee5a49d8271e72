using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using ProxyFs.Fuse.Protocol;

namespace ProxyFs.Fuse.Dispatch;

/// <summary>
/// Debug mode: every request and reply printed as the kernel's named structs, field by field, with names as strings.
/// Allocates freely; only used when debug is on.
/// </summary>
internal static class FuseDebugFormatter
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private static readonly FuseStruct EntryOut = FuseStruct.Of<fuse_entry_out>();

    public static string FormatRequest(FuseOpcodeEntry? entry, in fuse_in_header header, ReadOnlySpan<byte> payload)
    {
        var text = new StringBuilder();
        text.Append(Invariant, $"<- {Name(entry, header.opcode)} unique={header.unique} nodeid={header.nodeid} uid={header.uid} gid={header.gid} pid={header.pid} len={header.len}");
        if (header.total_extlen != 0)
        {
            text.Append(Invariant, $" total_extlen={header.total_extlen}");
        }
        if (entry is null)
        {
            text.Append(Invariant, $" payload[{payload.Length}]");
            return text.ToString();
        }
        if (entry.Input is { } input)
        {
            int size = Math.Min(entry.InputSize, payload.Length);
            text.Append(' ').Append(FormatStruct(input, payload[..size]));
            payload = payload[size..];
        }
        if (entry.Opcode == fuse_opcode.FUSE_BATCH_FORGET)
        {
            var items = MemoryMarshal.Cast<byte, fuse_forget_one>(payload);
            foreach (var item in items)
            {
                text.Append(Invariant, $" fuse_forget_one{{nodeid={item.nodeid} nlookup={item.nlookup}}}");
            }
            return text.ToString();
        }
        for (int i = 0; i < entry.Names; i++)
        {
            int end = payload.IndexOf((byte)0);
            if (end < 0)
            {
                text.Append(" name=<unterminated>");
                break;
            }
            text.Append(i == 0 ? " name=" : " name2=").Append(Quote(payload[..end]));
            payload = payload[(end + 1)..];
        }
        if (entry.DataIn && payload.Length > 0)
        {
            text.Append(Invariant, $" data[{payload.Length}]");
        }
        return text.ToString();
    }

    public static string FormatReply(FuseOpcodeEntry? entry, in fuse_in_header request, in fuse_out_header header, ReadOnlySpan<byte> body)
    {
        var text = new StringBuilder();
        text.Append(Invariant, $"-> {Name(entry, request.opcode)} unique={header.unique} len={header.len} error={header.error}");
        if (header.error != 0)
        {
            text.Append(" (").Append(ErrnoName(-header.error)).Append(')');
            return text.ToString();
        }
        if (entry is null)
        {
            return text.ToString();
        }
        if (entry.DataOut)
        {
            switch (entry.Opcode)
            {
                case fuse_opcode.FUSE_READDIR:
                case fuse_opcode.FUSE_READDIRPLUS:
                    FormatDirents(text, body, entry.Opcode == fuse_opcode.FUSE_READDIRPLUS);
                    break;
                case fuse_opcode.FUSE_READLINK:
                    text.Append(" target=").Append(Quote(body));
                    break;
                case fuse_opcode.FUSE_GETXATTR or fuse_opcode.FUSE_LISTXATTR:
                    // Either fuse_getxattr_out (a size query) or the bytes: print both readings.
                    text.Append(Invariant, $" data[{body.Length}]=").Append(Quote(body));
                    break;
                default:
                    text.Append(Invariant, $" data[{body.Length}]");
                    break;
            }
            return text.ToString();
        }
        foreach (var type in entry.Output)
        {
            int size = type.Size;
            if (body.Length < size)
            {
                break;
            }
            text.Append(' ').Append(FormatStruct(type, body[..size]));
            body = body[size..];
        }
        return text.ToString();
    }

    /// <summary>A struct as name{field=value …}, nested structs and fixed arrays included.</summary>
    public static string FormatStruct(FuseStruct type, ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder();
        AppendStruct(text, type, bytes);
        return text.ToString();
    }

    private static void AppendStruct(StringBuilder text, FuseStruct type, ReadOnlySpan<byte> bytes)
    {
        text.Append(type.Name).Append('{');
        bool first = true;
        foreach (FuseField field in type.Layout)
        {
            if (!first)
            {
                text.Append(' ');
            }
            first = false;
            text.Append(field.Name).Append('=');
            int offset = field.Offset;
            if (field.Nested is { } nested)
            {
                AppendStruct(text, nested, offset <= bytes.Length ? bytes[offset..] : []);
            }
            else if (field.IsArray)
            {
                int elementSize = FuseStruct.ScalarSize(field.Scalar!);
                text.Append('[');
                for (int i = 0; i < field.Count && offset + ((i + 1) * elementSize) <= bytes.Length; i++)
                {
                    text.Append(i == 0 ? "" : ",").Append(ReadScalar(field.Scalar!, bytes[(offset + (i * elementSize))..]));
                }
                text.Append(']');
            }
            else
            {
                text.Append(offset + field.Size <= bytes.Length ? ReadScalar(field.Scalar!, bytes[offset..]) : "?");
            }
        }
        text.Append('}');
    }

    private static string ReadScalar(Type type, ReadOnlySpan<byte> bytes)
    {
        if (type == typeof(ulong))
        {
            return BinaryPrimitives.ReadUInt64LittleEndian(bytes).ToString(Invariant);
        }
        if (type == typeof(long))
        {
            return BinaryPrimitives.ReadInt64LittleEndian(bytes).ToString(Invariant);
        }
        if (type == typeof(uint))
        {
            return BinaryPrimitives.ReadUInt32LittleEndian(bytes).ToString(Invariant);
        }
        if (type == typeof(int))
        {
            return BinaryPrimitives.ReadInt32LittleEndian(bytes).ToString(Invariant);
        }
        if (type == typeof(ushort))
        {
            return BinaryPrimitives.ReadUInt16LittleEndian(bytes).ToString(Invariant);
        }
        return "?";
    }

    private static void FormatDirents(StringBuilder text, ReadOnlySpan<byte> body, bool plus)
    {
        int entrySize = plus ? Unsafe.SizeOf<fuse_entry_out>() : 0;
        int direntSize = Unsafe.SizeOf<fuse_dirent>();
        int count = 0;
        while (body.Length >= entrySize + direntSize)
        {
            var dirent = MemoryMarshal.Read<fuse_dirent>(body[entrySize..]);
            int nameStart = entrySize + direntSize;
            if (nameStart + dirent.namelen > body.Length)
            {
                text.Append(" <truncated>");
                break;
            }
            text.Append(Invariant, $" [{count}] ");
            if (plus)
            {
                AppendStruct(text, EntryOut, body[..entrySize]);
                text.Append(' ');
            }
            text.Append(Invariant, $"fuse_dirent{{ino={dirent.ino} off={dirent.off} namelen={dirent.namelen} type={dirent.type}}} name=")
                .Append(Quote(body.Slice(nameStart, (int)dirent.namelen)));
            int record = (nameStart + (int)dirent.namelen + 7) & ~7;
            body = body[Math.Min(record, body.Length)..];
            count++;
        }
        text.Append(Invariant, $" entries={count}");
    }

    private static string Name(FuseOpcodeEntry? entry, uint opcode) => entry?.Name ?? FuseOpcodeNames.Name(opcode);

    private static string Quote(ReadOnlySpan<byte> bytes) => "\"" + Encoding.UTF8.GetString(bytes).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\0", "\\0", StringComparison.Ordinal) + "\"";

    /// <summary>The symbolic name of an errno (ENOENT), for debug output.</summary>
    public static string ErrnoName(int errno) => errno switch
    {
        1 => "EPERM",
        2 => "ENOENT",
        4 => "EINTR",
        5 => "EIO",
        7 => "E2BIG",
        9 => "EBADF",
        11 => "EAGAIN",
        12 => "ENOMEM",
        13 => "EACCES",
        16 => "EBUSY",
        17 => "EEXIST",
        18 => "EXDEV",
        20 => "ENOTDIR",
        21 => "EISDIR",
        22 => "EINVAL",
        26 => "ETXTBSY",
        27 => "EFBIG",
        28 => "ENOSPC",
        30 => "EROFS",
        31 => "EMLINK",
        34 => "ERANGE",
        36 => "ENAMETOOLONG",
        38 => "ENOSYS",
        39 => "ENOTEMPTY",
        40 => "ELOOP",
        61 => "ENODATA",
        71 => "EPROTO",
        95 => "EOPNOTSUPP",
        107 => "ENOTCONN",
        _ => "errno " + errno.ToString(Invariant),
    };
}
