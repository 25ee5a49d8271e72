using System.Runtime.InteropServices;
using System.Text;
using ProxyFs.Fuse.Protocol;
using ProxyFs.Fuse.Tests.Support;

namespace ProxyFs.Fuse.Tests;

/// <summary>Round trips through the dispatcher: raw request bytes in, raw reply bytes out.</summary>
public class DispatcherTests
{
    private readonly DispatcherHarness _harness = new();
    private readonly TestFileSystem _fs;

    public DispatcherTests()
    {
        _fs = _harness.FileSystem!;
        _harness.Init();
    }

    private Reply Send(RequestBuilder request) => new(_harness.Send(request.Build()) ?? throw new InvalidOperationException("no reply"));

    [Fact]
    public void Lookup_finds_a_file_and_counts_the_lookup()
    {
        var reply = Send(new RequestBuilder(fuse_opcode.FUSE_LOOKUP, 1, unique: 77).Name("hello.txt"));
        Assert.Equal(0, reply.Error);
        Assert.Equal(77ul, reply.Header.unique);
        Assert.Equal(128, reply.Body.Length);
        var entry = reply.Read<fuse_entry_out>();
        Assert.Equal(_fs.HelloIno, entry.nodeid);
        Assert.Equal((ulong)TestFileSystem.HelloContent.Length, entry.attr.size);
        Assert.Equal(0x81A4u, entry.attr.mode);
        Assert.Equal(1, _fs.Find(_fs.HelloIno)!.Lookups);
    }

    [Fact]
    public void Lookup_of_a_missing_name_is_ENOENT()
    {
        var reply = Send(new RequestBuilder(fuse_opcode.FUSE_LOOKUP, 1).Name("nope"));
        Assert.Equal(-2, reply.Error);
        Assert.Equal(0, reply.Body.Length);
        Assert.Equal(1, _harness.Counters.Errors);
    }

    [Fact]
    public void Getattr_returns_attributes_and_passes_the_handle_only_with_GETATTR_FH()
    {
        var spy = new HandleSpy();
        var harness = new DispatcherHarness(spy);
        harness.Init();
        var reply = new Reply(harness.Send(new RequestBuilder(fuse_opcode.FUSE_GETATTR, 5).Struct(new fuse_getattr_in { getattr_flags = FuseKernel.FUSE_GETATTR_FH, fh = 99 }).Build())!);
        Assert.Equal(0, reply.Error);
        Assert.Equal(104, reply.Body.Length);
        Assert.Equal(5ul, reply.Read<fuse_attr_out>().attr.ino);
        Assert.Equal(99ul, spy.Handle);
        harness.Send(new RequestBuilder(fuse_opcode.FUSE_GETATTR, 5).Struct(new fuse_getattr_in { fh = 99 }).Build());
        Assert.Null(spy.Handle);
    }

    [Fact]
    public void Read_returns_the_bytes_and_a_short_read_at_end_of_file()
    {
        var reply = Send(new RequestBuilder(fuse_opcode.FUSE_READ, _fs.HelloIno).Struct(new fuse_read_in { offset = 6, size = 4096 }));
        Assert.Equal(0, reply.Error);
        Assert.Equal(TestFileSystem.HelloContent.AsSpan(6).ToArray(), reply.Body.ToArray());
        Assert.Equal(TestFileSystem.HelloContent.Length - 6, _harness.Counters.BytesRead);

        var eof = Send(new RequestBuilder(fuse_opcode.FUSE_READ, _fs.HelloIno).Struct(new fuse_read_in { offset = 4096, size = 4096 }));
        Assert.Equal(0, eof.Error);
        Assert.Equal(0, eof.Body.Length);
    }

    [Fact]
    public void Read_of_max_write_bytes_fits_after_the_request_in_the_buffer()
    {
        var big = _fs.AddFile("big", new byte[1 << 20]);
        big.Data[(1 << 20) - 1] = 0xAB;
        var reply = Send(new RequestBuilder(fuse_opcode.FUSE_READ, big.Ino).Struct(new fuse_read_in { size = 1 << 20 }));
        Assert.Equal(1 << 20, reply.Body.Length);
        Assert.Equal(0xAB, reply.Body[(1 << 20) - 1]);
    }

