using System.Buffers;
using System.Globalization;
using Microsoft.Extensions.Logging;
using ProxyFs.ObjectStore;
using ProxyFs.ObjectStore.File;

namespace ProxyFs.Core.LogSegments;

/// <summary>A segment's object bytes in a <see cref="SegmentSpill"/> directory.</summary>
/// <param name="Nonce">The segment's nonce (from the file name).</param>
/// <param name="Path">The file.</param>
/// <param name="Length">Its length in bytes (the object's).</param>
/// <param name="Interrupted">A temporary file: the process stopped before renaming it (a crash while spilling).</param>
public sealed record SpilledSegment(ulong Nonce, string Path, long Length, bool Interrupted);

/// <summary>What <see cref="SegmentSpill.UploadAsync"/> did.</summary>
/// <param name="Uploaded">Spilled segments now in the store.</param>
/// <param name="Bytes">Their object bytes.</param>
/// <param name="Discarded">Temporary files of an interrupted spill that were damaged (cut short) and removed.</param>
public sealed record SpillUpload(int Uploaded, long Bytes, int Discarded);

/// <summary>
/// Writing to or reading from a spill directory failed: a file could not be written (the local disk is full or
/// failing), or a spilled file is damaged. Nothing was deleted.
/// </summary>
public sealed class SegmentSpillException : IOException
{
    /// <summary>Creates the exception.</summary>
    public SegmentSpillException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Where the data segments that could not reach the store go when a volume closes during an outage: one file per
/// segment, holding exactly the object bytes the upload would have sent (header, data, footer, trailer), named
/// <c>{nonce, 16 hex digits}.segment</c>. The next read-write mount checks each file (<see cref="SegmentFormat.Verify"/>),
/// uploads it under the segment's key and deletes it, before the replay log is replayed. docs/FORMAT.md "Spill
/// directory" is the reference.
/// </summary>
/// <remarks>
/// Each file is written under a temporary name (<c>.segment.tmp</c>), fsynced, renamed, and the directory fsynced:
/// a crash leaves either the whole file or a temporary one, never a short file under the final name.
/// </remarks>
public sealed class SegmentSpill
{
    /// <summary>The name of the spill directory inside a volume's replay log directory.</summary>
    public const string DirectoryName = "spill";

    /// <summary>The extension of a spilled segment.</summary>
    public const string Extension = ".segment";

    /// <summary>Appended to <see cref="Extension"/> while a file is being written.</summary>
    public const string TemporarySuffix = ".tmp";

    /// <summary>The spill directory <paramref name="directory"/> (created by the first <see cref="Write"/>).</summary>
    public SegmentSpill(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = Path.GetFullPath(directory);
    }

    private int _listings;

    /// <summary>The directory.</summary>
    public string Directory { get; }

    /// <summary>How many times <see cref="List"/> was called: a mount lists the directory once.</summary>
    internal int Listings => Volatile.Read(ref _listings);

    /// <summary>The file name of segment <paramref name="nonce"/>.</summary>
    public static string FileNameOf(ulong nonce) => string.Create(CultureInfo.InvariantCulture, $"{nonce:x16}{Extension}");

    /// <summary>
    /// The spilled segments waiting, temporaries included, by nonce; empty when the directory does not exist. Other
    /// files are not listed (nor touched).
    /// </summary>
    public IReadOnlyList<SpilledSegment> List()
    {
        Interlocked.Increment(ref _listings);
        if (!System.IO.Directory.Exists(Directory))
        {
            return [];
        }
        var found = new List<SpilledSegment>();
        foreach (FileInfo file in new DirectoryInfo(Directory).EnumerateFiles())
        {
            string name = file.Name;
            bool interrupted = name.EndsWith(Extension + TemporarySuffix, StringComparison.Ordinal);
            string stem = interrupted ? name[..^(Extension.Length + TemporarySuffix.Length)]
                : name.EndsWith(Extension, StringComparison.Ordinal) ? name[..^Extension.Length] : "";
            if (stem.Length == 16 && stem.All(char.IsAsciiHexDigitLower))
            {
                found.Add(new SpilledSegment(ulong.Parse(stem, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture), file.FullName, file.Length, interrupted));
            }
        }
        return [.. found.OrderBy(s => s.Nonce).ThenBy(s => s.Interrupted)];
    }

