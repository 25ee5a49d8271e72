using System.Text;
using ProxyFs.Fuse.Protocol;

namespace ProxyFs.Fuse.Tests.Support;

/// <summary>
/// A tiny in-memory filesystem for the protocol tests: directories and regular files, enough to stat, read, write,
/// create, remove, rename and list through a real mount. LOOKUP, GETATTR, READ and WRITE (within a file's capacity)
/// allocate nothing, so the dispatcher's zero-allocation test can run on it. Not a POSIX reference: operations the
/// protocol tests do not need answer ENOSYS, which the kernel remembers.
/// </summary>
internal sealed class TestFileSystem : IFuseOperations
{
    public const int ENOENT = 2;
    public const int EEXIST = 17;
    public const int ENOTDIR = 20;
    public const int EISDIR = 21;
    public const int ENOSYS = 38;
    public const int ENOTEMPTY = 39;
    public const int EINVAL = 22;

    public static readonly byte[] HelloContent = Encoding.UTF8.GetBytes("Hello from proxyfs over FUSE!\n");

    private readonly Lock _gate = new();
    private readonly Dictionary<ulong, Node> _nodes = [];
    private ulong _nextIno = 2;
    private int _destroyCalls;
    private long _maxWrite;

    public TestFileSystem()
    {
        Root = new Node(FuseKernel.FUSE_ROOT_ID, 0x4000 | 0x1ED, null, []) { Nlink = 2 };
        _nodes[Root.Ino] = Root;
        var hello = AddFile("hello.txt", HelloContent);
        var data = AddFile("data.bin", new byte[64 * 1024]);
        for (int i = 0; i < data.Size; i++)
        {
            data.Data[i] = (byte)(i * 7);
        }
        HelloIno = hello.Ino;
        DataIno = data.Ino;
        var sub = AddNode(Root, "sub", 0x4000 | 0x1ED);
        sub.Nlink = 2;
        Root.Nlink++;
    }

    public Node Root { get; }

    public ulong HelloIno { get; }

    public ulong DataIno { get; }

    public FuseConnectionInfo? Connection { get; private set; }

    public IFuseNotifier? Notifier { get; private set; }

    public int DestroyCalls => Volatile.Read(ref _destroyCalls);

    /// <summary>The largest WRITE received, to see the negotiated max_write at work.</summary>
    public long MaxWriteSeen => Interlocked.Read(ref _maxWrite);

    /// <summary>Sum of nlookup forgotten per node.</summary>
    public Dictionary<ulong, ulong> Forgotten { get; } = [];

    /// <summary>Called inside CREATE with the new name (to notify from a handler).</summary>
    public Action<byte[]>? OnCreate { get; set; }

    /// <summary>When set, a LOOKUP of "stuck" waits for it (at most a minute): a server that hangs.</summary>
    public ManualResetEventSlim? StuckLookup { get; set; }

    /// <summary>When set, Lookup throws it (to test that a failing handler gets EIO, not a crash).</summary>
    public Exception? LookupFailure { get; set; }

    public Node AddFile(string name, byte[] content, int capacity = 0)
    {
        lock (_gate)
        {
            var node = AddNode(Root, name, 0x8000 | 0x1A4);
            node.Data = new byte[Math.Max(capacity, content.Length)];
            content.CopyTo(node.Data, 0);
            node.Size = content.Length;
            return node;
        }
    }

    public Node? Find(ulong ino)
    {
        lock (_gate)
        {
            return _nodes.GetValueOrDefault(ino);
        }
    }

    private Node AddNode(Node parent, string name, uint mode) => AddNode(parent, Encoding.UTF8.GetBytes(name), mode);

    private Node AddNode(Node parent, byte[] name, uint mode)
    {
        var node = new Node(_nextIno++, mode, parent, name);
        parent.Children.Add(node);
        _nodes[node.Ino] = node;
        return node;
    }

    public void Initialize(FuseConnectionInfo connection, IFuseNotifier notifier)
    {
        Connection = connection;
        Notifier = notifier;
    }

    public void Destroy() => Interlocked.Increment(ref _destroyCalls);

    public int Lookup(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ref fuse_entry_out entry)
    {
        if (LookupFailure is { } failure)
        {
            throw failure;
        }
        if (StuckLookup is { } stuck && name.SequenceEqual("stuck"u8))
        {
            stuck.Wait(TimeSpan.FromMinutes(1));
        }
        lock (_gate)
        {
            if (!_nodes.TryGetValue(parent, out var dir) || !dir.IsDirectory)
            {
                return ENOTDIR;
            }
            Node? found = name.SequenceEqual("."u8) ? dir : name.SequenceEqual(".."u8) ? dir.Parent ?? dir : null;
            if (found is null)
            {
                foreach (var child in dir.Children)
                {
                    if (name.SequenceEqual(child.Name))
                    {
                        found = child;
                        break;
                    }
                }
            }
            if (found is null)
            {
                return ENOENT;
            }
            found.Lookups++;
            Fill(found, ref entry);
            return 0;
        }
    }

