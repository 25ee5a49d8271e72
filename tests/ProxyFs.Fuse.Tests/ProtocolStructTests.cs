using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ProxyFs.Fuse.Dispatch;
using ProxyFs.Fuse.Protocol;

namespace ProxyFs.Fuse.Tests;

/// <summary>
/// The wire structs against include/uapi/linux/fuse.h: every expected size and offset below was printed by a C program
/// compiled against /usr/include/linux/fuse.h (protocol 7.38) with sizeof and offsetof.
/// </summary>
public class ProtocolStructTests
{
    public static TheoryData<Type, int> Sizes => new()
    {
        { typeof(fuse_attr), 88 }, { typeof(fuse_kstatfs), 80 }, { typeof(fuse_entry_out), 128 },
        { typeof(fuse_attr_out), 104 }, { typeof(fuse_in_header), 40 }, { typeof(fuse_out_header), 16 },
        { typeof(fuse_init_in), 64 }, { typeof(fuse_init_out), 64 }, { typeof(fuse_setattr_in), 88 },
        { typeof(fuse_read_in), 40 }, { typeof(fuse_write_in), 40 }, { typeof(fuse_write_out), 8 },
        { typeof(fuse_open_in), 8 }, { typeof(fuse_open_out), 16 }, { typeof(fuse_create_in), 16 },
        { typeof(fuse_release_in), 24 }, { typeof(fuse_flush_in), 24 }, { typeof(fuse_fsync_in), 16 },
        { typeof(fuse_mknod_in), 16 }, { typeof(fuse_mkdir_in), 8 }, { typeof(fuse_rename_in), 8 },
        { typeof(fuse_rename2_in), 16 }, { typeof(fuse_link_in), 8 }, { typeof(fuse_getattr_in), 16 },
        { typeof(fuse_forget_in), 8 }, { typeof(fuse_forget_one), 16 }, { typeof(fuse_batch_forget_in), 8 },
        { typeof(fuse_setxattr_in), 16 }, { typeof(fuse_getxattr_in), 8 }, { typeof(fuse_getxattr_out), 8 },
        { typeof(fuse_access_in), 8 }, { typeof(fuse_interrupt_in), 8 }, { typeof(fuse_fallocate_in), 32 },
        { typeof(fuse_lseek_in), 24 }, { typeof(fuse_lseek_out), 8 }, { typeof(fuse_copy_file_range_in), 56 },
        { typeof(fuse_statfs_out), 80 }, { typeof(fuse_syncfs_in), 8 }, { typeof(fuse_dirent), 24 },
        { typeof(fuse_notify_inval_inode_out), 24 }, { typeof(fuse_notify_inval_entry_out), 16 },
        { typeof(fuse_notify_delete_out), 24 },
    };