    [Fact]
    public void Write_stores_the_data_and_answers_the_size()
    {
        byte[] data = Encoding.UTF8.GetBytes("written through the dispatcher");
        var reply = Send(new RequestBuilder(fuse_opcode.FUSE_WRITE, _fs.DataIno)
            .Struct(new fuse_write_in { offset = 100, size = (uint)data.Length }).Bytes(data));
        Assert.Equal(0, reply.Error);
        Assert.Equal(8, reply.Body.Length);
        Assert.Equal((uint)data.Length, reply.Read<fuse_write_out>().size);
        Assert.Equal(data, _fs.Find(_fs.DataIno)!.Data.AsSpan(100, data.Length).ToArray());
        Assert.Equal(data.Length, _harness.Counters.BytesWritten);
    }

    [Fact]
    public void Write_whose_size_exceeds_its_data_is_EINVAL()
    {
        var reply = Send(new RequestBuilder(fuse_opcode.FUSE_WRITE, _fs.DataIno).Struct(new fuse_write_in { size = 100 }).Bytes(new byte[10]));
        Assert.Equal(-22, reply.Error);
    }

    [Fact]
    public void Readdir_lists_entries_and_resumes_at_an_offset()
    {
        var first = Send(new RequestBuilder(fuse_opcode.FUSE_READDIR, 1).Struct(new fuse_read_in { size = 4096 }));
        Assert.Equal(0, first.Error);
        var names = ParseDirents(first.Body, plus: false);
        Assert.Equal([".", "..", "hello.txt", "data.bin", "sub"], names.Select(n => n.Name));
        Assert.Equal([1ul, 2, 3, 4, 5], names.Select(n => n.Offset));
        Assert.Equal(4u, names[4].Type); // DT_DIR

        var resumed = Send(new RequestBuilder(fuse_opcode.FUSE_READDIR, 1).Struct(new fuse_read_in { offset = 3, size = 4096 }));
        Assert.Equal(["data.bin", "sub"], ParseDirents(resumed.Body, plus: false).Select(n => n.Name));

        var small = Send(new RequestBuilder(fuse_opcode.FUSE_READDIR, 1).Struct(new fuse_read_in { size = 64 }));
        Assert.Equal([".", ".."], ParseDirents(small.Body, plus: false).Select(n => n.Name));
    }

    [Fact]
    public void Readdirplus_carries_entries_with_attributes()
    {
        var reply = Send(new RequestBuilder(fuse_opcode.FUSE_READDIRPLUS, 1).Struct(new fuse_read_in { size = 4096 }));
        Assert.Equal(0, reply.Error);
        var entries = ParseDirents(reply.Body, plus: true);
        Assert.Equal([".", "..", "hello.txt", "data.bin", "sub"], entries.Select(n => n.Name));
        var hello = entries.Single(e => e.Name == "hello.txt");
        Assert.Equal(_fs.HelloIno, hello.Entry.nodeid);
        Assert.Equal((ulong)TestFileSystem.HelloContent.Length, hello.Entry.attr.size);
        Assert.Equal(1, _fs.Find(_fs.HelloIno)!.Lookups);
    }

    [Fact]
    public void Forget_and_batch_forget_get_no_reply()
    {
        Assert.Null(_harness.Send(new RequestBuilder(fuse_opcode.FUSE_FORGET, 7).Struct(new fuse_forget_in { nlookup = 3 }).Build()));
        var batch = new RequestBuilder(fuse_opcode.FUSE_BATCH_FORGET, 0)
            .Struct(new fuse_batch_forget_in { count = 2 })
            .Struct(new fuse_forget_one { nodeid = 7, nlookup = 2 })
            .Struct(new fuse_forget_one { nodeid = 8, nlookup = 5 });
        Assert.Null(_harness.Send(batch.Build()));
        Assert.Equal(5ul, _fs.Forgotten[7]);
        Assert.Equal(5ul, _fs.Forgotten[8]);
        Assert.Equal(0, _harness.Transport.Writes);
    }

    [Fact]
    public void Batch_forget_with_a_count_past_its_data_forgets_what_is_there()
    {
        var batch = new RequestBuilder(fuse_opcode.FUSE_BATCH_FORGET, 0)
            .Struct(new fuse_batch_forget_in { count = 3 })
            .Struct(new fuse_forget_one { nodeid = 9, nlookup = 1 });
        Assert.Null(_harness.Send(batch.Build()));
        Assert.Equal(1ul, _fs.Forgotten[9]);
        Assert.Single(_fs.Forgotten);
    }

