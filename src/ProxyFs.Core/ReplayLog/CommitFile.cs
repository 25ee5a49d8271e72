using System.Buffers.Binary;
using FASTER.core;
using Microsoft.Win32.SafeHandles;
using ProxyFs.Core.Checksums;
using ProxyFs.ObjectStore.File;

namespace ProxyFs.Core.ReplayLog;

/// <summary>
/// FasterLog's commit metadata (how far the log is durable, where it begins) kept in one file of two fixed slots
/// written alternately in place (pwrite + fdatasync): a commit never creates or deletes a file, and a write torn by
/// a power loss damages only the slot being written, whose CRC then fails, so recovery uses the other one.
/// Slot layout (little-endian, <see cref="SlotLength"/> bytes at offsets 0 and <see cref="SlotLength"/>):
/// <code>
///  0  8  magic "PXFSRLCM"
///  8  4  format version (1)
/// 12  4  metadata length M
/// 16  8  commit number
/// 24  M  FasterLog commit metadata (FasterLogRecoveryInfo)
/// 24+M 4 CRC-32C of bytes 0..(24 + M)
/// </code>
/// An all-zero slot is empty.
/// </summary>
internal sealed class CommitFile : ILogCommitManager
{
    public const string FileName = "commit";
    public const int SlotLength = 4096;
    private const int HeaderLength = 24;
    private const int Version = 1;
    private static ReadOnlySpan<byte> Magic => "PXFSRLCM"u8;

    private readonly Lock _lock = new();
    private readonly SafeFileHandle _handle;
    private readonly string _path;
    private readonly Slot?[] _slots = new Slot?[2];

    private CommitFile(string path, SafeFileHandle handle)
    {
        _path = path;
        _handle = handle;
        byte[] buffer = new byte[SlotLength];
        for (int i = 0; i < 2; i++)
        {
            int read = RandomAccess.Read(_handle, buffer, (long)i * SlotLength);
            _slots[i] = Parse(buffer.AsSpan(0, read));
            if (_slots[i] is null && buffer.AsSpan(0, read).ContainsAnyExcept((byte)0))
            {
                DamagedSlots++;
            }
        }
    }

    /// <summary>A slot held something other than a commit or zeros when the file was opened (a torn or damaged write).</summary>
    public bool HasDamagedSlot => DamagedSlots > 0;

    /// <summary>
    /// Slots that held something other than a commit or zeros when the file was opened. A torn write damages the slot
    /// being written only (commits alternate between the two): one damaged slot next to a zero one is a first commit
    /// that never completed; two damaged slots are a commit record lost to damage.
    /// </summary>
    public int DamagedSlots { get; private set; }

    /// <summary>Opens the commit file of a log; <paramref name="create"/> creates it (empty) when missing.</summary>
    public static CommitFile Open(string directory, bool create, bool readOnly)
    {
        string path = Path.Combine(directory, FileName);
        bool existed = File.Exists(path);
        if (!existed && !create)
        {
            throw new ReplayLogCorruptException($"{path} is missing: the replay log in {directory} has lost its commit record");
        }
        SafeFileHandle handle = File.OpenHandle(path, readOnly ? FileMode.Open : FileMode.OpenOrCreate,
            readOnly ? FileAccess.Read : FileAccess.ReadWrite, FileShare.ReadWrite);
        if (!existed)
        {
            // Both slots are allocated now, so that a commit never needs a new block (it still works on a full disk).
            RandomAccess.Write(handle, new byte[SlotLength * 2], 0);
            LogNative.Fdatasync(handle, path);
            FileNative.FsyncDirectory(directory);
        }
        return new CommitFile(path, handle);
    }

    /// <summary>The newest valid commit, or null when the log was never committed.</summary>
    public (long CommitNumber, byte[] Metadata)? Newest
    {
        get
        {
            lock (_lock)
            {
                Slot? newest = NewestSlot();
                return newest is { } s ? (s.CommitNumber, s.Metadata) : null;
            }
        }
    }