    public static TheoryData<Type, string, int> Offsets => new()
    {
        { typeof(fuse_attr), "atimensec", 48 }, { typeof(fuse_attr), "mode", 60 }, { typeof(fuse_attr), "nlink", 64 },
        { typeof(fuse_attr), "blksize", 80 }, { typeof(fuse_attr), "flags", 84 },
        { typeof(fuse_entry_out), "entry_valid_nsec", 32 }, { typeof(fuse_entry_out), "attr", 40 },
        { typeof(fuse_attr_out), "attr", 16 },
        { typeof(fuse_in_header), "opcode", 4 }, { typeof(fuse_in_header), "unique", 8 }, { typeof(fuse_in_header), "nodeid", 16 },
        { typeof(fuse_in_header), "uid", 24 }, { typeof(fuse_in_header), "pid", 32 }, { typeof(fuse_in_header), "total_extlen", 36 },
        { typeof(fuse_out_header), "error", 4 }, { typeof(fuse_out_header), "unique", 8 },
        { typeof(fuse_init_in), "flags", 12 }, { typeof(fuse_init_in), "flags2", 16 },
        { typeof(fuse_init_out), "max_background", 16 }, { typeof(fuse_init_out), "max_write", 20 },
        { typeof(fuse_init_out), "time_gran", 24 }, { typeof(fuse_init_out), "max_pages", 28 }, { typeof(fuse_init_out), "flags2", 32 },
        { typeof(fuse_setattr_in), "size", 16 }, { typeof(fuse_setattr_in), "atime", 32 }, { typeof(fuse_setattr_in), "atimensec", 56 },
        { typeof(fuse_setattr_in), "mode", 68 }, { typeof(fuse_setattr_in), "uid", 76 }, { typeof(fuse_setattr_in), "gid", 80 },
        { typeof(fuse_read_in), "size", 16 }, { typeof(fuse_read_in), "lock_owner", 24 }, { typeof(fuse_read_in), "flags", 32 },
        { typeof(fuse_write_in), "size", 16 }, { typeof(fuse_write_in), "write_flags", 20 },
        { typeof(fuse_open_out), "open_flags", 8 },
        { typeof(fuse_kstatfs), "bsize", 40 }, { typeof(fuse_kstatfs), "frsize", 48 }, { typeof(fuse_kstatfs), "spare", 56 },
        { typeof(fuse_copy_file_range_in), "len", 40 }, { typeof(fuse_copy_file_range_in), "flags", 48 },
        { typeof(fuse_lseek_in), "whence", 16 }, { typeof(fuse_notify_inval_entry_out), "namelen", 8 },
        { typeof(fuse_notify_delete_out), "namelen", 16 }, { typeof(fuse_release_in), "lock_owner", 16 },
        { typeof(fuse_setxattr_in), "setxattr_flags", 8 },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Struct_size_matches_the_kernel_header(Type type, int size)
    {
        Assert.Equal(size, (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(type).Invoke(null, null)!);
        Assert.Equal(size, Marshal.SizeOf(type));
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Struct_descriptor_lays_out_fields_where_the_runtime_does(Type type, int size)
    {
        var descriptor = (FuseStruct)typeof(FuseStruct).GetMethod(nameof(FuseStruct.Of))!.MakeGenericMethod(type).Invoke(null, null)!;
        Assert.Equal(size, descriptor.Size);
        Assert.Equal(type.GetFields().Select(f => f.Name), descriptor.Layout.Select(f => f.Name));
        foreach (FuseField field in descriptor.Layout)
        {
            Assert.Equal((int)Marshal.OffsetOf(type, field.Name), field.Offset);
            Assert.True(field.Offset + field.Size <= size, $"{type.Name}.{field.Name} ends past the struct");
        }
    }

    [Fact]
    public void Struct_descriptors_have_the_kernel_sizes()
    {
        Assert.Equal(128, FuseStruct.Of<fuse_entry_out>().Size);
        Assert.Equal(64, FuseStruct.Of<fuse_init_out>().Size);
        Assert.Equal(88, FuseStruct.FindNested(typeof(fuse_attr))!.Size);
        Assert.Equal(80, FuseStruct.FindNested(typeof(fuse_kstatfs))!.Size);
        Assert.Null(FuseStruct.FindNested(typeof(fuse_in_header)));
    }

    [Fact]
    public void Init_flag_names_list_every_flag_constant()
    {
        var constants = typeof(FuseKernel).GetFields()
            .Where(f => f.IsLiteral && f.FieldType == typeof(ulong) && f.Name.StartsWith("FUSE_", StringComparison.Ordinal) && f.Name != nameof(FuseKernel.FUSE_ROOT_ID))
            .Select(f => (f.Name["FUSE_".Length..], (ulong)f.GetRawConstantValue()!))
            .ToArray();
        Assert.Equal(constants, FuseKernel.InitFlags);
        Assert.Equal("ASYNC_READ|MAX_PAGES|SECURITY_CTX|0x8000000000000000",
            FuseKernel.InitFlagsToString(FuseKernel.FUSE_ASYNC_READ | FuseKernel.FUSE_MAX_PAGES | FuseKernel.FUSE_SECURITY_CTX | (1UL << 63)));
    }

    [Fact]
    public void Debug_printer_names_every_field_of_nested_structs_and_fixed_arrays()
    {
        var attr = new fuse_attr_out { attr_valid = 5, attr = new fuse_attr { ino = 42, mode = 0x81A4, blksize = 4096 } };
        string text = FuseDebugFormatter.FormatStruct(FuseStruct.Of<fuse_attr_out>(), MemoryMarshal.AsBytes(new ReadOnlySpan<fuse_attr_out>(in attr)));
        Assert.StartsWith("fuse_attr_out{attr_valid=5 attr_valid_nsec=0 dummy=0 attr=fuse_attr{ino=42 size=0", text, StringComparison.Ordinal);
        Assert.Contains(" mode=33188 ", text, StringComparison.Ordinal);
        Assert.EndsWith(" blksize=4096 flags=0}}", text, StringComparison.Ordinal);

        var init = new fuse_init_out { major = 7, minor = 38, max_pages = 256 };
        text = FuseDebugFormatter.FormatStruct(FuseStruct.Of<fuse_init_out>(), MemoryMarshal.AsBytes(new ReadOnlySpan<fuse_init_out>(in init)));
        Assert.Contains("major=7 minor=38 ", text, StringComparison.Ordinal);
        Assert.Contains(" max_pages=256 ", text, StringComparison.Ordinal);
        Assert.EndsWith(" unused=[0,0,0,0,0,0,0]}", text, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Offsets))]
    public void Field_offset_matches_the_kernel_header(Type type, string field, int offset) =>
        Assert.Equal(offset, (int)Marshal.OffsetOf(type, field));

    [Fact]
    public void Opcode_and_notify_numbers_match_the_kernel_header()
    {
        Assert.Equal(1u, (uint)fuse_opcode.FUSE_LOOKUP);
        Assert.Equal(26u, (uint)fuse_opcode.FUSE_INIT);
        Assert.Equal(36u, (uint)fuse_opcode.FUSE_INTERRUPT);
        Assert.Equal(42u, (uint)fuse_opcode.FUSE_BATCH_FORGET);
        Assert.Equal(44u, (uint)fuse_opcode.FUSE_READDIRPLUS);
        Assert.Equal(45u, (uint)fuse_opcode.FUSE_RENAME2);
        Assert.Equal(51u, (uint)fuse_opcode.FUSE_TMPFILE);
        Assert.Equal(3, (int)fuse_notify_code.FUSE_NOTIFY_INVAL_ENTRY);
        Assert.Equal(6, (int)fuse_notify_code.FUSE_NOTIFY_DELETE);
        Assert.Equal(1UL << 22, FuseKernel.FUSE_MAX_PAGES);
        Assert.Equal(1UL << 30, FuseKernel.FUSE_INIT_EXT);
        Assert.Equal(1UL << 28, FuseKernel.FUSE_HANDLE_KILLPRIV_V2);
        // _IOR(229, 0, uint32_t) = dir 2 << 30 | size 4 << 16 | type 229 << 8 | nr 0
        Assert.Equal((2u << 30) | (4u << 16) | (229u << 8), FuseKernel.FUSE_DEV_IOC_CLONE);
    }

    [Fact]
    public void Lookup_reply_has_golden_bytes()
    {
        var fs = new GoldenFileSystem();
        var harness = new Support.DispatcherHarness(fs);
        harness.Init();
        var reply = harness.Send(new Support.RequestBuilder(fuse_opcode.FUSE_LOOKUP, nodeId: 1, unique: 0x0102030405060708).Name("a").Build())!;
        string expected =
            "90000000" + "00000000" + "0807060504030201" +          // fuse_out_header: len 144, error 0, unique
            "2a00000000000000" + "0700000000000000" +               // nodeid 42, generation 7
            "0100000000000000" + "0200000000000000" +               // entry_valid 1, attr_valid 2
            "03000000" + "04000000" +                               // entry_valid_nsec 3, attr_valid_nsec 4
            "2a00000000000000" + "0010000000000000" + "0800000000000000" + // ino 42, size 4096, blocks 8
            "0b00000000000000" + "0c00000000000000" + "0d00000000000000" + // atime 11, mtime 12, ctime 13
            "15000000" + "16000000" + "17000000" +                  // atimensec 21, mtimensec 22, ctimensec 23
            "a4810000" + "01000000" + "e8030000" + "e9030000" +     // mode 0100644, nlink 1, uid 1000, gid 1001
            "00000000" + "00100000" + "00000000";                   // rdev 0, blksize 4096, flags 0
        Assert.Equal(expected, Convert.ToHexString(reply).ToLowerInvariant());
    }

    [Fact]
    public void Error_reply_is_only_a_header_with_negative_errno()
    {
        var harness = new Support.DispatcherHarness();
        harness.Init();
        var reply = harness.Send(new Support.RequestBuilder(fuse_opcode.FUSE_LOOKUP, nodeId: 1, unique: 9).Name("missing").Build())!;
        Assert.Equal("10000000" + "feffffff" + "0900000000000000", Convert.ToHexString(reply).ToLowerInvariant());
    }

    [Fact]
    public void Init_reply_for_7_38_has_golden_bytes()
    {
        var harness = new Support.DispatcherHarness();
        ulong offered = FuseKernel.FUSE_ASYNC_READ | FuseKernel.FUSE_POSIX_LOCKS | FuseKernel.FUSE_BIG_WRITES
            | FuseKernel.FUSE_MAX_PAGES | FuseKernel.FUSE_INIT_EXT;
        var reply = harness.Send(Support.RequestBuilder.Init(38, offered, maxReadahead: 0x20000, unique: 2))!;
        string expected =
            "50000000" + "00000000" + "0200000000000000" +  // header: len 80, error 0, unique 2
            "07000000" + "26000000" + "00000200" +          // major 7, minor 38, max_readahead 128 KiB
            "21004040" +                                    // flags: ASYNC_READ|BIG_WRITES|MAX_PAGES|INIT_EXT (no POSIX_LOCKS)
            "4000" + "3000" +                               // max_background 64, congestion_threshold 48
            "00001000" + "01000000" +                       // max_write 1 MiB, time_gran 1
            "0001" + "0000" + "00000000" +                  // max_pages 256, map_alignment 0, flags2 0
            new string('0', 56);                            // unused[7]
        Assert.Equal(expected, Convert.ToHexString(reply).ToLowerInvariant());
    }

    [Fact]
    public void Notifications_have_golden_bytes()
    {
        var buffer = new byte[256];
        int n = FuseNotifier.Encode(new FuseNotifier.Notification(fuse_notify_code.FUSE_NOTIFY_INVAL_ENTRY, 5, 0, 0, 0, "ab"u8.ToArray()), buffer);
        Assert.Equal(
            "23000000" + "03000000" + "0000000000000000" +  // header: len 35, error = INVAL_ENTRY, unique 0
            "0500000000000000" + "02000000" + "00000000" +   // parent 5, namelen 2, flags 0
            "616200",                                        // "ab" NUL
            Convert.ToHexString(buffer, 0, n).ToLowerInvariant());

        n = FuseNotifier.Encode(new FuseNotifier.Notification(fuse_notify_code.FUSE_NOTIFY_INVAL_INODE, 9, 0, -1, 0, null), buffer);
        Assert.Equal(
            "28000000" + "02000000" + "0000000000000000" +
            "0900000000000000" + "ffffffffffffffff" + "0000000000000000",
            Convert.ToHexString(buffer, 0, n).ToLowerInvariant());

        n = FuseNotifier.Encode(new FuseNotifier.Notification(fuse_notify_code.FUSE_NOTIFY_DELETE, 1, 7, 0, 0, "x"u8.ToArray()), buffer);
        Assert.Equal(
            "2a000000" + "06000000" + "0000000000000000" +
            "0100000000000000" + "0700000000000000" + "01000000" + "00000000" + "7800",
            Convert.ToHexString(buffer, 0, n).ToLowerInvariant());
    }

    [Fact]
    public void Directory_records_are_packed_and_padded_to_8_bytes()
    {
        var buffer = new byte[128];
        var directory = new FuseDirectoryBuffer();
        directory.Reset(buffer, 8, 64, plus: false);
        Assert.True(directory.TryAdd("abc"u8, 2, 0x8000 | 0x1A4, 1));
        Assert.True(directory.TryAdd("dir"u8, 3, 0x4000 | 0x1ED, 2));
        Assert.False(directory.TryAdd("full"u8, 4, 0x8000, 3)); // 64 bytes hold two 32-byte records
        Assert.Equal(64, directory.Length);
        Assert.Equal(2, directory.Count);
        Assert.Equal(
            "0200000000000000" + "0100000000000000" + "03000000" + "08000000" + "6162630000000000" + // DT_REG 8
            "0300000000000000" + "0200000000000000" + "03000000" + "04000000" + "6469720000000000",  // DT_DIR 4
            Convert.ToHexString(buffer, 8, 64).ToLowerInvariant());
    }

    [Fact]
    public void Read_struct_prefix_zero_extends_short_structs()
    {
        var init = new fuse_init_in { major = 7, minor = 31, max_readahead = 4096, flags = 0x1234, flags2 = 0xdead };
        byte[] request = new Support.RequestBuilder(fuse_opcode.FUSE_INIT).StructPrefix(init, 16).Build();
        var worker = new FuseWorker(0, new Support.CaptureTransport(), 8192);
        var header = MemoryMarshal.Read<fuse_in_header>(request);
        var r = new FuseRequest(worker, header, request.AsSpan(40), worker.Buffer.AsSpan(4096));
        Assert.True(r.TryReadPrefix(16, out fuse_init_in parsed));
        Assert.Equal(0x1234u, parsed.flags);
        Assert.Equal(0u, parsed.flags2);
        Assert.Equal(0, r.Payload.Length);
        Assert.False(r.TryRead(out fuse_init_in _));
        Assert.Equal(64, Unsafe.SizeOf<fuse_init_in>());
    }

    /// <summary>Answers every LOOKUP with the same made-up entry, for golden bytes.</summary>
    private sealed class GoldenFileSystem : Support.DelegatingFileSystem
    {
        public override int Lookup(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ref fuse_entry_out entry)
        {
            entry.nodeid = 42;
            entry.generation = 7;
            entry.entry_valid = 1;
            entry.attr_valid = 2;
            entry.entry_valid_nsec = 3;
            entry.attr_valid_nsec = 4;
            entry.attr = new fuse_attr
            {
                ino = 42,
                size = 4096,
                blocks = 8,
                atime = 11,
                mtime = 12,
                ctime = 13,
                atimensec = 21,
                mtimensec = 22,
                ctimensec = 23,
                mode = 0x81A4,
                nlink = 1,
                uid = 1000,
                gid = 1001,
                blksize = 4096,
            };
            return 0;
        }
    }
}
