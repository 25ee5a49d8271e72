using System.Text;
using ProxyFs.Core.FileSystem;

namespace ProxyFs.Testing.Posix;

/// <summary>
/// The POSIX operations of <see cref="IPosixTarget"/> performed on an <see cref="IFileSystem"/> the way the
/// kernel's VFS and FUSE drive it: paths are walked with Lookup one component at a time (following symlinks,
/// ELOOP after 40), the checks the VFS makes before it calls a filesystem are made here (flag validation, type
/// checks of open/truncate/copy_file_range, fs.protected_hardlinks, O_APPEND offsets, zero-length writes), and
/// every lookup reference taken is given back with Forget when the operation ends, as an eager kernel would.
/// File descriptors map to the filesystem's handles.
/// </summary>
public sealed partial class FileSystemTarget : IPosixTarget, IRemountableTarget
{
    private const int MaxSymlinkFollows = 40;
    private const int PathMax = 4096;
    private const int OpenFlagsNotSent = OpenFlags.O_CREAT | OpenFlags.O_EXCL | OpenFlags.O_NOCTTY;

    private readonly Func<IFileSystem, IFileSystem>? _remount;
    private IFileSystem _fs;
    private readonly Dictionary<int, OpenFile> _fds = [];
    private readonly GroupTable _groups = new();
    private readonly bool _protectedHardlinks;
    private readonly int _protectedRegular = ReadSysctl("protected_regular");
    private readonly int _protectedFifos = ReadSysctl("protected_fifos");
    private readonly Dictionary<ulong, ulong> _lookups = [];

    /// <param name="fileSystem">The filesystem to drive; the target does not dispose it.</param>
    /// <param name="protectedHardlinks">Emulate fs.protected_hardlinks; default: what this machine's kernel does.</param>
    /// <param name="remount">Unmounts the given filesystem and returns it mounted again (null: a remount only closes descriptors).</param>
    public FileSystemTarget(IFileSystem fileSystem, string name = "memfs", bool? protectedHardlinks = null, Func<IFileSystem, IFileSystem>? remount = null)
    {
        _fs = fileSystem;
        _remount = remount;
        Name = name;
        _protectedHardlinks = protectedHardlinks ?? ReadProtectedHardlinks();
    }

    public string Name { get; }

    public PosixUser User { get; set; } = PosixUser.Root;

    public uint Umask { get; set; }

    public IFileSystem FileSystem => _fs;

    private Caller Caller => new(User.Uid, User.Gid, _groups.PidOf(User), _groups);

    private static bool ReadProtectedHardlinks() => ReadSysctl("protected_hardlinks") != 0;

    /// <summary>A fs.protected_* setting of this machine's kernel, which applies to every filesystem (0 if absent).</summary>
    private static int ReadSysctl(string name)
    {
        string path = "/proc/sys/fs/" + name;
        return File.Exists(path) && int.TryParse(File.ReadAllText(path).Trim(), out int value) ? value : 0;
    }

    /// <summary>Gives back every lookup reference taken during an operation.</summary>
    private void ForgetAll()
    {
        foreach ((ulong ino, ulong count) in _lookups)
        {
            _fs.Forget(ino, count);
        }
        _lookups.Clear();
    }

    private void Counted(ulong ino)
    {
        _lookups[ino] = _lookups.TryGetValue(ino, out ulong n) ? n + 1 : 1;
    }

    private int LookupCounted(ulong parent, string name, out EntryOut entry)
    {
        int error = _fs.Lookup(Caller, parent, Encoding.UTF8.GetBytes(name), out entry);
        if (error == 0)
        {
            Counted(entry.Ino);
        }
        return error;
    }

    /// <summary>A resolved path: the directory holding the last component, its name, and what it names.</summary>
    private struct Resolved
    {
        public ulong Parent;
        public string Name;
        public int LookupError;
        public EntryOut Entry;

        public readonly bool Exists => LookupError == 0;
    }

    /// <summary>
    /// Walks <paramref name="path"/> to its last component. Every component before it must be a searchable
    /// directory (symlinks followed). Then the last one is looked up; when <paramref name="follow"/>, a symlink there
    /// is followed too. Returns an error only for the walk; the last lookup's outcome is in LookupError.
    /// </summary>
    private int Resolve(string path, bool follow, out Resolved resolved)
    {
        resolved = default;
        if (path.Length == 0)
        {
            return Errno.ENOENT;
        }
        if (Encoding.UTF8.GetByteCount(path) >= PathMax)
        {
            return Errno.ENAMETOOLONG;
        }
        int follows = 0;
        return Walk(IFileSystem.RootIno, path, follow, ref follows, out resolved);
    }

