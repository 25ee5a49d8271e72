using System.Buffers.Binary;
using ProxyFs.Core.FileSystem.Inodes;

namespace ProxyFs.Core.Volume;

/// <summary>One change of the tree in a replay-log record: a put of a value, or a delete.</summary>
public readonly record struct JournalChange(bool IsPut, ReadOnlyMemory<byte> Key, ReadOnlyMemory<byte> Value);

/// <summary>
/// The payload of a volume's replay-log record (docs/FORMAT.md "Replay log record payload"): the tree changes of one
/// operation, in the order it made them, as images (a put carries the whole new value), so applying a record twice
/// gives the same tree. An operation whose changes do not fit one record is split into several, all but the last
/// marked continued (<see cref="Continued"/>: more records of the same operation follow); replay applies an
/// operation only once its last record is read.
/// </summary>
public sealed record JournalRecord(OperationKind Kind, bool Continued, IReadOnlyList<JournalChange> Changes)
{
    public const byte Version = 1;
    public const int HeaderLength = 8;
    public const byte ContinuedFlag = 1;
    private const byte Put = 1;
    private const byte Delete = 2;

    /// <summary>Bytes one change takes in a payload.</summary>
    public static int ChangeLength(int keyLength, int valueLength, bool isPut) => 3 + keyLength + (isPut ? 4 + valueLength : 0);

    /// <summary>Appends the encoding of a put to <paramref name="buffer"/>.</summary>
    public static void AppendPut(List<byte> buffer, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        Span<byte> head = stackalloc byte[3];
        head[0] = Put;
        BinaryPrimitives.WriteUInt16LittleEndian(head[1..], checked((ushort)key.Length));
        buffer.AddRange(head);
        buffer.AddRange(key);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, value.Length);
        buffer.AddRange(length);
        buffer.AddRange(value);
    }

    /// <summary>Appends the encoding of a delete to <paramref name="buffer"/>.</summary>
    public static void AppendDelete(List<byte> buffer, ReadOnlySpan<byte> key)
    {
        Span<byte> head = stackalloc byte[3];
        head[0] = Delete;
        BinaryPrimitives.WriteUInt16LittleEndian(head[1..], checked((ushort)key.Length));
        buffer.AddRange(head);
        buffer.AddRange(key);
    }

    /// <summary>Writes the header of a payload that carries <paramref name="count"/> changes.</summary>
    public static void WriteHeader(Span<byte> header, OperationKind kind, bool continued, int count)
    {
        header[0] = Version;
        header[1] = (byte)kind;
        header[2] = continued ? ContinuedFlag : (byte)0;
        header[3] = 0;
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], count);
    }

    /// <summary>
    /// Cuts the encoded changes in <paramref name="changes"/> (with their start offsets) into payloads of at most
    /// <paramref name="maxPayload"/> bytes, each with its header.
    /// </summary>
    public static List<byte[]> Payloads(OperationKind kind, ReadOnlySpan<byte> changes, IReadOnlyList<int> starts, int maxPayload)
    {
        var payloads = new List<byte[]>(1);
        int first = 0;
        int from = 0;
        for (int i = 0; i <= starts.Count; i++)
        {
            int end = i < starts.Count ? starts[i] : changes.Length;
            int next = i + 1 < starts.Count ? starts[i + 1] : changes.Length;
            // Emit [from, end) when change i is past the end or would not fit after it.
            if (i == starts.Count || (i > first && next - from + HeaderLength > maxPayload))
            {
                var payload = new byte[HeaderLength + end - from];
                WriteHeader(payload, kind, continued: end < changes.Length, i - first);
                changes[from..end].CopyTo(payload.AsSpan(HeaderLength));
                payloads.Add(payload);
                first = i;
                from = end;
            }
            if (i < starts.Count && next - starts[i] + HeaderLength > maxPayload)
            {
                throw new InvalidOperationException($"one tree change of {next - starts[i]} bytes does not fit a replay-log record of {maxPayload} bytes");
            }
        }
        return payloads;
    }

    /// <summary>Decodes a payload; throws <see cref="VolumeFormatException"/> when it is not one this build reads.</summary>
    public static JournalRecord Decode(ReadOnlyMemory<byte> payload, ulong sequence)
    {
        ReadOnlySpan<byte> s = payload.Span;
        if (s.Length < HeaderLength || s[0] != Version || s[3] != 0 || (s[2] & ~ContinuedFlag) != 0)
        {
            throw new VolumeFormatException($"replay log record {sequence}: not a version {Version} volume change (header {Convert.ToHexString(s[..Math.Min(8, s.Length)])})");
        }
        int count = BinaryPrimitives.ReadInt32LittleEndian(s[4..]);
        var changes = new List<JournalChange>(Math.Clamp(count, 0, 1024));
        int at = HeaderLength;
        for (int i = 0; i < count; i++)
        {
            if (at + 3 > s.Length || s[at] is not (Put or Delete))
            {
                throw new VolumeFormatException($"replay log record {sequence}: change {i} of {count} is malformed at byte {at}");
            }
            bool isPut = s[at] == Put;
            int keyLength = BinaryPrimitives.ReadUInt16LittleEndian(s[(at + 1)..]);
            at += 3;
            if (keyLength == 0 || at + keyLength > s.Length)
            {
                throw new VolumeFormatException($"replay log record {sequence}: change {i} has a key of {keyLength} bytes past the end");
            }
            ReadOnlyMemory<byte> key = payload.Slice(at, keyLength);
            at += keyLength;
            ReadOnlyMemory<byte> value = default;
            if (isPut)
            {
                int valueLength = at + 4 <= s.Length ? BinaryPrimitives.ReadInt32LittleEndian(s[at..]) : -1;
                if (valueLength < 0 || at + 4 + valueLength > s.Length)
                {
                    throw new VolumeFormatException($"replay log record {sequence}: change {i} has a value past the end");
                }
                value = payload.Slice(at + 4, valueLength);
                at += 4 + valueLength;
            }
            changes.Add(new JournalChange(isPut, key, value));
        }
        if (at != s.Length)
        {
            throw new VolumeFormatException($"replay log record {sequence}: {s.Length - at} bytes after its {count} changes");
        }
        return new JournalRecord((OperationKind)s[1], (s[2] & ContinuedFlag) != 0, changes);
    }
}
