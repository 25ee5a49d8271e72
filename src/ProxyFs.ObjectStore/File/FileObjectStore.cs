using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace ProxyFs.ObjectStore.File;

/// <summary>Options of a <c>file://</c> store.</summary>
public sealed record FileStoreOptions
{
    /// <summary>fsync object files and directories so that a put survives a crash once it returns (default true).</summary>
    public bool Fsync { get; init; } = true;

    /// <summary>Create the root directory when it is missing (default true).</summary>
    public bool Create { get; init; } = true;
}

/// <summary>
/// The embedded store: objects are files under a root directory (docs/OBJECTSTORE.md, "file://"). Puts are crash-safe
/// (temporary file, fsync, rename, fsync of the directory); conditional puts and deletes of a key are serialised across
/// threads and processes by flock(2) on one of 256 lock files; every object file starts with a 32-byte header holding
/// a random 128-bit ETag and the length.
/// </summary>
public sealed class FileObjectStore : IObjectStore
{
    /// <summary>The name of the file that marks a directory as a proxyfs file store.</summary>
    public const string MarkerName = "proxyfs-objectstore";

    internal const int HeaderSize = 32;
    private const string MarkerText = "proxyfs file object store\nformat 1\n";
    private const int LockStripes = 256;
    private static readonly byte[] Magic = "PFSOBJ01"u8.ToArray();

    private readonly string _root;
    private readonly string _objects;
    private readonly string _tmp;
    private readonly string _locks;
    private readonly bool _fsync;
    private readonly SemaphoreSlim[] _stripes;

    /// <summary>Opens (and by default creates) the store rooted at the absolute directory <paramref name="root"/>.</summary>
    public FileObjectStore(string root, FileStoreOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        options ??= new FileStoreOptions();
        if (!Path.IsPathFullyQualified(root))
        {
            throw new ArgumentException($"the root of a file store must be an absolute path, not '{root}'", nameof(root));
        }
        _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        if (_root.Length == 0)
        {
            _root = "/";
        }
        Location = "file://" + _root;
        _objects = Path.Combine(_root, "objects");
        _tmp = Path.Combine(_root, "tmp");
        _locks = Path.Combine(_root, "locks");
        _fsync = options.Fsync;
        _stripes = new SemaphoreSlim[LockStripes];
        for (int i = 0; i < _stripes.Length; i++)
        {
            _stripes[i] = new SemaphoreSlim(1, 1);
        }
        Initialize(options.Create);
    }

    /// <inheritdoc />
    public string Location { get; }

    /// <summary>The root directory.</summary>
    public string Root => _root;

    private void Initialize(bool create)
    {
        try
        {
            string marker = Path.Combine(_root, MarkerName);
            if (!Directory.Exists(_root))
            {
                if (!create)
                {
                    throw new ObjectStoreException(ObjectStoreErrorKind.NoSuchBucket, ObjectStoreOperation.Open, Location, null,
                        $"the directory {_root} does not exist (create=false)");
                }
                Directory.CreateDirectory(_root);
            }
            if (System.IO.File.Exists(marker))
            {
                string text = System.IO.File.ReadAllText(marker);
                if (text != MarkerText)
                {
                    throw new ObjectStoreException(ObjectStoreErrorKind.Permanent, ObjectStoreOperation.Open, Location, null,
                        $"{marker} does not describe a store of format 1 (it says: {ObjectKeys.Printable(text.Trim())})");
                }
            }
            else
            {
                if (Directory.EnumerateFileSystemEntries(_root).Any())
                {
                    throw new ObjectStoreException(ObjectStoreErrorKind.Permanent, ObjectStoreOperation.Open, Location, null,
                        $"{_root} is not empty and has no {MarkerName} file: it is not a proxyfs file store, and proxyfs will not write into it");
                }
                string tmpMarker = marker + "." + Environment.ProcessId + ".tmp";
                System.IO.File.WriteAllText(tmpMarker, MarkerText);
                System.IO.File.Move(tmpMarker, marker, overwrite: true);
            }
            Directory.CreateDirectory(_objects);
            Directory.CreateDirectory(_tmp);
            Directory.CreateDirectory(_locks);
            if (_fsync)
            {
                FileNative.FsyncDirectory(_root);
            }
            RemoveOrphanedTemporaryFiles();
        }
        catch (Exception e) when (e is IOException and not ObjectStoreException or UnauthorizedAccessException)
        {
            throw new ObjectStoreException(ObjectStoreErrorKind.Permanent, ObjectStoreOperation.Open, Location, null, e.Message, e);
        }
    }

