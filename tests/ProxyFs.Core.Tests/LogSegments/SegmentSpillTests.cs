using Microsoft.Extensions.Logging.Abstractions;
using ProxyFs.Core.LogSegments;
using ProxyFs.ObjectStore;
using ProxyFs.ObjectStore.Decorators;
using ProxyFs.ObjectStore.Memory;
using ProxyFs.Testing;

namespace ProxyFs.Core.Tests.LogSegments;

/// <summary>The segments a store did not take, written to local disk by the writer and uploaded from there later.</summary>
public sealed class SegmentSpillTests
{
    private static readonly byte[] VolumeId = SegmentWriterTests.VolumeId;

    /// <summary>A store that stopped answering: every put hangs until it is cancelled (appends go on meanwhile).</summary>
    private static FaultPlan Hanging() => new FaultPlan().SetLatency(ObjectStoreOperation.Put, TimeSpan.FromHours(1));

    private static SegmentWriterOptions Options() => SegmentWriterTests.Small() with { MaxFlushSize = 64 << 10, MaxDirtyBytes = 1 << 20 };

    /// <summary>Appends <paramref name="count"/> pieces of 40,000 bytes: several sealed segments and an open one.</summary>
    private static List<(SegmentLocation Where, byte[] Data)> Fill(SegmentWriter writer, int count)
    {
        var written = new List<(SegmentLocation, byte[])>();
        for (int i = 0; i < count; i++)
        {
            byte[] data = TestBytes.Make(i + 1, 40_000);
            written.Add((writer.Append(data), data));
        }
        return written;
    }

    /// <summary>Three segments written by a writer whose store is down, then spilled to <paramref name="spill"/>.</summary>
    private static async Task<IReadOnlyList<SpilledSegment>> SpillWhileDownAsync(MemoryObjectStore inner, SegmentSpill spill)
    {
        var store = new FaultInjectingObjectStore(inner, Hanging());
        var writer = new SegmentWriter(store, new CountingNonceSource(), VolumeId, Options());
        Fill(writer, 3);
        IReadOnlyList<SpilledSegment> files = await writer.SpillAsync(spill);
        await writer.DisposeAsync();
        Assert.Equal(3, files.Count); // 40,000 bytes each in segments of at most 64 KiB
        return files;
    }

    [Fact]
    public async Task Spilling_stops_the_uploads_in_flight_and_writes_each_unstored_segment_as_the_object_it_would_have_been()
    {
        await using var inner = new MemoryObjectStore();
        // Only the spill's cancellation ends the puts.
        var store = new FaultInjectingObjectStore(inner, Hanging());
        using var dir = TempDirectory.Create();
        var writer = new SegmentWriter(store, new CountingNonceSource(), VolumeId, Options());
        List<(SegmentLocation Where, byte[] Data)> written = Fill(writer, 7);
        var spill = new SegmentSpill(Path.Combine(dir.Path, SegmentSpill.DirectoryName));

        IReadOnlyList<SpilledSegment> files = await writer.SpillAsync(spill).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, inner.Count);
        Assert.Equal(written.Select(w => w.Where.Nonce).Distinct().Order(), files.Select(f => f.Nonce));
        Assert.Equal(files.Select(f => f.Path).Order(), Directory.GetFiles(spill.Directory).Order());
        foreach (SpilledSegment file in files)
        {
            Assert.Equal(SegmentSpill.FileNameOf(file.Nonce), Path.GetFileName(file.Path));
            byte[] bytes = File.ReadAllBytes(file.Path);
            Assert.Equal(file.Length, bytes.Length);
            SegmentFooter footer = SegmentFormat.Verify(bytes, file.Nonce, VolumeId);
            foreach ((SegmentLocation where, byte[] data) in written.Where(w => w.Where.Nonce == file.Nonce))
            {
                Assert.True(bytes.AsSpan(footer.DataOffset + (int)where.Offset, where.Length).SequenceEqual(data), $"{where} differs in {file.Path}");
            }
        }
        // The writer is done: no appends, no flushes, no retries; disposing it does not try the store again.
        Assert.Throws<ObjectDisposedException>(() => writer.Append(new byte[1]));
        await Assert.ThrowsAsync<SegmentWriterFailedException>(() => writer.FlushAsync());
        await Assert.ThrowsAsync<SegmentWriterFailedException>(() => writer.RetryFailedAsync());
        await writer.DisposeAsync();
        Assert.Equal(0, inner.Count);