    public void Forget(ulong nodeId, ulong nlookup)
    {
        lock (_gate)
        {
            Forgotten[nodeId] = Forgotten.GetValueOrDefault(nodeId) + nlookup;
            if (_nodes.TryGetValue(nodeId, out var node))
            {
                node.Lookups -= (long)nlookup;
            }
        }
    }

    public int GetAttr(in FuseContext context, ulong nodeId, ulong? handle, ref fuse_attr_out attr)
    {
        lock (_gate)
        {
            if (!_nodes.TryGetValue(nodeId, out var node))
            {
                return ENOENT;
            }
            attr.attr_valid = 1;
            FillAttr(node, ref attr.attr);
            return 0;
        }
    }

    public int SetAttr(in FuseContext context, ulong nodeId, in fuse_setattr_in change, ref fuse_attr_out attr)
    {
        lock (_gate)
        {
            if (!_nodes.TryGetValue(nodeId, out var node))
            {
                return ENOENT;
            }
            if ((change.valid & FuseKernel.FATTR_SIZE) != 0)
            {
                if (node.IsDirectory)
                {
                    return EISDIR;
                }
                node.Resize((long)change.size);
            }
            if ((change.valid & FuseKernel.FATTR_MODE) != 0)
            {
                node.Mode = (node.Mode & 0xF000) | (change.mode & 0xFFF);
            }
            if ((change.valid & FuseKernel.FATTR_UID) != 0)
            {
                node.Uid = change.uid;
            }
            if ((change.valid & FuseKernel.FATTR_GID) != 0)
            {
                node.Gid = change.gid;
            }
            if ((change.valid & FuseKernel.FATTR_MTIME) != 0)
            {
                node.MtimeSec = change.mtime;
                node.MtimeNsec = change.mtimensec;
            }
            attr.attr_valid = 1;
            FillAttr(node, ref attr.attr);
            return 0;
        }
    }

    public int Open(in FuseContext context, ulong nodeId, in fuse_open_in args, ref fuse_open_out open)
    {
        lock (_gate)
        {
            if (!_nodes.TryGetValue(nodeId, out var node))
            {
                return ENOENT;
            }
            if (node.IsDirectory)
            {
                return EISDIR;
            }
            if ((args.flags & 0x200) != 0) // O_TRUNC, ours to do with FUSE_ATOMIC_O_TRUNC
            {
                node.Resize(0);
            }
            open.fh = nodeId;
            return 0;
        }
    }

    public int Create(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, in fuse_create_in args, ref fuse_entry_out entry, ref fuse_open_out open)
    {
        lock (_gate)
        {
            if (!_nodes.TryGetValue(parent, out var dir) || !dir.IsDirectory)
            {
                return ENOTDIR;
            }
            if (dir.Child(name) is not null)
            {
                return EEXIST;
            }
            var node = AddNode(dir, name.ToArray(), 0x8000 | (args.mode & 0xFFF & ~args.umask));
            node.Uid = context.Uid;
            node.Gid = context.Gid;
            node.Lookups++;
            Fill(node, ref entry);
            open.fh = node.Ino;
        }
        OnCreate?.Invoke(name.ToArray());
        return 0;
    }

    public int Read(in FuseContext context, ulong nodeId, in fuse_read_in args, Span<byte> destination, out int count)
    {
        lock (_gate)
        {
            count = 0;
            if (!_nodes.TryGetValue(nodeId, out var node))
            {
                return ENOENT;
            }
            if (node.IsDirectory)
            {
                return EISDIR;
            }
            if ((long)args.offset >= node.Size)
            {
                return 0;
            }
            count = (int)Math.Min(destination.Length, node.Size - (long)args.offset);
            node.Data.AsSpan((int)args.offset, count).CopyTo(destination);
            return 0;
        }
    }

    public int Write(in FuseContext context, ulong nodeId, in fuse_write_in args, ReadOnlySpan<byte> data, out uint written)
    {
        lock (_gate)
        {
            written = 0;
            if (!_nodes.TryGetValue(nodeId, out var node))
            {
                return ENOENT;
            }
            long end = (long)args.offset + data.Length;
            if (end > node.Data.Length)
            {
                var grown = new byte[Math.Max(end, node.Data.Length * 2L)];
                node.Data.AsSpan(0, (int)node.Size).CopyTo(grown);
                node.Data = grown;
            }
            data.CopyTo(node.Data.AsSpan((int)args.offset));
            node.Size = Math.Max(node.Size, end);
            written = (uint)data.Length;
            if (data.Length > _maxWrite)
            {
                _maxWrite = data.Length;
            }
            return 0;
        }
    }

