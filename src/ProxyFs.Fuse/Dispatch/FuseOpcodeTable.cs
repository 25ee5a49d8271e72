using ProxyFs.Fuse.Protocol;

namespace ProxyFs.Fuse.Dispatch;

/// <summary>Serves one opcode: returns 0 (reply with the body built), a positive errno, or <see cref="FuseDispatcher.NoReply"/>.</summary>
internal delegate int FuseHandler(ref FuseRequest request);

/// <summary>What the dispatcher and the debug printer know about one opcode.</summary>
internal sealed class FuseOpcodeEntry
{
    public FuseOpcodeEntry(fuse_opcode opcode, FuseHandler handler, FuseStruct? input = null, int names = 0,
        FuseStruct[]? output = null, bool noReply = false, bool dataIn = false, bool dataOut = false)
    {
        Opcode = opcode;
        Name = FuseOpcodeNames.Name((uint)opcode);
        Handler = handler;
        Input = input;
        Names = names;
        Output = output ?? [];
        NoReply = noReply;
        DataIn = dataIn;
        DataOut = dataOut;
    }

    public fuse_opcode Opcode { get; }

    /// <summary>The kernel's name without FUSE_.</summary>
    public string Name { get; }

    public FuseHandler Handler { get; }

    /// <summary>The fixed argument struct at the start of the request, if any.</summary>
    public FuseStruct? Input { get; }

    /// <summary>How many NUL-terminated names follow the struct.</summary>
    public int Names { get; }

    /// <summary>The structs of a successful reply, in order.</summary>
    public FuseStruct[] Output { get; }

    /// <summary>The kernel expects no reply (FORGET, BATCH_FORGET, INTERRUPT, NOTIFY_REPLY).</summary>
    public bool NoReply { get; }

    /// <summary>Raw bytes follow the struct and names (WRITE data, SETXATTR value).</summary>
    public bool DataIn { get; }

    /// <summary>The reply is raw bytes (READ, READLINK, READDIR, …) rather than structs.</summary>
    public bool DataOut { get; }

    public int InputSize => Input?.Size ?? 0;
}

internal sealed partial class FuseDispatcher
{
    /// <summary>Every opcode a POSIX filesystem needs; the table must serve each one (checked at start-up).</summary>
    internal static readonly fuse_opcode[] RequiredOpcodes =
    [
        fuse_opcode.FUSE_LOOKUP, fuse_opcode.FUSE_FORGET, fuse_opcode.FUSE_BATCH_FORGET, fuse_opcode.FUSE_GETATTR,
        fuse_opcode.FUSE_SETATTR, fuse_opcode.FUSE_READLINK, fuse_opcode.FUSE_SYMLINK, fuse_opcode.FUSE_MKNOD,
        fuse_opcode.FUSE_MKDIR, fuse_opcode.FUSE_UNLINK, fuse_opcode.FUSE_RMDIR, fuse_opcode.FUSE_RENAME,
        fuse_opcode.FUSE_RENAME2, fuse_opcode.FUSE_LINK, fuse_opcode.FUSE_OPEN, fuse_opcode.FUSE_READ,
        fuse_opcode.FUSE_WRITE, fuse_opcode.FUSE_STATFS, fuse_opcode.FUSE_RELEASE, fuse_opcode.FUSE_FSYNC,
        fuse_opcode.FUSE_SETXATTR, fuse_opcode.FUSE_GETXATTR, fuse_opcode.FUSE_LISTXATTR, fuse_opcode.FUSE_REMOVEXATTR,
        fuse_opcode.FUSE_FLUSH, fuse_opcode.FUSE_INIT, fuse_opcode.FUSE_OPENDIR, fuse_opcode.FUSE_READDIR,
        fuse_opcode.FUSE_READDIRPLUS, fuse_opcode.FUSE_RELEASEDIR, fuse_opcode.FUSE_FSYNCDIR, fuse_opcode.FUSE_ACCESS,
        fuse_opcode.FUSE_CREATE, fuse_opcode.FUSE_INTERRUPT, fuse_opcode.FUSE_DESTROY, fuse_opcode.FUSE_FALLOCATE,
        fuse_opcode.FUSE_LSEEK, fuse_opcode.FUSE_COPY_FILE_RANGE, fuse_opcode.FUSE_SYNCFS, fuse_opcode.FUSE_TMPFILE,
    ];

