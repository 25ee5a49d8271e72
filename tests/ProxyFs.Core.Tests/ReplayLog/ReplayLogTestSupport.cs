using System.Buffers.Binary;
using ProxyFs.Core.ReplayLog;

namespace ProxyFs.Core.Tests.ReplayLog;

/// <summary>Small geometries (so tests cross pages and segments quickly), deterministic payloads, and reading a log back.</summary>
internal static class ReplayLogTestSupport
{
    /// <summary>4 KiB pages, 16 KiB segments, 16 KiB of memory.</summary>
    public static ReplayLogOptions Small { get; } = new() { PageSizeBits = 12, SegmentSizeBits = 14, MemorySizeBits = 14 };

    public static readonly Guid VolumeA = new("11111111-2222-3333-4444-555555555555");
    public static readonly Guid VolumeB = new("99999999-8888-7777-6666-555555555555");

    /// <summary>
    /// The payload written by <paramref name="writer"/> as its <paramref name="index"/>-th record in
    /// <paramref name="epoch"/>: 16 bytes naming those three, then pseudo-random bytes; 16 to 16 + <paramref name="maxExtra"/> bytes long.
    /// </summary>
    public static byte[] Payload(int writer, long index, ulong epoch, int maxExtra = 300)
    {
        ulong state = (ulong)(((long)writer * 1_000_003) ^ (index * 7_919) ^ (long)(epoch * 104_729)) | 1;
        int extra = (int)(Next(ref state) % (ulong)(maxExtra + 1));
        byte[] b = new byte[16 + extra];
        BinaryPrimitives.WriteInt32LittleEndian(b, writer);
        BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(4), index);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(12), (uint)epoch);
        for (int i = 16; i < b.Length; i++)
        {
            b[i] = (byte)Next(ref state);
        }
        return b;
    }

    /// <summary>True when <paramref name="record"/>'s payload is exactly what <see cref="Payload"/> makes for the writer and index it names.</summary>
    public static bool IsGenuine(ReplayRecord record, int maxExtra = 300)
    {
        ReadOnlySpan<byte> p = record.Payload.Span;
        if (p.Length < 16)
        {
            return false;
        }
        (int writer, long index) = WriterAndIndex(record);
        return p.SequenceEqual(Payload(writer, index, record.Epoch, maxExtra));
    }

    /// <summary>The writer and index a <see cref="Payload"/> names.</summary>
    public static (int Writer, long Index) WriterAndIndex(ReplayRecord record) =>
        (BinaryPrimitives.ReadInt32LittleEndian(record.Payload.Span), BinaryPrimitives.ReadInt64LittleEndian(record.Payload.Span[4..]));

    /// <summary>A record as written: what a test expects to read back.</summary>
    public sealed record Written(ulong Epoch, byte[] Payload, ReplayLogPosition Position);

    /// <summary>
    /// Appends <paramref name="count"/> records of writer 0 (indexes from <paramref name="firstIndex"/>), the epoch of
    /// each chosen by <paramref name="epochOf"/> from its index, and commits them all.
    /// </summary>
    public static List<Written> AppendCommitted(VolumeReplayLog log, int count, Func<int, ulong> epochOf, int firstIndex = 0)
    {
        var written = new List<Written>(count);
        for (int i = firstIndex; i < firstIndex + count; i++)
        {
            ulong epoch = epochOf(i);
            byte[] payload = Payload(0, i, epoch);
            written.Add(new Written(epoch, payload, log.Append(epoch, payload)));
        }
        log.Commit(written[^1].Position);
        return written;
    }

    /// <summary>Creates (or opens) the log in <paramref name="directory"/>, commits <paramref name="count"/> records of epoch 1 and closes it.</summary>
    public static List<Written> CreateLog(string directory, int count)
    {
        using var log = VolumeReplayLog.Open(directory, VolumeA, Small);
        return AppendCommitted(log, count, _ => 1);
    }

    /// <summary>Reads a replay to its end: its records and how it ended.</summary>
    public static (List<ReplayRecord> Records, ReplayOutcome Outcome) ReadAll(VolumeReplayLog log, ulong fromEpoch = 0)
    {
        ReplayScan scan = log.Replay(fromEpoch);
        var records = scan.ToList();
        return (records, scan.Outcome ?? throw new InvalidOperationException("the replay ended without an outcome"));
    }

    /// <summary>Asserts that <paramref name="records"/> are exactly <paramref name="expected"/>, in order: epoch, sequence and every payload byte.</summary>
    public static void AssertSameRecords(IReadOnlyList<Written> expected, IReadOnlyList<ReplayRecord> records)
    {
        Assert.Equal(expected.Count, records.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Epoch, records[i].Epoch);
            Assert.Equal(expected[i].Position.Sequence, records[i].Sequence);
            Assert.True(expected[i].Payload.AsSpan().SequenceEqual(records[i].Payload.Span), $"payload of record {records[i].Sequence} differs");
        }
    }

    private static ulong Next(ref ulong state)
    {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    }
}