    public int OpenDir(in FuseContext context, ulong nodeId, in fuse_open_in args, ref fuse_open_out open)
    {
        lock (_gate)
        {
            return _nodes.TryGetValue(nodeId, out var node) ? node.IsDirectory ? 0 : ENOTDIR : ENOENT;
        }
    }

    public int ReadDir(in FuseContext context, ulong nodeId, in fuse_read_in args, FuseDirectoryBuffer buffer) => List(nodeId, args.offset, buffer);

    public int ReadDirPlus(in FuseContext context, ulong nodeId, in fuse_read_in args, FuseDirectoryBuffer buffer) => List(nodeId, args.offset, buffer);

    private int List(ulong nodeId, ulong offset, FuseDirectoryBuffer buffer)
    {
        lock (_gate)
        {
            if (!_nodes.TryGetValue(nodeId, out var dir) || !dir.IsDirectory)
            {
                return ENOTDIR;
            }
            // Offsets: 1 after ".", 2 after "..", 3 + i after child i.
            for (ulong position = offset; position < 2 + (ulong)dir.Children.Count; position++)
            {
                Node node = position == 0 ? dir : position == 1 ? dir.Parent ?? dir : dir.Children[(int)position - 2];
                ReadOnlySpan<byte> name = position == 0 ? "."u8 : position == 1 ? ".."u8 : node.Name;
                bool added;
                if (buffer.Plus)
                {
                    var entry = default(fuse_entry_out);
                    if (position >= 2)
                    {
                        Fill(node, ref entry);
                    }
                    else
                    {
                        FillAttr(node, ref entry.attr); // "." and "..": attributes only, not a lookup
                    }
                    added = buffer.TryAddPlus(name, entry, position + 1);
                    if (added && position >= 2)
                    {
                        node.Lookups++;
                    }
                }
                else
                {
                    added = buffer.TryAdd(name, node.Ino, node.Mode, position + 1);
                }
                if (!added)
                {
                    break;
                }
            }
            return 0;
        }
    }

    public int MkDir(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, in fuse_mkdir_in args, ref fuse_entry_out entry)
    {
        lock (_gate)
        {
            if (!_nodes.TryGetValue(parent, out var dir) || !dir.IsDirectory)
            {
                return ENOTDIR;
            }
            if (dir.Child(name) is not null)
            {
                return EEXIST;
            }
            var node = AddNode(dir, name.ToArray(), 0x4000 | (args.mode & 0xFFF & ~args.umask));
            node.Nlink = 2;
            dir.Nlink++;
            node.Lookups++;
            Fill(node, ref entry);
            return 0;
        }
    }