    /// <summary>Opcodes answered ENOSYS on purpose: locks stay local to the kernel, the rest is not POSIX file I/O.</summary>
    internal static readonly fuse_opcode[] UnservedOpcodes =
    [
        fuse_opcode.FUSE_GETLK, fuse_opcode.FUSE_SETLK, fuse_opcode.FUSE_SETLKW, fuse_opcode.FUSE_BMAP,
        fuse_opcode.FUSE_IOCTL, fuse_opcode.FUSE_POLL, fuse_opcode.FUSE_SETUPMAPPING, fuse_opcode.FUSE_REMOVEMAPPING,
        fuse_opcode.FUSE_STATX,
    ];

    private FuseOpcodeEntry?[] BuildTable()
    {
        FuseStruct[] entry = [FuseStruct.Of<fuse_entry_out>()];
        FuseStruct[] attr = [FuseStruct.Of<fuse_attr_out>()];
        FuseStruct[] open = [FuseStruct.Of<fuse_open_out>()];
        FuseOpcodeEntry[] rows =
        [
            // Session: FuseDispatcher.Session.cs
            new(fuse_opcode.FUSE_INIT, Init, FuseStruct.Of<fuse_init_in>(), output: [FuseStruct.Of<fuse_init_out>()]),
            new(fuse_opcode.FUSE_DESTROY, Destroy),
            new(fuse_opcode.FUSE_INTERRUPT, Interrupt, FuseStruct.Of<fuse_interrupt_in>(), noReply: true),
            new(fuse_opcode.FUSE_NOTIFY_REPLY, NotifyReply, noReply: true, dataIn: true),
            new(fuse_opcode.FUSE_STATFS, StatFs, output: [FuseStruct.Of<fuse_statfs_out>()]),
            new(fuse_opcode.FUSE_SYNCFS, SyncFs, FuseStruct.Of<fuse_syncfs_in>()),
            // Nodes and names: FuseDispatcher.Nodes.cs
            new(fuse_opcode.FUSE_LOOKUP, Lookup, names: 1, output: entry),
            new(fuse_opcode.FUSE_FORGET, Forget, FuseStruct.Of<fuse_forget_in>(), noReply: true),
            new(fuse_opcode.FUSE_BATCH_FORGET, BatchForget, FuseStruct.Of<fuse_batch_forget_in>(), noReply: true, dataIn: true),
            new(fuse_opcode.FUSE_GETATTR, GetAttr, FuseStruct.Of<fuse_getattr_in>(), output: attr),
            new(fuse_opcode.FUSE_SETATTR, SetAttr, FuseStruct.Of<fuse_setattr_in>(), output: attr),
            new(fuse_opcode.FUSE_ACCESS, Access, FuseStruct.Of<fuse_access_in>()),
            new(fuse_opcode.FUSE_READLINK, ReadLink, dataOut: true),
            new(fuse_opcode.FUSE_SYMLINK, Symlink, names: 2, output: entry),
            new(fuse_opcode.FUSE_MKNOD, MkNod, FuseStruct.Of<fuse_mknod_in>(), names: 1, output: entry),
            new(fuse_opcode.FUSE_MKDIR, MkDir, FuseStruct.Of<fuse_mkdir_in>(), names: 1, output: entry),
            new(fuse_opcode.FUSE_UNLINK, Unlink, names: 1),
            new(fuse_opcode.FUSE_RMDIR, RmDir, names: 1),
            new(fuse_opcode.FUSE_RENAME, Rename, FuseStruct.Of<fuse_rename_in>(), names: 2),
            new(fuse_opcode.FUSE_RENAME2, Rename2, FuseStruct.Of<fuse_rename2_in>(), names: 2),
            new(fuse_opcode.FUSE_LINK, Link, FuseStruct.Of<fuse_link_in>(), names: 1, output: entry),
            // Files: FuseDispatcher.Files.cs
            new(fuse_opcode.FUSE_OPEN, Open, FuseStruct.Of<fuse_open_in>(), output: open),
            new(fuse_opcode.FUSE_CREATE, Create, FuseStruct.Of<fuse_create_in>(), names: 1, output: [FuseStruct.Of<fuse_entry_out>(), FuseStruct.Of<fuse_open_out>()]),
            new(fuse_opcode.FUSE_TMPFILE, TmpFile, FuseStruct.Of<fuse_create_in>(), names: 1, output: [FuseStruct.Of<fuse_entry_out>(), FuseStruct.Of<fuse_open_out>()]),
            new(fuse_opcode.FUSE_READ, Read, FuseStruct.Of<fuse_read_in>(), dataOut: true),
            new(fuse_opcode.FUSE_WRITE, Write, FuseStruct.Of<fuse_write_in>(), dataIn: true, output: [FuseStruct.Of<fuse_write_out>()]),
            new(fuse_opcode.FUSE_FLUSH, Flush, FuseStruct.Of<fuse_flush_in>()),
            new(fuse_opcode.FUSE_RELEASE, Release, FuseStruct.Of<fuse_release_in>()),
            new(fuse_opcode.FUSE_FSYNC, Fsync, FuseStruct.Of<fuse_fsync_in>()),
            new(fuse_opcode.FUSE_FALLOCATE, Fallocate, FuseStruct.Of<fuse_fallocate_in>()),
            new(fuse_opcode.FUSE_LSEEK, Lseek, FuseStruct.Of<fuse_lseek_in>(), output: [FuseStruct.Of<fuse_lseek_out>()]),
            new(fuse_opcode.FUSE_COPY_FILE_RANGE, CopyFileRange, FuseStruct.Of<fuse_copy_file_range_in>(), output: [FuseStruct.Of<fuse_write_out>()]),
            // Directories: FuseDispatcher.Directories.cs
            new(fuse_opcode.FUSE_OPENDIR, OpenDir, FuseStruct.Of<fuse_open_in>(), output: open),
            new(fuse_opcode.FUSE_READDIR, ReadDir, FuseStruct.Of<fuse_read_in>(), dataOut: true),
            new(fuse_opcode.FUSE_READDIRPLUS, ReadDirPlus, FuseStruct.Of<fuse_read_in>(), dataOut: true),
            new(fuse_opcode.FUSE_RELEASEDIR, ReleaseDir, FuseStruct.Of<fuse_release_in>()),
            new(fuse_opcode.FUSE_FSYNCDIR, FsyncDir, FuseStruct.Of<fuse_fsync_in>()),
            // Extended attributes: FuseDispatcher.Xattrs.cs
            new(fuse_opcode.FUSE_SETXATTR, SetXattr, FuseStruct.Of<fuse_setxattr_in>(), names: 1, dataIn: true),
            new(fuse_opcode.FUSE_GETXATTR, GetXattr, FuseStruct.Of<fuse_getxattr_in>(), names: 1, dataOut: true),
            new(fuse_opcode.FUSE_LISTXATTR, ListXattr, FuseStruct.Of<fuse_getxattr_in>(), dataOut: true),
            new(fuse_opcode.FUSE_REMOVEXATTR, RemoveXattr, names: 1),
        ];
        var table = new FuseOpcodeEntry?[FuseCounters.OpcodeSlots];
        foreach (var row in rows)
        {
            table[(int)row.Opcode] = row;
        }
        CheckTable(table, rows);
        return table;
    }