        // Uploaded from the files, the stored objects are the files byte for byte, and read back as written.
        Dictionary<ulong, byte[]> onDisk = files.ToDictionary(f => f.Nonce, f => File.ReadAllBytes(f.Path));
        SpillUpload upload = await spill.UploadAsync(spill.List(), inner, new SegmentKeys(), VolumeId, NullLogger.Instance);
        foreach ((ulong nonce, byte[] bytes) in onDisk)
        {
            Assert.Equal(bytes, await inner.GetBytesAsync(new SegmentKeys().KeyOf(nonce)));
        }
        Assert.Equal(files.Count, upload.Uploaded);
        Assert.Equal(files.Sum(f => f.Length), upload.Bytes);
        Assert.False(Directory.Exists(spill.Directory));
        var (_, cache) = SegmentWriterTests.NewCache();
        using var reader = new SegmentReader(inner, cache, VolumeId);
        SegmentWriterTests.AssertReadsBack(reader, written);
    }

    [Fact]
    public async Task A_writer_whose_every_segment_is_stored_spills_nothing_and_creates_no_directory()
    {
        await using var store = new MemoryObjectStore();
        using var dir = TempDirectory.Create();
        var writer = new SegmentWriter(store, new CountingNonceSource(), VolumeId, Options());
        Fill(writer, 3);
        await writer.FlushAsync();
        var spill = new SegmentSpill(Path.Combine(dir.Path, SegmentSpill.DirectoryName));
        Assert.Empty(await writer.SpillAsync(spill));
        Assert.False(Directory.Exists(spill.Directory));
        await writer.DisposeAsync();
    }

    [Fact]
    public async Task A_damaged_spilled_segment_is_refused_kept_and_not_uploaded()
    {
        await using var inner = new MemoryObjectStore();
        using var dir = TempDirectory.Create();
        var spill = new SegmentSpill(Path.Combine(dir.Path, SegmentSpill.DirectoryName));
        IReadOnlyList<SpilledSegment> files = await SpillWhileDownAsync(inner, spill);
        SpilledSegment damaged = files[^1];
        byte[] bytes = File.ReadAllBytes(damaged.Path);
        bytes[SegmentFormat.HeaderLength(VolumeId.Length) + 5] ^= 0x40; // one bit of its first data block
        File.WriteAllBytes(damaged.Path, bytes);

        var e = await Assert.ThrowsAsync<SegmentSpillException>(() => spill.UploadAsync(spill.List(), inner, new SegmentKeys(), VolumeId, NullLogger.Instance));
        Assert.Contains(damaged.Path, e.Message, StringComparison.Ordinal);
        Assert.Contains("block 0", e.Message, StringComparison.Ordinal);
        Assert.Contains("fails its checksum", e.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(damaged.Path));
        Assert.Null(await inner.TryHeadAsync(new SegmentKeys().KeyOf(damaged.Nonce)));
        // The intact ones before it are in the store and gone from the directory; a retry uploads nothing twice.
        Assert.Equal([damaged.Path], Directory.GetFiles(spill.Directory));
        Assert.Equal(files.Count - 1, inner.Count);

        // A segment of another volume is refused the same way.
        File.WriteAllBytes(damaged.Path, await ForeignSegmentAsync(damaged.Nonce));
        var f = await Assert.ThrowsAsync<SegmentSpillException>(() => spill.UploadAsync(spill.List(), inner, new SegmentKeys(), VolumeId, NullLogger.Instance));
        Assert.Contains("another volume", f.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(damaged.Path));
    }

    [Fact]
    public async Task An_upload_stores_the_segments_it_is_given_and_leaves_the_others_in_the_directory()
    {
        await using var inner = new MemoryObjectStore();
        using var dir = TempDirectory.Create();
        var spill = new SegmentSpill(Path.Combine(dir.Path, SegmentSpill.DirectoryName));
        IReadOnlyList<SpilledSegment> files = await SpillWhileDownAsync(inner, spill);
        Assert.True(files.Count > 1);

        SpillUpload upload = await spill.UploadAsync(files.Take(1).ToList(), inner, new SegmentKeys(), VolumeId, NullLogger.Instance);

        Assert.Equal(1, upload.Uploaded);
        Assert.Equal(1, inner.Count);
        Assert.NotNull(await inner.TryHeadAsync(new SegmentKeys().KeyOf(files[0].Nonce)));
        Assert.Equal(files.Skip(1).Select(f => f.Path), spill.List().Select(s => s.Path));
    }

    /// <summary>The object bytes of a whole segment of another volume, nonce <paramref name="nonce"/>.</summary>
    private static async Task<byte[]> ForeignSegmentAsync(ulong nonce)
    {
        await using var store = new MemoryObjectStore();
        var writer = new SegmentWriter(store, new CountingNonceSource(nonce), "another-volume"u8, Options());
        writer.Append(TestBytes.Make(9, 1000));
        await writer.DisposeAsync();
        return await store.GetBytesAsync(new SegmentKeys().KeyOf(nonce));
    }

    [Fact]
    public async Task An_interrupted_spill_file_is_uploaded_when_whole_and_removed_when_cut_short()
    {
        await using var inner = new MemoryObjectStore();
        using var dir = TempDirectory.Create();
        var spill = new SegmentSpill(Path.Combine(dir.Path, SegmentSpill.DirectoryName));
        IReadOnlyList<SpilledSegment> files = await SpillWhileDownAsync(inner, spill);
        // The process died after the fsync of the first file, before its rename; and in the middle of the second one.
        File.Move(files[0].Path, files[0].Path + SegmentSpill.TemporarySuffix);
        byte[] second = File.ReadAllBytes(files[1].Path);
        File.Delete(files[1].Path);
        File.WriteAllBytes(files[1].Path + SegmentSpill.TemporarySuffix, second[..(second.Length / 2)]);
        Assert.Equal([true, true], spill.List().Take(2).Select(s => s.Interrupted));

        SpillUpload upload = await spill.UploadAsync(spill.List(), inner, new SegmentKeys(), VolumeId, NullLogger.Instance);

        Assert.Equal(files.Count - 1, upload.Uploaded);
        Assert.Equal(1, upload.Discarded);
        Assert.NotNull(await inner.TryHeadAsync(new SegmentKeys().KeyOf(files[0].Nonce)));
        Assert.Null(await inner.TryHeadAsync(new SegmentKeys().KeyOf(files[1].Nonce)));
        Assert.False(Directory.Exists(spill.Directory));
    }

    [Fact]
    public async Task A_spill_that_cannot_write_says_which_segment_and_where_and_deletes_nothing()
    {
        await using var inner = new MemoryObjectStore();
        var store = new FaultInjectingObjectStore(inner, Hanging());
        using var dir = TempDirectory.Create();
        var writer = new SegmentWriter(store, new CountingNonceSource(), VolumeId, Options());
        Fill(writer, 3);
        // The spill directory's place is taken by a file: creating it fails, as a full or failing disk would.
        string taken = Path.Combine(dir.Path, SegmentSpill.DirectoryName);
        File.WriteAllText(taken, "not a directory");
        var e = await Assert.ThrowsAsync<SegmentSpillException>(() => writer.SpillAsync(new SegmentSpill(taken)));
        Assert.Contains(taken, e.Message, StringComparison.Ordinal);
        Assert.Contains("segment 0x0000000000000001", e.Message, StringComparison.Ordinal);
        Assert.Equal("not a directory", File.ReadAllText(taken));
        await writer.DisposeAsync();
    }
}