    [Theory]
    [InlineData(fuse_opcode.FUSE_GETLK)]
    [InlineData(fuse_opcode.FUSE_SETLK)]
    [InlineData(fuse_opcode.FUSE_SETLKW)]
    [InlineData(fuse_opcode.FUSE_IOCTL)]
    [InlineData(fuse_opcode.FUSE_POLL)]
    [InlineData(fuse_opcode.FUSE_BMAP)]
    [InlineData(fuse_opcode.FUSE_STATX)]
    [InlineData((fuse_opcode)63)]
    [InlineData((fuse_opcode)4096)]
    public void Unknown_and_unserved_opcodes_get_ENOSYS(fuse_opcode opcode)
    {
        var reply = Send(new RequestBuilder(opcode, 1, unique: 555).Bytes(new byte[24]));
        Assert.Equal(-38, reply.Error);
        Assert.Equal(555ul, reply.Header.unique);
    }

    [Fact]
    public void Interrupt_is_counted_and_never_answered()
    {
        Assert.Null(_harness.Send(new RequestBuilder(fuse_opcode.FUSE_INTERRUPT, 0, unique: 31).Struct(new fuse_interrupt_in { unique = 30 }).Build()));
        Assert.Equal(1, _harness.Counters.Interrupts);
    }

    [Fact]
    public void Reply_refused_with_ENOENT_is_counted_as_interrupted_not_failed()
    {
        _harness.Transport.WriteResult = -2;
        _harness.Send(new RequestBuilder(fuse_opcode.FUSE_GETATTR, 1).Struct(new fuse_getattr_in()).Build());
        Assert.Equal(1, _harness.Counters.RepliesToInterrupted);
        Assert.Equal(0, _harness.Counters.ReplyWriteFailures);

        _harness.Transport.WriteResult = 10; // short write
        _harness.Send(new RequestBuilder(fuse_opcode.FUSE_GETATTR, 1).Struct(new fuse_getattr_in()).Build());
        Assert.Equal(1, _harness.Counters.ReplyWriteFailures);
        Assert.Contains(_harness.Lines, l => l.Level == FuseLogLevel.Warning && l.Line.Contains("short", StringComparison.Ordinal));
    }

    [Fact]
    public void A_throwing_handler_gets_EIO_and_a_logged_stack()
    {
        _fs.LookupFailure = new InvalidOperationException("boom");
        var reply = Send(new RequestBuilder(fuse_opcode.FUSE_LOOKUP, 1).Name("hello.txt"));
        Assert.Equal(-5, reply.Error);
        Assert.Contains(_harness.Lines, l => l.Level == FuseLogLevel.Error && l.Line.Contains("LOOKUP", StringComparison.Ordinal)
            && l.Line.Contains("InvalidOperationException: boom", StringComparison.Ordinal));
    }

    [Fact]
    public void Truncated_arguments_are_EINVAL_and_a_wrong_length_is_EIO()
    {
        var noName = Send(new RequestBuilder(fuse_opcode.FUSE_LOOKUP, 1).Bytes("abc"u8));
        Assert.Equal(-22, noName.Error);

        byte[] request = new RequestBuilder(fuse_opcode.FUSE_GETATTR, 1).Struct(new fuse_getattr_in()).Build();
        BitConverter.TryWriteBytes(request.AsSpan(0, 4), 999u);
        var wrongLength = new Reply(_harness.Send(request)!);
        Assert.Equal(-5, wrongLength.Error);
    }

    [Fact]
    public void Create_answers_entry_and_open_structs_back_to_back()
    {
        var reply = Send(new RequestBuilder(fuse_opcode.FUSE_CREATE, 1, unique: 12)
            .Struct(new fuse_create_in { flags = 0x41, mode = 0x81B6, umask = 0x12 }).Name("new.txt"));
        Assert.Equal(0, reply.Error);
        Assert.Equal(144, reply.Body.Length);
        var entry = reply.Read<fuse_entry_out>();
        var open = reply.Read<fuse_open_out>(128);
        Assert.Equal(entry.nodeid, open.fh);
        Assert.Equal(0x81A4u, entry.attr.mode); // 0666 & ~022
        Assert.Equal(1000u, entry.attr.uid);
    }

