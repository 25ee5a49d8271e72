using System.Buffers.Binary;
using ProxyFs.Core.ReplayLog;
using ProxyFs.Testing;
using static ProxyFs.Core.Tests.ReplayLog.ReplayLogTestSupport;

namespace ProxyFs.Core.Tests.ReplayLog;

/// <summary>
/// The bytes of docs/FORMAT.md "Replay log", computed by an independent encoder (Python: struct, a bitwise CRC-32C,
/// uuid.bytes_le), and where they sit in a segment file.
/// </summary>
public sealed class ReplayLogFormatTests
{
    /// <summary>Record 3 of epoch 7 carrying "proxyfs".</summary>
    private static readonly byte[] GoldenFrame = Convert.FromHexString(
        "ec6d31b4" + "07000000" + "0700000000000000" + "0300000000000000" + "70726f78796673");

    /// <summary>Volume 00112233-4455-6677-8899-aabbccddeeff, pages 2^20, segments 2^26, created at 1.7e18 ns.</summary>
    private static readonly byte[] GoldenIdentity = Convert.FromHexString(
        "50584653524c4f47" + "01000000" + "40000000" + "33221100554477668899aabbccddeeff" + "14000000" + "1a000000" +
        "00002a36fe9c9717" + "000000000000000000000000" + "ca52bb5c");

    [Fact]
    public void A_record_frame_has_the_documented_bytes_and_decodes_back()
    {
        byte[] payload = "proxyfs"u8.ToArray();
        byte[] frame = new byte[RecordFrame.HeaderLength + payload.Length];
        RecordFrame.Prepare(frame, 7, payload);
        RecordFrame.Seal(frame, 3);
        Assert.Equal(GoldenFrame, frame);

        (ReplayRecord? record, string? problem) = RecordFrame.TryDecode(GoldenFrame, GoldenFrame.Length, 1234);
        Assert.Null(problem);
        Assert.Equal((7UL, 3UL, 1234L), (record!.Value.Epoch, record.Value.Sequence, record.Value.Address));
        Assert.Equal(payload, record.Value.Payload.ToArray());
    }

    [Theory]
    [InlineData(0, "CRC-32C mismatch")]
    [InlineData(5, "payload is")]
    [InlineData(12, "CRC-32C mismatch")]
    [InlineData(30, "CRC-32C mismatch")]
    public void A_damaged_frame_is_refused_with_its_reason(int offset, string reason)
    {
        byte[] frame = (byte[])GoldenFrame.Clone();
        frame[offset] ^= 0x01;
        (ReplayRecord? record, string? problem) = RecordFrame.TryDecode(frame, frame.Length, 0);
        Assert.Null(record);
        Assert.Contains(reason, problem);
    }

    [Fact]
    public void The_identity_file_has_the_documented_bytes_and_decodes_back()
    {
        var identity = new LogIdentity(new Guid("00112233-4455-6677-8899-aabbccddeeff"), 20, 26, 1_700_000_000_000_000_000);
        Assert.Equal(GoldenIdentity, identity.Encode());
        Assert.Equal(identity, LogIdentity.Decode(GoldenIdentity, "golden"));
    }

    [Fact]
    public void A_segment_file_holds_each_record_as_a_length_prefixed_frame_at_its_address()
    {
        using TempDirectory dir = TempDirectory.Create();
        using (var log = VolumeReplayLog.Open(dir.Path, VolumeA, Small))
        {
            log.Append(7, "first"u8);
            log.Append(7, "second"u8);
            log.Commit(log.Append(7, "proxyfs"u8));
            List<ReplayRecord> stored = ReadAll(log).Records;
            Assert.Equal(64, stored[0].Address);
            // Entries are 4-byte aligned: 4 + 24 + 5 → 36, 4 + 24 + 6 → 36.
            Assert.Equal([64L, 100L, 136L], stored.Select(r => r.Address));
        }
        byte[] segment = File.ReadAllBytes(Path.Combine(dir.Path, "log.0"));
        Assert.Equal(GoldenFrame.Length, BinaryPrimitives.ReadInt32LittleEndian(segment.AsSpan(136)));
        Assert.Equal(GoldenFrame, segment.AsSpan(140, GoldenFrame.Length).ToArray());
        Assert.Equal(GoldenIdentity.Length, new FileInfo(Path.Combine(dir.Path, "identity")).Length);
        Assert.Equal(2 * CommitFile.SlotLength, new FileInfo(Path.Combine(dir.Path, "commit")).Length);
    }
}