    // Temporary files are named "<pid>.<random>.tmp"; those of processes that no longer run are left by a crash.
    private void RemoveOrphanedTemporaryFiles()
    {
        foreach (string path in Directory.EnumerateFiles(_tmp))
        {
            string name = Path.GetFileName(path);
            int dot = name.IndexOf('.', StringComparison.Ordinal);
            if (dot > 0 && int.TryParse(name.AsSpan(0, dot), out int pid) && pid != Environment.ProcessId && !Directory.Exists("/proc/" + pid))
            {
                System.IO.File.Delete(path);
            }
        }
    }

    /// <inheritdoc />
    public async Task<ObjectInfo> HeadAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        cancellationToken.ThrowIfCancellationRequested();
        string path = ObjectPath(key);
        try
        {
            using var handle = OpenForRead(path);
            var header = await ReadHeaderAsync(handle, path, cancellationToken).ConfigureAwait(false);
            return new ObjectInfo(key, header.Length, header.ETag, System.IO.File.GetLastWriteTimeUtc(handle));
        }
        catch (Exception e) when (IsFileError(e))
        {
            throw Map(e, ObjectStoreOperation.Head, key);
        }
    }

    /// <inheritdoc />
    public async Task<ObjectReadStream> GetAsync(string key, ByteRange range = default, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        cancellationToken.ThrowIfCancellationRequested();
        string path = ObjectPath(key);
        SafeFileHandle? handle = null;
        try
        {
            handle = OpenForRead(path);
            var header = await ReadHeaderAsync(handle, path, cancellationToken).ConfigureAwait(false);
            var info = new ObjectInfo(key, header.Length, header.ETag, System.IO.File.GetLastWriteTimeUtc(handle));
            var (offset, length) = range.Resolve(header.Length);
            var stream = new ObjectReadStream(Location, info, offset, length, new HandleStream(handle, HeaderSize + offset));
            handle = null;
            return stream;
        }
        catch (Exception e) when (IsFileError(e))
        {
            throw Map(e, ObjectStoreOperation.Get, key);
        }
        finally
        {
            handle?.Dispose();
        }
    }

    /// <inheritdoc />
    public async Task<PutResult> PutAsync(string key, ObjectBody body, PutCondition condition = default, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        ArgumentNullException.ThrowIfNull(body);
        List<string> segments = FileKeyMapping.ToSegments(key);
        string target = Path.Combine(_objects, Path.Combine([.. segments]));
        string temp = Path.Combine(_tmp, $"{Environment.ProcessId}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}.tmp");
        byte[] etagBytes = RandomNumberGenerator.GetBytes(16);
        string etag = Convert.ToHexStringLower(etagBytes);
        bool renamed = false;
        try
        {
            long length = await WriteTemporaryAsync(temp, body, etagBytes, cancellationToken).ConfigureAwait(false);
            using (await LockAsync(key, cancellationToken).ConfigureAwait(false))
            {
                if (condition.IsConditional)
                {
                    string? current = await CurrentETagAsync(target, cancellationToken).ConfigureAwait(false);
                    if (condition.Kind == PutConditionKind.IfNoneMatch && current is not null)
                    {
                        throw new ObjectStoreException(ObjectStoreErrorKind.PreconditionFailed, ObjectStoreOperation.Put, Location, key,
                            "create-only put (If-None-Match: *) but the key exists")
                        { HttpStatus = 412 };
                    }
                    if (condition.Kind == PutConditionKind.IfMatch && current != condition.ETag)
                    {
                        throw new ObjectStoreException(ObjectStoreErrorKind.PreconditionFailed, ObjectStoreOperation.Put, Location, key,
                            current is null
                                ? $"If-Match: {condition.ETag} but the key does not exist"
                                : $"If-Match: {condition.ETag} but the current ETag is {current}")
                        { HttpStatus = 412 };
                    }
                }
                RenameIntoPlace(temp, target, segments);
                renamed = true;
            }
            return new PutResult(etag, length);
        }
        catch (Exception e) when (IsFileError(e))
        {
            throw Map(e, ObjectStoreOperation.Put, key);
        }
        finally
        {
            if (!renamed)
            {
                DeleteIfExists(temp);
            }
        }
    }

    /// <inheritdoc />
    public async Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectKeys.Validate(key);
        List<string> segments = FileKeyMapping.ToSegments(key);
        string target = Path.Combine(_objects, Path.Combine([.. segments]));
        try
        {
            using (await LockAsync(key, cancellationToken).ConfigureAwait(false))
            {
                if (!System.IO.File.Exists(target))
                {
                    CheckRoot(ObjectStoreOperation.Delete, key);
                    return;
                }
                System.IO.File.Delete(target);
                if (_fsync)
                {
                    FileNative.FsyncDirectory(Path.GetDirectoryName(target)!);
                }
            }
            RemoveEmptyDirectories(Path.GetDirectoryName(target)!);
        }
        catch (Exception e) when (IsFileError(e))
        {
            throw Map(e, ObjectStoreOperation.Delete, key);
        }
    }

    /// <inheritdoc />
    public Task<ObjectListing> ListAsync(string prefix, string? startAfter = null, int maxKeys = ObjectListing.MaxPageSize, CancellationToken cancellationToken = default)
    {
        ObjectKeys.ValidatePrefix(prefix);
        if (startAfter is not null)
        {
            ObjectKeys.ValidatePrefix(startAfter, nameof(startAfter));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(maxKeys, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxKeys, ObjectListing.MaxPageSize);
        return Task.Run(() =>
        {
            try
            {
                return ListPage(prefix, startAfter, maxKeys, cancellationToken);
            }
            catch (Exception e) when (IsFileError(e))
            {
                throw Map(e, ObjectStoreOperation.List, prefix);
            }
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        foreach (var s in _stripes)
        {
            s.Dispose();
        }
        return ValueTask.CompletedTask;
    }

    private string ObjectPath(string key) => Path.Combine(_objects, Path.Combine([.. FileKeyMapping.ToSegments(key)]));

    private static SafeFileHandle OpenForRead(string path) =>
        System.IO.File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);

    private readonly record struct Header(string ETag, long Length);

    private async ValueTask<Header> ReadHeaderAsync(SafeFileHandle handle, string path, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[HeaderSize];
        int n = await RandomAccess.ReadAsync(handle, buffer, 0, cancellationToken).ConfigureAwait(false);
        long fileLength = RandomAccess.GetLength(handle);
        long length = BinaryPrimitives.ReadInt64LittleEndian(buffer.AsSpan(24));
        if (n < HeaderSize || !buffer.AsSpan(0, 8).SequenceEqual(Magic) || length != fileLength - HeaderSize)
        {
            throw new CorruptObjectException($"{path} is not a valid object file (bad header, or {fileLength} bytes on disk for a length of {length})");
        }
        return new Header(Convert.ToHexStringLower(buffer.AsSpan(8, 16)), length);
    }

    private async ValueTask<string?> CurrentETagAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            using var handle = OpenForRead(path);
            return (await ReadHeaderAsync(handle, path, cancellationToken).ConfigureAwait(false)).ETag;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    private async Task<long> WriteTemporaryAsync(string temp, ObjectBody body, byte[] etag, CancellationToken cancellationToken)
    {
        using var handle = System.IO.File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None,
            FileOptions.None, preallocationSize: body.Length is long n ? HeaderSize + n : 0);
        long position = HeaderSize;
        if (body.IsMemory)
        {
            foreach (var segment in body.Memory)
            {
                await RandomAccess.WriteAsync(handle, segment, position, cancellationToken).ConfigureAwait(false);
                position += segment.Length;
            }
        }
        else
        {
            var stream = body.OpenRead();
            byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
            try
            {
                int read;
                while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    await RandomAccess.WriteAsync(handle, buffer.AsMemory(0, read), position, cancellationToken).ConfigureAwait(false);
                    position += read;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            if (body.Length is long expected && position - HeaderSize != expected)
            {
                throw new IOException($"the body stream gave {position - HeaderSize} bytes, not the {expected} announced");
            }
        }
        long length = position - HeaderSize;
        byte[] header = new byte[HeaderSize];
        Magic.CopyTo(header, 0);
        etag.CopyTo(header, 8);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(24), length);
        await RandomAccess.WriteAsync(handle, header, 0, cancellationToken).ConfigureAwait(false);
        if (_fsync)
        {
            RandomAccess.FlushToDisk(handle);
        }
        return length;
    }

    private void RenameIntoPlace(string temp, string target, List<string> segments)
    {
        // A concurrent delete may remove an emptied directory between our mkdir and our rename: then do both again.
        for (int attempt = 0; ; attempt++)
        {
            var created = new List<string>();
            string dir = _objects;
            for (int i = 0; i < segments.Count - 1; i++)
            {
                dir = Path.Combine(dir, segments[i]);
                if (!Directory.Exists(dir))
                {
                    Directory.CreateDirectory(dir);
                    created.Add(dir);
                }
            }
            try
            {
                System.IO.File.Move(temp, target, overwrite: true);
            }
            catch (DirectoryNotFoundException) when (attempt < 100 && System.IO.File.Exists(temp))
            {
                continue;
            }
            if (_fsync)
            {
                FileNative.FsyncDirectory(dir);
                for (int i = created.Count - 1; i >= 0; i--)
                {
                    FileNative.FsyncDirectory(Path.GetDirectoryName(created[i])!);
                }
            }
            return;
        }
    }

    private void RemoveEmptyDirectories(string dir)
    {
        while (dir.Length > _objects.Length && dir.StartsWith(_objects, StringComparison.Ordinal))
        {
            try
            {
                Directory.Delete(dir);
            }
            catch (IOException) when (Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any())
            {
                return; // not empty: another key lives here
            }
            catch (DirectoryNotFoundException)
            {
                return; // a concurrent delete removed it first
            }
            dir = Path.GetDirectoryName(dir)!;
        }
    }

    private static void DeleteIfExists(string path)
    {
        try
        {
            System.IO.File.Delete(path);
        }
        catch (DirectoryNotFoundException)
        {
            // The store's tmp/ directory is gone: nothing to clean.
        }
    }

    private async Task<StripeLock> LockAsync(string key, CancellationToken cancellationToken)
    {
        uint hash = 2166136261;
        foreach (char c in key)
        {
            hash = (hash ^ c) * 16777619;
        }
        int stripe = (int)(hash % LockStripes);
        var gate = _stripes[stripe];
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        string path = Path.Combine(_locks, stripe.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
        int fd = -1;
        try
        {
            fd = FileNative.OpenLockFile(path);
            int delayMs = 0;
            while (!FileNative.TryLockExclusive(fd, path))
            {
                delayMs = Math.Min(delayMs + 1, 10);
                await Task.Delay(delayMs, cancellationToken).ConfigureAwait(false);
            }
            return new StripeLock(gate, fd);
        }
        catch
        {
            if (fd >= 0)
            {
                FileNative.Unlock(fd);
            }
            gate.Release();
            throw;
        }
    }

    private sealed class StripeLock(SemaphoreSlim gate, int fd) : IDisposable
    {
        public void Dispose()
        {
            FileNative.Unlock(fd);
            gate.Release();
        }
    }

    private ObjectListing ListPage(string prefix, string? startAfter, int maxKeys, CancellationToken cancellationToken)
    {
        int slash = prefix.LastIndexOf('/');
        string basePrefix = slash < 0 ? "" : prefix[..(slash + 1)];
        string baseDir = Path.Combine(_objects, Path.Combine([.. FileKeyMapping.DirectorySegments(basePrefix)]));
        var results = new List<ObjectInfo>();
        if (!Directory.Exists(baseDir))
        {
            CheckRoot(ObjectStoreOperation.List, prefix);
            return new ObjectListing(results, null);
        }

        // A lazy merge of the directory tree in key order: each directory stands for the keys that start with its
        // prefix, so it is opened only when its prefix is the smallest bound left (docs/OBJECTSTORE.md).
        var heap = new PriorityQueue<(string Path, bool IsDirectory, string Key), string>(ObjectKeys.Comparer);
        heap.Enqueue((baseDir, true, basePrefix), basePrefix);
        bool truncated = false;
        while (heap.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (path, isDirectory, key) = heap.Peek();
            if (!isDirectory && results.Count == maxKeys)
            {
                truncated = true;
                break;
            }
            heap.Dequeue();
            if (!isDirectory)
            {
                var info = TryReadInfo(path, key);
                if (info is not null)
                {
                    results.Add(info);
                }
                continue;
            }
            IEnumerable<string> entries;
            try
            {
                entries = Directory.EnumerateFileSystemEntries(path).ToList();
            }
            catch (DirectoryNotFoundException)
            {
                continue; // emptied and removed by a concurrent delete
            }
            foreach (string entry in entries)
            {
                string name = Path.GetFileName(entry);
                if (!FileKeyMapping.TryDecodeEntry(name, out var kind, out string text))
                {
                    throw new CorruptObjectException($"{entry} is not a name this store writes: something else wrote into {_objects}");
                }
                string entryKey = key + text;
                if (kind == FileKeyMapping.EntryKind.File)
                {
                    if (entryKey.StartsWith(prefix, StringComparison.Ordinal) && (startAfter is null || ObjectKeys.CompareUtf8(entryKey, startAfter) > 0))
                    {
                        heap.Enqueue((entry, false, entryKey), entryKey);
                    }
                }
                else
                {
                    bool matchesPrefix = entryKey.StartsWith(prefix, StringComparison.Ordinal) || prefix.StartsWith(entryKey, StringComparison.Ordinal);
                    bool allBeforeStart = startAfter is not null && ObjectKeys.CompareUtf8(entryKey, startAfter) < 0
                        && !startAfter.StartsWith(entryKey, StringComparison.Ordinal);
                    if (matchesPrefix && !allBeforeStart)
                    {
                        heap.Enqueue((entry, true, entryKey), entryKey);
                    }
                }
            }
        }
        return new ObjectListing(results, truncated ? results[^1].Key : null);
    }

    private ObjectInfo? TryReadInfo(string path, string key)
    {
        try
        {
            using var handle = OpenForRead(path);
            var header = ReadHeaderAsync(handle, path, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            return new ObjectInfo(key, header.Length, header.ETag, System.IO.File.GetLastWriteTimeUtc(handle));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null; // deleted since the directory was read: a listing is not a snapshot
        }
    }

    private void CheckRoot(ObjectStoreOperation operation, string key)
    {
        if (!Directory.Exists(_objects))
        {
            throw new ObjectStoreException(ObjectStoreErrorKind.NoSuchBucket, operation, Location, key, $"the store's directory {_objects} is missing");
        }
    }

    private static bool IsFileError(Exception e) => e is IOException and not ObjectStoreException or UnauthorizedAccessException;

    private ObjectStoreException Map(Exception e, ObjectStoreOperation operation, string key)
    {
        if (e is FileNotFoundException or DirectoryNotFoundException)
        {
            if (!Directory.Exists(_objects))
            {
                return new ObjectStoreException(ObjectStoreErrorKind.NoSuchBucket, operation, Location, key, $"the store's directory {_objects} is missing", e);
            }
            if (operation is ObjectStoreOperation.Head or ObjectStoreOperation.Get)
            {
                return new ObjectStoreException(ObjectStoreErrorKind.NotFound, operation, Location, key, "no such key", e) { HttpStatus = 404 };
            }
        }
        if (e is PathTooLongException)
        {
            return new ObjectStoreException(ObjectStoreErrorKind.Permanent, operation, Location, key,
                $"the key's path is too long for this file system (root {_root} is {_root.Length} characters; use a shorter root)", e);
        }
        return new ObjectStoreException(ObjectStoreErrorKind.Permanent, operation, Location, key, e.Message, e);
    }

    private sealed class CorruptObjectException(string message) : IOException(message);

    /// <summary>Reads a file from an offset with pread, so no FileStream buffer sits between the file and the caller.</summary>
    private sealed class HandleStream(SafeFileHandle handle, long position) : Stream
    {
        private long _position = position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = RandomAccess.Read(handle, buffer, _position);
            _position += n;
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int n = await RandomAccess.ReadAsync(handle, buffer, _position, cancellationToken).ConfigureAwait(false);
            _position += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                handle.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