    private int Walk(ulong start, string path, bool follow, ref int follows, out Resolved resolved)
    {
        resolved = default;
        ulong current = path.StartsWith('/') ? IFileSystem.RootIno : start;
        bool trailingSlash = path.EndsWith('/') && path.Trim('/').Length > 0;
        string[] parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            // "/" itself: the root, named "." in itself.
            parts = ["."];
        }
        for (int i = 0; i < parts.Length; i++)
        {
            bool last = i == parts.Length - 1;
            int error = LookupCounted(current, parts[i], out EntryOut entry);
            if (last)
            {
                resolved.Parent = current;
                resolved.Name = parts[i];
                resolved.LookupError = error;
                resolved.Entry = entry;
                if (error == 0 && ModeBits.IsSymlink(entry.Attr.Mode) && (follow || trailingSlash))
                {
                    return FollowLink(current, entry.Ino, follow || trailingSlash, ref follows, out resolved);
                }
                if (error == 0 && trailingSlash && !ModeBits.IsDirectory(entry.Attr.Mode))
                {
                    return Errno.ENOTDIR;
                }
                return 0;
            }
            if (error != 0)
            {
                return error;
            }
            if (ModeBits.IsSymlink(entry.Attr.Mode))
            {
                error = FollowLink(current, entry.Ino, true, ref follows, out Resolved target);
                if (error != 0)
                {
                    return error;
                }
                if (!target.Exists)
                {
                    return target.LookupError;
                }
                entry = target.Entry;
            }
            if (!ModeBits.IsDirectory(entry.Attr.Mode))
            {
                return Errno.ENOTDIR;
            }
            current = entry.Ino;
        }
        throw new InvalidOperationException("unreachable");
    }

    private int FollowLink(ulong directory, ulong link, bool follow, ref int follows, out Resolved resolved)
    {
        resolved = default;
        if (++follows > MaxSymlinkFollows)
        {
            return Errno.ELOOP;
        }
        byte[] buffer = new byte[PathMax];
        int error = _fs.ReadLink(Caller, link, buffer, out int length);
        if (error != 0)
        {
            return error;
        }
        return Walk(directory, Encoding.UTF8.GetString(buffer, 0, length), follow, ref follows, out resolved);
    }

    /// <summary>Resolves the directory a new name goes in; the name need not exist.</summary>
    private int ResolveParent(string path, out ulong parent, out byte[] name)
    {
        parent = 0;
        name = [];
        if (path.Length == 0)
        {
            return Errno.ENOENT;
        }
        if (Encoding.UTF8.GetByteCount(path) >= PathMax)
        {
            return Errno.ENAMETOOLONG;
        }
        string trimmed = path.TrimEnd('/');
        int slash = trimmed.LastIndexOf('/');
        string last = slash < 0 ? trimmed : trimmed[(slash + 1)..];
        if (last.Length == 0)
        {
            last = ".";
        }
        if (slash <= 0)
        {
            parent = IFileSystem.RootIno;
        }
        else
        {
            int follows = 0;
            int error = Walk(IFileSystem.RootIno, trimmed[..slash], true, ref follows, out Resolved dir);
            if (error != 0)
            {
                return error;
            }
            if (!dir.Exists)
            {
                return dir.LookupError;
            }
            if (!ModeBits.IsDirectory(dir.Entry.Attr.Mode))
            {
                return Errno.ENOTDIR;
            }
            parent = dir.Entry.Ino;
        }
        name = Encoding.UTF8.GetBytes(last);
        // The walk checks search permission on the directory of the last component before anything else
        // (may_lookup), even when the filesystem will not be asked to look the name up.
        return _fs.Access(Caller, parent, AccessMode.X_OK);
    }

    /// <summary>Resolves an existing path (following a final symlink or not) to its inode.</summary>
    private int ResolveExisting(string path, bool follow, out EntryOut entry)
    {
        entry = default;
        int error = Resolve(path, follow, out Resolved resolved);
        if (error != 0)
        {
            return error;
        }
        if (!resolved.Exists)
        {
            return resolved.LookupError;
        }
        entry = resolved.Entry;
        return 0;
    }

    private int Done(int result)
    {
        ForgetAll();
        return result;
    }

    /// <summary>Releases every descriptor and lookup, then swaps in the filesystem mounted again.</summary>
    public void Remount()
    {
        foreach (OpenFile file in _fds.Values)
        {
            ReleaseFile(file);
        }
        _fds.Clear();
        ForgetAll();
        if (_remount is not null)
        {
            _fs = _remount(_fs);
        }
    }

    public void Dispose()
    {
        foreach (OpenFile file in _fds.Values)
        {
            ReleaseFile(file);
        }
        _fds.Clear();
        ForgetAll();
    }

    /// <summary>An open file description: the filesystem handle, flags and position.</summary>
    private sealed class OpenFile(ulong ino, ulong handle, int flags, bool isDirectory)
    {
        public ulong Ino { get; } = ino;
        public ulong Handle { get; } = handle;
        public int Flags { get; } = flags;
        public bool IsDirectory { get; } = isDirectory;
        public long Position { get; set; }

        /// <summary>The lookup reference the kernel keeps while a file is open (released on close).</summary>
        public bool HoldsLookup { get; set; }

        /// <summary>Directory listing state.</summary>
        public long DirOffset { get; set; }
        public Queue<PosixDirEntry>? Pending { get; set; }
        public bool DirEnd { get; set; }

        public bool CanRead => (Flags & OpenFlags.O_ACCMODE) != OpenFlags.O_WRONLY;
        public bool CanWrite => (Flags & OpenFlags.O_ACCMODE) is OpenFlags.O_WRONLY or OpenFlags.O_RDWR;
    }

    /// <summary>Supplementary groups by a synthetic pid per user, as the kernel would answer from /proc.</summary>
    private sealed class GroupTable : ISupplementaryGroups
    {
        private readonly Dictionary<int, PosixUser> _byPid = [];
        private readonly Dictionary<PosixUser, int> _byUser = [];

        public int PidOf(PosixUser user)
        {
            if (!_byUser.TryGetValue(user, out int pid))
            {
                pid = 100 + _byUser.Count;
                _byUser[user] = pid;
                _byPid[pid] = user;
            }
            return pid;
        }

        public bool Contains(int pid, uint gid) => _byPid.TryGetValue(pid, out PosixUser? user) && user.IsInGroup(gid);
    }
}