    public int Unlink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name) => Remove(parent, name, directory: false);

    public int RmDir(in FuseContext context, ulong parent, ReadOnlySpan<byte> name) => Remove(parent, name, directory: true);

    private int Remove(ulong parent, ReadOnlySpan<byte> name, bool directory)
    {
        lock (_gate)
        {
            if (!_nodes.TryGetValue(parent, out var dir) || !dir.IsDirectory)
            {
                return ENOTDIR;
            }
            var node = dir.Child(name);
            if (node is null)
            {
                return ENOENT;
            }
            if (directory != node.IsDirectory)
            {
                return directory ? ENOTDIR : EISDIR;
            }
            if (directory && node.Children.Count > 0)
            {
                return ENOTEMPTY;
            }
            dir.Children.Remove(node);
            node.Nlink = 0;
            if (directory)
            {
                dir.Nlink--;
            }
            return 0;
        }
    }

    public int Rename(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ulong newParent, ReadOnlySpan<byte> newName, uint flags)
    {
        lock (_gate)
        {
            if (flags != 0)
            {
                return EINVAL;
            }
            if (!_nodes.TryGetValue(parent, out var from) || !_nodes.TryGetValue(newParent, out var to))
            {
                return ENOENT;
            }
            var node = from.Child(name);
            if (node is null)
            {
                return ENOENT;
            }
            if (to.Child(newName) is { } replaced)
            {
                to.Children.Remove(replaced);
            }
            from.Children.Remove(node);
            node.Name = newName.ToArray();
            node.Parent = to;
            to.Children.Add(node);
            return 0;
        }
    }

    public int StatFs(in FuseContext context, ulong nodeId, ref fuse_kstatfs stats)
    {
        stats.blocks = 1 << 20;
        stats.bfree = 1 << 19;
        stats.bavail = 1 << 19;
        stats.files = 1 << 16;
        stats.ffree = 1 << 15;
        stats.bsize = 4096;
        stats.frsize = 4096;
        stats.namelen = 255;
        return 0;
    }

    public int Flush(in FuseContext context, ulong nodeId, in fuse_flush_in args) => 0;

    public int Release(in FuseContext context, ulong nodeId, in fuse_release_in args) => 0;

    public int Fsync(in FuseContext context, ulong nodeId, in fuse_fsync_in args) => 0;

    public int ReleaseDir(in FuseContext context, ulong nodeId, in fuse_release_in args) => 0;

    public int FsyncDir(in FuseContext context, ulong nodeId, in fuse_fsync_in args) => 0;

    public int Access(in FuseContext context, ulong nodeId, uint mask) => 0;

    // Not needed by the protocol tests: ENOSYS, which the kernel remembers.
    public int ReadLink(in FuseContext context, ulong nodeId, Span<byte> target, out int length)
    {
        length = 0;
        return ENOSYS;
    }

    public int Symlink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, ref fuse_entry_out entry) => ENOSYS;

    public int MkNod(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, in fuse_mknod_in args, ref fuse_entry_out entry) => ENOSYS;

    public int Link(in FuseContext context, ulong nodeId, ulong newParent, ReadOnlySpan<byte> newName, ref fuse_entry_out entry) => ENOSYS;

    public int TmpFile(in FuseContext context, ulong parent, in fuse_create_in args, ref fuse_entry_out entry, ref fuse_open_out open) => ENOSYS;

    public int SetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, uint flags) => ENOSYS;

    public int GetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, Span<byte> value, out int size)
    {
        size = 0;
        return ENOSYS;
    }

    public int ListXattr(in FuseContext context, ulong nodeId, Span<byte> names, out int size)
    {
        size = 0;
        return ENOSYS;
    }

    public int RemoveXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name) => ENOSYS;

    public int Fallocate(in FuseContext context, ulong nodeId, in fuse_fallocate_in args) => ENOSYS;

    public int Lseek(in FuseContext context, ulong nodeId, in fuse_lseek_in args, out ulong offset)
    {
        offset = 0;
        return ENOSYS;
    }

    public int CopyFileRange(in FuseContext context, ulong nodeIdIn, in fuse_copy_file_range_in args, out ulong copied)
    {
        copied = 0;
        return ENOSYS;
    }

    public int SyncFs(in FuseContext context, ulong nodeId) => 0;

    private static void Fill(Node node, ref fuse_entry_out entry)
    {
        entry.nodeid = node.Ino;
        entry.generation = 1;
        entry.entry_valid = 1;
        entry.attr_valid = 1;
        FillAttr(node, ref entry.attr);
    }

    private static void FillAttr(Node node, ref fuse_attr attr)
    {
        attr.ino = node.Ino;
        attr.size = (ulong)node.Size;
        attr.blocks = ((ulong)node.Size + 511) / 512;
        attr.mtime = attr.ctime = attr.atime = node.MtimeSec;
        attr.mtimensec = attr.ctimensec = attr.atimensec = node.MtimeNsec;
        attr.mode = node.Mode;
        attr.nlink = node.Nlink;
        attr.uid = node.Uid;
        attr.gid = node.Gid;
        attr.blksize = 4096;
    }

    internal sealed class Node
    {
        public Node(ulong ino, uint mode, Node? parent, byte[] name)
        {
            Ino = ino;
            Mode = mode;
            Parent = parent;
            Name = name;
            MtimeSec = 1_700_000_000;
        }

        public ulong Ino { get; }
        public uint Mode { get; set; }
        public Node? Parent { get; set; }
        public byte[] Name { get; set; }
        public byte[] Data { get; set; } = [];
        public long Size { get; set; }
        public uint Nlink { get; set; } = 1;
        public uint Uid { get; set; }
        public uint Gid { get; set; }
        public ulong MtimeSec { get; set; }
        public uint MtimeNsec { get; set; }
        public long Lookups { get; set; }
        public List<Node> Children { get; } = [];
        public bool IsDirectory => (Mode & 0xF000) == 0x4000;

        public Node? Child(ReadOnlySpan<byte> name)
        {
            foreach (var child in Children)
            {
                if (name.SequenceEqual(child.Name))
                {
                    return child;
                }
            }
            return null;
        }

        public void Resize(long size)
        {
            if (size > Data.Length)
            {
                var grown = new byte[size];
                Data.AsSpan(0, (int)Size).CopyTo(grown);
                Data = grown;
            }
            else if (size < Size)
            {
                Data.AsSpan((int)size, (int)(Size - size)).Clear();
            }
            Size = size;
        }
    }
}
