using System.Buffers.Binary;
using ProxyFs.Core.Checksums;

namespace ProxyFs.Core.ReplayLog;

/// <summary>
/// The framing of one record inside one FasterLog entry (little-endian), docs/FORMAT.md "Replay log":
/// <code>
///  0  4  CRC-32C of bytes 4..(24 + N)
///  4  4  payload length N
///  8  8  epoch (the checkpoint generation the record follows)
/// 16  8  sequence number (consecutive in log order; continues across reopens unless the log was trimmed empty)
/// 24  N  payload (opaque to the log)
/// </code>
/// </summary>
internal static class RecordFrame
{
    public const int HeaderLength = 24;

    /// <summary>Writes everything but the sequence number and the CRC (those are set under the append lock by <see cref="Seal"/>).</summary>
    public static void Prepare(Span<byte> frame, ulong epoch, ReadOnlySpan<byte> payload)
    {
        BinaryPrimitives.WriteInt32LittleEndian(frame[4..], payload.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(frame[8..], epoch);
        payload.CopyTo(frame[HeaderLength..]);
    }

    /// <summary>Sets the sequence number and the CRC of a prepared frame.</summary>
    public static void Seal(Span<byte> frame, ulong sequence)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(frame[16..], sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(frame, Crc32C.Compute(frame[4..]));
    }

    /// <summary>Decodes a FasterLog entry; returns null and the reason when it is not an intact record.</summary>
    public static (ReplayRecord? Record, string? Problem) TryDecode(byte[] entry, int entryLength, long address)
    {
        if (entryLength < HeaderLength)
        {
            return (null, $"entry of {entryLength} bytes is shorter than a record header ({HeaderLength})");
        }
        ReadOnlySpan<byte> e = entry.AsSpan(0, entryLength);
        int length = BinaryPrimitives.ReadInt32LittleEndian(e[4..]);
        if (length < 0 || length != entryLength - HeaderLength)
        {
            return (null, $"record says its payload is {length} bytes but the entry holds {entryLength - HeaderLength}");
        }
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(e);
        uint actual = Crc32C.Compute(e[4..]);
        if (stored != actual)
        {
            return (null, $"CRC-32C mismatch (computed {actual:x8}, stored {stored:x8})");
        }
        ulong epoch = BinaryPrimitives.ReadUInt64LittleEndian(e[8..]);
        ulong sequence = BinaryPrimitives.ReadUInt64LittleEndian(e[16..]);
        return (new ReplayRecord(epoch, sequence, new ReadOnlyMemory<byte>(entry, HeaderLength, length), address), null);
    }
}