    [Fact]
    public void Names_and_structs_reach_the_handlers_intact()
    {
        var spy = new ArgumentSpy();
        var harness = new DispatcherHarness(spy);
        harness.Init();
        harness.Send(new RequestBuilder(fuse_opcode.FUSE_RENAME2, 3).Struct(new fuse_rename2_in { newdir = 4, flags = 2 }).Name("from").Name("to").Build());
        Assert.Equal("rename 3/from -> 4/to flags 2", spy.Last);
        harness.Send(new RequestBuilder(fuse_opcode.FUSE_RENAME, 3).Struct(new fuse_rename_in { newdir = 5 }).Name("a").Name("b").Build());
        Assert.Equal("rename 3/a -> 5/b flags 0", spy.Last);
        harness.Send(new RequestBuilder(fuse_opcode.FUSE_LINK, 6).Struct(new fuse_link_in { oldnodeid = 9 }).Name("hard").Build());
        Assert.Equal("link 9 -> 6/hard", spy.Last);
        harness.Send(new RequestBuilder(fuse_opcode.FUSE_SYMLINK, 1).Name("lnk").Name("../target").Build());
        Assert.Equal("symlink 1/lnk -> ../target", spy.Last);
        harness.Send(new RequestBuilder(fuse_opcode.FUSE_MKNOD, 1).Struct(new fuse_mknod_in { mode = 0x1180, rdev = 0 }).Name("fifo").Build());
        Assert.Equal("mknod 1/fifo mode 1180", spy.Last);
        // SETXATTR without FUSE_SETXATTR_EXT: an 8-byte fuse_setxattr_in.
        harness.Send(new RequestBuilder(fuse_opcode.FUSE_SETXATTR, 2).StructPrefix(new fuse_setxattr_in { size = 3, flags = 1 }, 8).Name("user.k").Bytes("v\0w"u8).Build());
        Assert.Equal("setxattr 2 user.k=76 00 77 flags 1", spy.Last);
    }

    [Fact]
    public void Setxattr_reads_the_16_byte_struct_when_SETXATTR_EXT_is_negotiated()
    {
        var spy = new ArgumentSpy();
        var harness = new DispatcherHarness(spy, wanted: FuseKernel.FUSE_SETXATTR_EXT | FuseKernel.FUSE_ASYNC_READ);
        harness.Init();
        Assert.NotEqual(0UL, spy.Connection!.Capabilities & FuseKernel.FUSE_SETXATTR_EXT);
        harness.Send(new RequestBuilder(fuse_opcode.FUSE_SETXATTR, 2)
            .Struct(new fuse_setxattr_in { size = 3, flags = 2, setxattr_flags = FuseKernel.FUSE_SETXATTR_ACL_KILL_SGID })
            .Name("user.k").Bytes("abc"u8).Build());
        Assert.Equal("setxattr 2 user.k=61 62 63 flags 2", spy.Last);
    }

