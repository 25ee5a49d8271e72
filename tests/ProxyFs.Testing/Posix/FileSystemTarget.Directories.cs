using System.Text;
using ProxyFs.Core.FileSystem;

namespace ProxyFs.Testing.Posix;

/// <summary>Directory listing and extended attributes.</summary>
public sealed partial class FileSystemTarget
{
    /// <summary>Entries fetched per ReadDirPlus call: small, so that listings resume at cookies often.</summary>
    private const int ReadDirBatch = 7;

    public int OpenDir(string path, out int dir) => Open(path, OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY, 0, out dir);

    /// <summary>
    /// Reads the next entry, fetching batches with ReadDirPlus (whose lookup references are given back at once, as
    /// the kernel would once it drops the dentries) and resuming at the last entry's cookie.
    /// </summary>
    public int ReadDir(int dir, out PosixDirEntry? entry)
    {
        entry = null;
        if (GetFile(dir, out OpenFile file) != 0 || !file.IsDirectory)
        {
            return Errno.EBADF;
        }
        file.Pending ??= new Queue<PosixDirEntry>();
        if (file.Pending.Count == 0 && !file.DirEnd)
        {
            var filler = new Filler(ReadDirBatch);
            int error = _fs.ReadDirPlus(Caller, file.Ino, file.Handle, file.DirOffset, filler);
            if (error != 0)
            {
                return error;
            }
            foreach ((PosixDirEntry item, long next, ulong ino, bool counted) in filler.Entries)
            {
                file.Pending.Enqueue(item);
                file.DirOffset = next;
                if (counted)
                {
                    _fs.Forget(ino, 1);
                }
            }
            file.DirEnd = filler.Entries.Count == 0;
        }
        if (file.Pending.Count > 0)
        {
            entry = file.Pending.Dequeue();
        }
        return 0;
    }

    public int CloseDir(int dir) => Close(dir);

    private sealed class Filler(int capacity) : IDirectoryFiller
    {
        public List<(PosixDirEntry Entry, long Next, ulong Ino, bool Counted)> Entries { get; } = [];

        public bool Add(ReadOnlySpan<byte> name, ulong ino, uint mode, long nextOffset)
        {
            if (Entries.Count == capacity)
            {
                return false;
            }
            Entries.Add((new PosixDirEntry(Encoding.UTF8.GetString(name), DirentType.FromMode(mode)), nextOffset, ino, false));
            return true;
        }

        public bool AddPlus(ReadOnlySpan<byte> name, in EntryOut entry, long nextOffset)
        {
            if (Entries.Count == capacity)
            {
                return false;
            }
            bool dots = name.SequenceEqual("."u8) || name.SequenceEqual(".."u8);
            Entries.Add((new PosixDirEntry(Encoding.UTF8.GetString(name), DirentType.FromMode(entry.Attr.Mode)), nextOffset, entry.Ino, !dots));
            return true;
        }
    }

    // ---- extended attributes ----

    /// <summary>The VFS copies and checks the name (1..255 bytes: ERANGE) before it walks the path.</summary>
    private static int CheckXattrName(string name, out byte[] bytes)
    {
        bytes = Encoding.UTF8.GetBytes(name);
        return bytes.Length is 0 or > 255 ? Errno.ERANGE : 0;
    }

    public int SetXattr(string path, string name, ReadOnlySpan<byte> value, XattrFlags flags, bool followSymlinks = false)
    {
        if ((flags & ~(XattrFlags.Create | XattrFlags.Replace)) != 0)
        {
            return Errno.EINVAL;
        }
        int error = CheckXattrName(name, out byte[] bytes);
        if (error != 0)
        {
            return error;
        }
        if (value.Length > 65536)
        {
            return Errno.E2BIG;
        }
        error = ResolveExisting(path, followSymlinks, out EntryOut entry);
        return Done(error != 0 ? error : _fs.SetXattr(Caller, entry.Ino, bytes, value, flags));
    }

    public int GetXattr(string path, string name, Span<byte> buffer, out int size, bool followSymlinks = false)
    {
        size = 0;
        int error = CheckXattrName(name, out byte[] bytes);
        if (error != 0)
        {
            return error;
        }
        error = ResolveExisting(path, followSymlinks, out EntryOut entry);
        return Done(error != 0 ? error : _fs.GetXattr(Caller, entry.Ino, bytes, buffer, out size));
    }

    public int ListXattr(string path, Span<byte> buffer, out int size, bool followSymlinks = false)
    {
        size = 0;
        int error = ResolveExisting(path, followSymlinks, out EntryOut entry);
        return Done(error != 0 ? error : _fs.ListXattr(Caller, entry.Ino, buffer, out size));
    }

    public int RemoveXattr(string path, string name, bool followSymlinks = false)
    {
        int error = CheckXattrName(name, out byte[] bytes);
        if (error != 0)
        {
            return error;
        }
        error = ResolveExisting(path, followSymlinks, out EntryOut entry);
        return Done(error != 0 ? error : _fs.RemoveXattr(Caller, entry.Ino, bytes));
    }
}