    /// <summary>
    /// Writes the object bytes <paramref name="body"/> of segment <paramref name="nonce"/>: to a temporary file, fsynced,
    /// renamed to its name, the directory fsynced (and created first, its parent fsynced, when it does not exist).
    /// Returns the file's path. Never overwrites a file.
    /// </summary>
    /// <exception cref="SegmentSpillException">the file could not be written (the disk is full or failing).</exception>
    public string Write(ulong nonce, ReadOnlySequence<byte> body)
    {
        string path = Path.Combine(Directory, FileNameOf(nonce));
        string temporary = path + TemporarySuffix;
        try
        {
            if (!System.IO.Directory.Exists(Directory))
            {
                System.IO.Directory.CreateDirectory(Directory);
                FileNative.FsyncDirectory(Path.GetDirectoryName(Directory)!);
            }
            if (File.Exists(path))
            {
                throw new IOException($"{path} already exists");
            }
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                foreach (ReadOnlyMemory<byte> piece in body)
                {
                    stream.Write(piece.Span);
                }
                stream.Flush(flushToDisk: true);
            }
            Durability.CrashPoints.Hit(Durability.CrashPoints.SpillBeforeRename);
            File.Move(temporary, path, overwrite: false);
            FileNative.FsyncDirectory(Directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SegmentSpillException(
                $"could not write segment 0x{nonce:x16} ({body.Length} bytes) to {path}: {e.Message}", e);
        }
        return path;
    }

    /// <summary>
    /// Uploads the spilled segments <paramref name="spilled"/> (what <see cref="List"/> returned: the caller lists once
    /// and decides from that listing whether there is anything to do) to <paramref name="store"/> under their keys in <paramref name="keys"/> (an
    /// unconditional put: segments are immutable and their nonces never reused, so a key that exists holds the same
    /// bytes), each one checked first against its footer and checksums and against <paramref name="volumeId"/>, and
    /// deletes each file once it is stored; then the empty directory. A temporary file (a spill cut by a crash) is
    /// uploaded when it is whole, removed when it is not (its segment was lost in that crash, as any unstored segment is).
    /// </summary>
    /// <exception cref="SegmentSpillException">a spilled file is damaged: nothing of it was uploaded, and it is kept.</exception>
    /// <exception cref="ObjectStoreException">the store refused or did not answer: the files not yet stored are kept.</exception>
    public async Task<SpillUpload> UploadAsync(IReadOnlyList<SpilledSegment> spilled, IObjectStore store, SegmentKeys keys, ReadOnlyMemory<byte> volumeId, ILogger log,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spilled);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(log);
        if (spilled.Count == 0)
        {
            RemoveDirectory();
            return new SpillUpload(0, 0, 0);
        }
        int uploaded = 0, discarded = 0;
        long bytes = 0;
        var stored = new HashSet<ulong>();
        foreach (SpilledSegment s in spilled)
        {
            if (s.Interrupted && stored.Contains(s.Nonce))
            {
                log.LogWarning("{File}: an interrupted spill of segment 0x{Nonce:x16}, which is stored: removed", s.Path, s.Nonce);
                File.Delete(s.Path);
                continue;
            }
            byte[] content = await File.ReadAllBytesAsync(s.Path, cancellationToken).ConfigureAwait(false);
            try
            {
                SegmentFormat.Verify(content, s.Nonce, volumeId.Span);
            }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                if (s.Interrupted)
                {
                    log.LogWarning("{File}: an interrupted spill (the process stopped while writing it) is not a whole segment ({Reason}): removed; "
                        + "the bytes of segment 0x{Nonce:x16} were lost with that process and read as zeros", s.Path, e.Message, s.Nonce);
                    File.Delete(s.Path);
                    discarded++;
                    continue;
                }
                throw new SegmentSpillException(
                    $"spilled segment {s.Path} is damaged: {e.Message}. It holds data written while the store was down and was not uploaded; " +
                    $"the mount is refused so that nothing reads it wrong. Move the file out of {Directory} to mount anyway: the file ranges " +
                    "written into that segment then read as zeros.", e);
            }
            await store.PutAsync(keys.KeyOf(s.Nonce), content, PutCondition.None, cancellationToken).ConfigureAwait(false);
            File.Delete(s.Path);
            stored.Add(s.Nonce);
            uploaded++;
            bytes += content.Length;
            log.LogInformation("uploaded spilled segment {File} ({Bytes} bytes) to {Key}", s.Path, content.Length, keys.KeyOf(s.Nonce));
        }
        FileNative.FsyncDirectory(Directory);
        RemoveDirectory();
        if (System.IO.Directory.Exists(Directory))
        {
            log.LogWarning("{Directory} holds files that are not spilled segments: left in place", Directory);
        }
        return new SpillUpload(uploaded, bytes, discarded);
    }

    /// <summary>Removes the directory when it exists and is empty (and fsyncs its parent).</summary>
    private void RemoveDirectory()
    {
        if (System.IO.Directory.Exists(Directory) && !System.IO.Directory.EnumerateFileSystemEntries(Directory).Any())
        {
            System.IO.Directory.Delete(Directory);
            FileNative.FsyncDirectory(Path.GetDirectoryName(Directory)!);
        }
    }
}