    [Fact]
    public void The_opcode_table_check_refuses_a_missing_or_duplicate_handler()
    {
        static int Handler(ref Dispatch.FuseRequest r) => 0;
        var rows = Dispatch.FuseDispatcher.RequiredOpcodes.Select(op => new Dispatch.FuseOpcodeEntry(op, Handler)).ToArray();
        var table = new Dispatch.FuseOpcodeEntry?[64];
        foreach (var row in rows)
        {
            table[(int)row.Opcode] = row;
        }
        Dispatch.FuseDispatcher.CheckTable(table, rows); // complete: passes

        table[(int)fuse_opcode.FUSE_READ] = null;
        var missing = Assert.Throws<InvalidOperationException>(() => Dispatch.FuseDispatcher.CheckTable(table, rows));
        Assert.Contains("FUSE_READ has no handler", missing.Message, StringComparison.Ordinal);

        table[(int)fuse_opcode.FUSE_READ] = rows.First(r => r.Opcode == fuse_opcode.FUSE_READ);
        table[(int)fuse_opcode.FUSE_GETLK] = new Dispatch.FuseOpcodeEntry(fuse_opcode.FUSE_GETLK, Handler);
        var locks = Assert.Throws<InvalidOperationException>(() => Dispatch.FuseDispatcher.CheckTable(table, [.. rows, table[(int)fuse_opcode.FUSE_GETLK]!, rows[0]]));
        Assert.Contains("FUSE_GETLK must stay unserved", locks.Message, StringComparison.Ordinal);
        Assert.Contains("an opcode has two rows", locks.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Getxattr_size_query_and_too_small_buffer()
    {
        var spy = new ArgumentSpy();
        var harness = new DispatcherHarness(spy);
        harness.Init();
        var size = new Reply(harness.Send(new RequestBuilder(fuse_opcode.FUSE_GETXATTR, 2).Struct(new fuse_getxattr_in { size = 0 }).Name("user.k").Build())!);
        Assert.Equal(0, size.Error);
        Assert.Equal(5u, size.Read<fuse_getxattr_out>().size);
        var value = new Reply(harness.Send(new RequestBuilder(fuse_opcode.FUSE_GETXATTR, 2).Struct(new fuse_getxattr_in { size = 64 }).Name("user.k").Build())!);
        Assert.Equal("value", Encoding.ASCII.GetString(value.Body));
        var small = new Reply(harness.Send(new RequestBuilder(fuse_opcode.FUSE_GETXATTR, 2).Struct(new fuse_getxattr_in { size = 2 }).Name("user.k").Build())!);
        Assert.Equal(-34, small.Error);
        var list = new Reply(harness.Send(new RequestBuilder(fuse_opcode.FUSE_LISTXATTR, 2).Struct(new fuse_getxattr_in { size = 64 }).Build())!);
        Assert.Equal("user.k\0", Encoding.ASCII.GetString(list.Body));
    }

    [Fact]
    public void Lseek_and_copy_file_range_answer_their_out_structs()
    {
        var spy = new ArgumentSpy();
        var harness = new DispatcherHarness(spy);
        harness.Init();
        var seek = new Reply(harness.Send(new RequestBuilder(fuse_opcode.FUSE_LSEEK, 2).Struct(new fuse_lseek_in { offset = 100, whence = 3 }).Build())!);
        Assert.Equal(4096ul, seek.Read<fuse_lseek_out>().offset);
        var copy = new Reply(harness.Send(new RequestBuilder(fuse_opcode.FUSE_COPY_FILE_RANGE, 2).Struct(new fuse_copy_file_range_in { len = 1000 }).Build())!);
        Assert.Equal(1000u, copy.Read<fuse_write_out>().size);
    }

    [Fact]
    public void Destroy_calls_the_filesystem_once_and_is_answered()
    {
        var reply = Send(new RequestBuilder(fuse_opcode.FUSE_DESTROY, 0));
        Assert.Equal(0, reply.Error);
        _harness.Dispatcher.DestroyOnce();
        Assert.Equal(1, _fs.DestroyCalls);
    }

    [Fact]
    public void Statfs_answers_fuse_statfs_out()
    {
        var reply = Send(new RequestBuilder(fuse_opcode.FUSE_STATFS, 1));
        Assert.Equal(80, reply.Body.Length);
        var st = reply.Read<fuse_kstatfs>();
        Assert.Equal(4096u, st.bsize);
        Assert.Equal(255u, st.namelen);
    }

    [Fact]
    public void Debug_mode_prints_requests_and_replies_as_named_structs()
    {
        var harness = new DispatcherHarness(debug: true);
        harness.Init();
        harness.Send(new RequestBuilder(fuse_opcode.FUSE_LOOKUP, 1, unique: 501).Name("hello.txt").Build());
        harness.Send(new RequestBuilder(fuse_opcode.FUSE_READ, 2, unique: 502).Struct(new fuse_read_in { size = 10 }).Build());
        var lines = harness.Lines.Where(l => l.Level == FuseLogLevel.Debug).Select(l => l.Line).ToList();
        Assert.Contains(lines, l => l.StartsWith("<- INIT unique=1", StringComparison.Ordinal) && l.Contains("fuse_init_in{major=7 minor=38", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("-> INIT", StringComparison.Ordinal) && l.Contains("fuse_init_out{", StringComparison.Ordinal) && l.Contains("max_write=1048576", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("<- LOOKUP unique=501 nodeid=1 uid=1000 gid=1000 pid=4242", StringComparison.Ordinal) && l.Contains("name=\"hello.txt\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("-> LOOKUP unique=501", StringComparison.Ordinal) && l.Contains("fuse_entry_out{nodeid=2 generation=1", StringComparison.Ordinal) && l.Contains("attr=fuse_attr{ino=2 size=", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("<- READ unique=502", StringComparison.Ordinal) && l.Contains("fuse_read_in{fh=0 offset=0 size=10", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("-> READ unique=502", StringComparison.Ordinal) && l.Contains("data[10]", StringComparison.Ordinal));
        harness.Send(new RequestBuilder(fuse_opcode.FUSE_LOOKUP, 1, unique: 503).Name("missing").Build());
        Assert.Contains(harness.Lines, l => l.Line.StartsWith("-> LOOKUP unique=503", StringComparison.Ordinal) && l.Line.Contains("error=-2 (ENOENT)", StringComparison.Ordinal));
    }

    internal static List<(string Name, ulong Ino, ulong Offset, uint Type, fuse_entry_out Entry)> ParseDirents(ReadOnlySpan<byte> body, bool plus)
    {
        var result = new List<(string, ulong, ulong, uint, fuse_entry_out)>();
        int prefix = plus ? 128 : 0;
        while (body.Length > 0)
        {
            var entry = plus ? MemoryMarshal.Read<fuse_entry_out>(body) : default;
            var dirent = MemoryMarshal.Read<fuse_dirent>(body[prefix..]);
            string name = Encoding.UTF8.GetString(body.Slice(prefix + 24, (int)dirent.namelen));
            result.Add((name, dirent.ino, dirent.off, dirent.type, entry));
            body = body[((prefix + 24 + (int)dirent.namelen + 7) & ~7)..];
        }
        return result;
    }

    private sealed class HandleSpy : DelegatingFileSystem
    {
        public ulong? Handle { get; private set; }

        public override int GetAttr(in FuseContext context, ulong nodeId, ulong? handle, ref fuse_attr_out attr)
        {
            Handle = handle;
            attr.attr.ino = nodeId;
            return 0;
        }
    }

    private sealed class ArgumentSpy : DelegatingFileSystem
    {
        public string Last { get; private set; } = "";

        private static string S(ReadOnlySpan<byte> b) => Encoding.UTF8.GetString(b);

        public override int Rename(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ulong newParent, ReadOnlySpan<byte> newName, uint flags)
        {
            Last = $"rename {parent}/{S(name)} -> {newParent}/{S(newName)} flags {flags}";
            return 0;
        }

        public override int Link(in FuseContext context, ulong nodeId, ulong newParent, ReadOnlySpan<byte> newName, ref fuse_entry_out entry)
        {
            Last = $"link {nodeId} -> {newParent}/{S(newName)}";
            return 0;
        }

        public override int Symlink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, ref fuse_entry_out entry)
        {
            Last = $"symlink {parent}/{S(name)} -> {S(target)}";
            return 0;
        }

        public override int MkNod(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, in fuse_mknod_in args, ref fuse_entry_out entry)
        {
            Last = $"mknod {parent}/{S(name)} mode {args.mode:x}";
            return 0;
        }

        public override int SetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, uint flags)
        {
            Last = $"setxattr {nodeId} {S(name)}={Convert.ToHexString(value).ToLowerInvariant().Insert(4, " ").Insert(2, " ")} flags {flags}";
            return 0;
        }

        public override int GetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, Span<byte> value, out int size)
        {
            size = 5;
            if (value.Length == 0)
            {
                return 0;
            }
            if (value.Length < 5)
            {
                return 34;
            }
            "value"u8.CopyTo(value);
            return 0;
        }

        public override int ListXattr(in FuseContext context, ulong nodeId, Span<byte> names, out int size)
        {
            size = 7;
            "user.k\0"u8.CopyTo(names);
            return 0;
        }

        public override int Lseek(in FuseContext context, ulong nodeId, in fuse_lseek_in args, out ulong offset)
        {
            offset = 4096;
            return 0;
        }

        public override int CopyFileRange(in FuseContext context, ulong nodeIdIn, in fuse_copy_file_range_in args, out ulong copied)
        {
            copied = args.len;
            return 0;
        }
    }
}
