using ProxyFs.Core.FileSystem.Inodes;
using ProxyFs.Core.Volume;

namespace ProxyFs.Core.Tests.Volume;

/// <summary>The replay-log record payload of a volume (docs/FORMAT.md "Volume change records"), pinned by golden bytes.</summary>
public sealed class JournalRecordTests
{
    // A rename's record: delete 'D' 1 "a", put 'I' 2 = 01 02 03. Written out by hand from FORMAT.md.
    private static readonly byte[] Golden = Convert.FromHexString(
        "01070000" + "02000000"
        + "020A00" + "440000000000000001" + "61"
        + "010900" + "490000000000000002" + "03000000" + "010203");

    private static (List<byte> Changes, List<int> Starts) Encode()
    {
        var changes = new List<byte>();
        var starts = new List<int> { 0 };
        JournalRecord.AppendDelete(changes, Convert.FromHexString("44000000000000000161"));
        starts.Add(changes.Count);
        JournalRecord.AppendPut(changes, Convert.FromHexString("490000000000000002"), [1, 2, 3]);
        return (changes, starts);
    }

    [Fact]
    public void A_record_is_the_golden_bytes_and_decodes_back()
    {
        (List<byte> changes, List<int> starts) = Encode();
        List<byte[]> payloads = JournalRecord.Payloads(OperationKind.Rename, changes.ToArray(), starts, 4096);
        Assert.Equal(Golden, Assert.Single(payloads));
        JournalRecord record = JournalRecord.Decode(Golden, 1);
        Assert.Equal(OperationKind.Rename, record.Kind);
        Assert.False(record.Continued);
        Assert.False(record.Changes[0].IsPut);
        Assert.Equal("44000000000000000161", Convert.ToHexString(record.Changes[0].Key.Span));
        Assert.True(record.Changes[1].IsPut);
        Assert.Equal(new byte[] { 1, 2, 3 }, record.Changes[1].Value.ToArray());
    }

    [Fact]
    public void Operation_kinds_keep_their_stored_numbers()
    {
        // The kind byte is stored in every record (docs/FORMAT.md): renumbering the enum is a format change.
        OperationKind[] stored =
        [
            OperationKind.Forget, OperationKind.SetAttr, OperationKind.Symlink, OperationKind.MkNod, OperationKind.MkDir,
            OperationKind.Unlink, OperationKind.RmDir, OperationKind.Rename, OperationKind.Link, OperationKind.Open,
            OperationKind.Create, OperationKind.TmpFile, OperationKind.Write, OperationKind.Release, OperationKind.Fallocate,
            OperationKind.CopyFileRange, OperationKind.SetXattr, OperationKind.RemoveXattr,
        ];
        Assert.Equal(Enumerable.Range(0, stored.Length), stored.Select(k => (int)k));
        Assert.Equal(stored.Length, Enum.GetValues<OperationKind>().Length);
    }

    [Fact]
    public void An_operation_larger_than_a_record_is_split_with_all_but_the_last_continued()
    {
        (List<byte> changes, List<int> starts) = Encode();
        List<byte[]> payloads = JournalRecord.Payloads(OperationKind.Rename, changes.ToArray(), starts, 30);
        Assert.Equal(2, payloads.Count);
        Assert.Equal(JournalRecord.ContinuedFlag, payloads[0][2]);
        Assert.Equal(0, payloads[1][2]);
        Assert.Single(JournalRecord.Decode(payloads[0], 1).Changes);
        Assert.True(JournalRecord.Decode(payloads[1], 2).Changes[0].IsPut);
        Assert.Throws<InvalidOperationException>(() => JournalRecord.Payloads(OperationKind.Rename, changes.ToArray(), starts, 20));
    }

    [Theory]
    [InlineData("02070000" + "00000000")]                   // version 2
    [InlineData("01070100" + "01000000")]                   // a change missing
    [InlineData("01070000" + "01000000" + "030100" + "44")] // neither put nor delete
    [InlineData("01070000" + "00000000" + "00")]            // bytes after the changes
    public void A_malformed_record_is_refused(string hex) =>
        Assert.Throws<VolumeFormatException>(() => JournalRecord.Decode(Convert.FromHexString(hex), 9));
}
