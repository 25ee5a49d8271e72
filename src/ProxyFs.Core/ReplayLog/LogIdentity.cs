using System.Buffers.Binary;
using ProxyFs.Core.Checksums;
using ProxyFs.ObjectStore.File;

namespace ProxyFs.Core.ReplayLog;

/// <summary>
/// The identity file (<c>identity</c>) of a replay log directory: which volume the log belongs to, its format
/// version and the FasterLog geometry it was created with. Written once, atomically (temporary file, fsync,
/// rename, fsync of the directory), after everything else of a new log exists. Layout (little-endian, 64 bytes),
/// docs/FORMAT.md "Replay log":
/// <code>
///  0  8  magic "PXFSRLOG"
///  8  4  format version (1)
/// 12  4  length of the file (64)
/// 16 16  volume id
/// 32  4  page size bits
/// 36  4  segment size bits
/// 40  8  creation time, ns since the Unix epoch
/// 48 12  zero
/// 60  4  CRC-32C of bytes 0..59
/// </code>
/// </summary>
internal sealed record LogIdentity(Guid VolumeId, int PageSizeBits, int SegmentSizeBits, long CreatedNanoseconds)
{
    public const string FileName = "identity";
    public const int FormatVersion = 1;
    public const int Length = 64;
    private static ReadOnlySpan<byte> Magic => "PXFSRLOG"u8;

    public byte[] Encode()
    {
        byte[] b = new byte[Length];
        Span<byte> s = b;
        Magic.CopyTo(s);
        BinaryPrimitives.WriteInt32LittleEndian(s[8..], FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(s[12..], Length);
        VolumeId.TryWriteBytes(s.Slice(16, 16));
        BinaryPrimitives.WriteInt32LittleEndian(s[32..], PageSizeBits);
        BinaryPrimitives.WriteInt32LittleEndian(s[36..], SegmentSizeBits);
        BinaryPrimitives.WriteInt64LittleEndian(s[40..], CreatedNanoseconds);
        BinaryPrimitives.WriteUInt32LittleEndian(s[60..], Crc32C.Compute(s[..60]));
        return b;
    }

    public static LogIdentity Decode(ReadOnlySpan<byte> b, string where)
    {
        if (b.Length < 16 || !b[..8].SequenceEqual(Magic))
        {
            throw new ReplayLogFormatException($"{where} is not a proxyfs replay log identity file (bad magic or {b.Length} bytes)");
        }
        int version = BinaryPrimitives.ReadInt32LittleEndian(b[8..]);
        if (version > FormatVersion)
        {
            throw new ReplayLogFormatException(
                $"{where} has replay log format version {version}; this proxyfs reads version {FormatVersion}: use a newer proxyfs to replay it");
        }
        if (version != FormatVersion)
        {
            throw new ReplayLogFormatException($"{where} has unknown replay log format version {version}");
        }
        int length = BinaryPrimitives.ReadInt32LittleEndian(b[12..]);
        if (length != Length || b.Length != Length)
        {
            throw new ReplayLogFormatException($"{where} is {b.Length} bytes long and says {length}; version {FormatVersion} is {Length}");
        }
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(b[60..]);
        uint actual = Crc32C.Compute(b[..60]);
        if (stored != actual)
        {
            throw new ReplayLogFormatException($"{where} is damaged: CRC-32C {actual:x8}, stored {stored:x8}");
        }
        return new LogIdentity(
            new Guid(b.Slice(16, 16)),
            BinaryPrimitives.ReadInt32LittleEndian(b[32..]),
            BinaryPrimitives.ReadInt32LittleEndian(b[36..]),
            BinaryPrimitives.ReadInt64LittleEndian(b[40..]));
    }

    /// <summary>Reads the identity file of <paramref name="directory"/>, or null when there is none.</summary>
    public static LogIdentity? TryRead(string directory)
    {
        string path = Path.Combine(directory, FileName);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        return Decode(bytes, path);
    }

    /// <summary>Writes the identity file atomically: temporary file, fsync, rename over, fsync of the directory.</summary>
    public void Write(string directory)
    {
        string path = Path.Combine(directory, FileName);
        string temporary = path + "." + Environment.ProcessId + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(Encode());
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
        FileNative.FsyncDirectory(directory);
    }
}