    /// <summary>The start-up check: one row per opcode, every required opcode served, none of the unserved ones.</summary>
    internal static void CheckTable(FuseOpcodeEntry?[] table, FuseOpcodeEntry[] rows)
    {
        var problems = new List<string>();
        if (rows.Select(r => r.Opcode).Distinct().Count() != rows.Length)
        {
            problems.Add("an opcode has two rows");
        }
        foreach (var op in RequiredOpcodes)
        {
            if (table[(int)op] is not { } row || row.Opcode != op)
            {
                problems.Add($"{op} has no handler");
            }
        }
        foreach (var op in UnservedOpcodes)
        {
            if (table[(int)op] is not null)
            {
                problems.Add($"{op} must stay unserved (ENOSYS)");
            }
        }
        foreach (var row in rows)
        {
            if (row.Name != row.Opcode.ToString()["FUSE_".Length..])
            {
                problems.Add($"{row.Opcode} is named {row.Name}");
            }
            if (row.Handler.Target is null && row.Handler.Method.IsStatic is false)
            {
                problems.Add($"{row.Opcode} has an unbound handler");
            }
        }
        if (problems.Count > 0)
        {
            throw new InvalidOperationException("FUSE opcode table is inconsistent: " + string.Join("; ", problems));
        }
    }
}