    /// <summary>
    /// Writes a commit that ends the log at <paramref name="untilAddress"/> (a record boundary at or below the
    /// newest commit's end): the next FasterLog opened on this file recovers to it and writes over what follows.
    /// </summary>
    public void RewriteUntil(long untilAddress)
    {
        lock (_lock)
        {
            Slot newest = NewestSlot() ?? throw new InvalidOperationException($"{_path} holds no commit to cut back");
            var info = new FasterLogRecoveryInfo();
            info.Initialize(new BinaryReader(new MemoryStream(newest.Metadata)));
            if (untilAddress > info.UntilAddress || untilAddress < info.BeginAddress)
            {
                throw new ArgumentOutOfRangeException(nameof(untilAddress), untilAddress,
                    $"outside the committed log [{info.BeginAddress}, {info.UntilAddress})");
            }
            info.UntilAddress = untilAddress;
            info.CommitNum = newest.CommitNumber + 1;
            WriteSlot(info.CommitNum, info.ToByteArray());
        }
    }

    public void Commit(long beginAddress, long untilAddress, byte[] commitMetadata, long commitNum, bool forceWriteMetadata)
    {
        lock (_lock)
        {
            WriteSlot(commitNum, commitMetadata);
        }
    }

    public IEnumerable<long> ListCommits()
    {
        lock (_lock)
        {
            return _slots.OfType<Slot>().Select(s => s.CommitNumber).OrderDescending().ToArray();
        }
    }

    public byte[] GetCommitMetadata(long commitNum)
    {
        lock (_lock)
        {
            return _slots.OfType<Slot>().FirstOrDefault(s => s.CommitNumber == commitNum)?.Metadata
                ?? throw new InvalidOperationException($"{_path} holds no commit {commitNum}");
        }
    }

    /// <summary>Nothing to do: the slot of an older commit is overwritten by the next commit.</summary>
    public void RemoveCommit(long commitNum)
    {
    }

    public void RemoveAllCommits()
    {
        lock (_lock)
        {
            byte[] zero = new byte[SlotLength * 2];
            RandomAccess.Write(_handle, zero, 0);
            LogNative.Fdatasync(_handle, _path);
            _slots[0] = _slots[1] = null;
        }
    }

    /// <summary>Nothing to do: there are no commit files to delete.</summary>
    public void OnRecovery(long commitNum)
    {
    }

    public void Dispose() => _handle.Dispose();

    private Slot? NewestSlot() => _slots.OfType<Slot>().MaxBy(s => s.CommitNumber);

    private void WriteSlot(long commitNumber, byte[] metadata)
    {
        if (HeaderLength + metadata.Length + 4 > SlotLength)
        {
            throw new InvalidOperationException($"FasterLog commit metadata of {metadata.Length} bytes does not fit a {SlotLength}-byte slot of {_path}");
        }
        // Overwrite the slot that does not hold the newest commit, so a torn write leaves the newest intact.
        Slot? newest = NewestSlot();
        int index = newest is null ? 0 : 1 - Array.IndexOf(_slots, newest);
        byte[] slot = new byte[SlotLength];
        Span<byte> s = slot;
        Magic.CopyTo(s);
        BinaryPrimitives.WriteInt32LittleEndian(s[8..], Version);
        BinaryPrimitives.WriteInt32LittleEndian(s[12..], metadata.Length);
        BinaryPrimitives.WriteInt64LittleEndian(s[16..], commitNumber);
        metadata.CopyTo(s[HeaderLength..]);
        int end = HeaderLength + metadata.Length;
        BinaryPrimitives.WriteUInt32LittleEndian(s[end..], Crc32C.Compute(s[..end]));
        RandomAccess.Write(_handle, slot, (long)index * SlotLength);
        LogNative.Fdatasync(_handle, _path);
        _slots[index] = new Slot(commitNumber, metadata);
    }

    private static Slot? Parse(ReadOnlySpan<byte> s)
    {
        if (s.Length < HeaderLength + 4 || !s[..8].SequenceEqual(Magic) || BinaryPrimitives.ReadInt32LittleEndian(s[8..]) != Version)
        {
            return null;
        }
        int length = BinaryPrimitives.ReadInt32LittleEndian(s[12..]);
        if (length < 0 || HeaderLength + length + 4 > s.Length)
        {
            return null;
        }
        int end = HeaderLength + length;
        if (BinaryPrimitives.ReadUInt32LittleEndian(s[end..]) != Crc32C.Compute(s[..end]))
        {
            return null;
        }
        return new Slot(BinaryPrimitives.ReadInt64LittleEndian(s[16..]), s.Slice(HeaderLength, length).ToArray());
    }

    private sealed record Slot(long CommitNumber, byte[] Metadata);
}
