using ProxyFs.Core.FileSystem;
using ProxyFs.Core.LogSegments;
using ProxyFs.Core.Volume;
using ProxyFs.ObjectStore;
using ProxyFs.ObjectStore.Decorators;
using ProxyFs.ObjectStore.Memory;
using ProxyFs.Testing.Posix;

namespace ProxyFs.Core.Tests.VolumeStore;

/// <summary>
/// A volume closed while its store is down: the data segments the store did not take go to the spill directory beside
/// the replay log, and the next mount uploads them before replaying the log (docs/SEMANTICS.md "While the store is down").
/// </summary>
public sealed class VolumeSpillTests
{
    // Segments stay in memory until the close (no age flush); an upload gives up fast.
    private static readonly SegmentWriterOptions Segments = new()
    {
        MaxFlushTime = TimeSpan.FromHours(1),
        UploadAttempts = 2,
        UploadRetryDelay = TimeSpan.FromMilliseconds(1),
    };

    private static byte[] Bytes(int seed, int length)
    {
        byte[] b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    private static void Write(IPosixTarget t, string path, byte[] data, bool fsync)
    {
        Assert.Equal(0, t.Open(path, OpenFlags.O_CREAT | OpenFlags.O_WRONLY | OpenFlags.O_TRUNC, 0x1A4, out int fd));
        for (int done = 0; done < data.Length;)
        {
            Assert.Equal(0, t.Write(fd, data.AsSpan(done, Math.Min(1 << 20, data.Length - done)), out int n));
            done += n;
        }
        if (fsync)
        {
            Assert.Equal(0, t.Fsync(fd, dataOnly: false));
        }
        Assert.Equal(0, t.Close(fd));
    }

    private static byte[] Read(IPosixTarget t, string path)
    {
        Assert.Equal(0, t.Stat(path, out PosixStat st));
        var buffer = new byte[st.Size];
        Assert.Equal(0, t.Open(path, OpenFlags.O_RDONLY, 0, out int fd));
        int total = 0;
        for (int n = 1; n > 0 && total < buffer.Length; total += n)
        {
            Assert.Equal(0, t.Read(fd, buffer.AsSpan(total), out n));
        }
        Assert.Equal(0, t.Close(fd));
        return buffer[..total];
    }

    /// <summary>A volume on a store that can be cut, with "synced" stored and "a", "b" written into memory only, then closed with the store down.</summary>
    private static (VolumeStoreFixture Volume, FaultPlan Plan, Dictionary<string, byte[]> Files) ClosedDuringAnOutage()
    {
        var plan = new FaultPlan();
        var volume = new VolumeStoreFixture(store: new SegmentPutGate(new FaultInjectingObjectStore(new MemoryObjectStore("volume"), plan)), segments: Segments);
        var files = new Dictionary<string, byte[]> { ["synced"] = Bytes(1, 70_000), ["a"] = Bytes(2, 3_000_000), ["b"] = Bytes(3, 5_000) };
        using (var t = new FileSystemTarget(volume.Fs, "volume"))
        {
            Write(t, "synced", files["synced"], fsync: true);
            plan.Down = true;
            Write(t, "a", files["a"], fsync: false);
            Write(t, "b", files["b"], fsync: false);
        }
        volume.Fs.Dispose(); // the final checkpoint fails: the unstored segments are spilled, the log is kept
        return (volume, plan, files);
    }

    private static string SpillDirectory(VolumeStoreFixture volume) => Path.Combine(volume.LogDirectory, SegmentSpill.DirectoryName);

    [Fact]
    public async Task Closing_while_the_store_is_down_spills_the_unstored_segments_and_the_next_mount_uploads_them_before_replay()
    {
        (VolumeStoreFixture volume, FaultPlan plan, Dictionary<string, byte[]> files) = ClosedDuringAnOutage();
        using var _ = volume;
        var inner = ((FaultInjectingObjectStore)((SegmentPutGate)volume.ObjectStore).Inner).Inner;
        string[] spilled = Directory.GetFiles(SpillDirectory(volume));
        Assert.NotEmpty(spilled);
        foreach (string file in spilled)
        {
            ulong nonce = Convert.ToUInt64(Path.GetFileNameWithoutExtension(file), 16);
            Assert.Null(await inner.TryHeadAsync(VolumeLayout.DataSegments.KeyOf(nonce)));
        }
        Assert.NotEmpty(Directory.GetFiles(volume.LogDirectory)); // the replay log is kept

        plan.Down = false;
        volume.Reopen();
        Assert.False(Directory.Exists(SpillDirectory(volume)));
        // One listing of the directory found the files and uploaded them.
        Assert.Equal(1, volume.Fs.Core.Spill!.Listings);
        foreach (string file in spilled)
        {
            ulong nonce = Convert.ToUInt64(Path.GetFileNameWithoutExtension(file), 16);
            Assert.NotNull(await inner.TryHeadAsync(VolumeLayout.DataSegments.KeyOf(nonce)));
        }
        using (var t = new FileSystemTarget(volume.Fs, "volume"))
        {
            foreach ((string name, byte[] content) in files)
            {
                Assert.True(content.AsSpan().SequenceEqual(Read(t, name)), $"{name} differs after the remount");
            }
        }
        // A clean unmount and another mount: it is all in the store now, the log directory gone.
        volume.Remount();
        Assert.False(Directory.Exists(SpillDirectory(volume)));
        using (var t = new FileSystemTarget(volume.Fs, "volume"))
        {
            Assert.True(files["a"].AsSpan().SequenceEqual(Read(t, "a")));
        }
    }

    [Fact]
    public void A_mount_whose_store_refuses_the_spilled_segments_fails_and_keeps_them()
    {
        (VolumeStoreFixture volume, FaultPlan plan, Dictionary<string, byte[]> files) = ClosedDuringAnOutage();
        using var _ = volume;
        string[] spilled = Directory.GetFiles(SpillDirectory(volume));
        // The store answers the mount's reads and its root pointer write, and refuses every data segment.
        plan.Down = false;
        var gate = (SegmentPutGate)volume.ObjectStore;
        gate.Refuse = true;
        var e = Assert.Throws<ObjectStoreException>(() => volume.Reopen());
        Assert.Contains(VolumeLayout.DataSegments.Prefix, e.Message, StringComparison.Ordinal);
        Assert.Equal(spilled, Directory.GetFiles(SpillDirectory(volume)));
        gate.Refuse = false;
        volume.Reopen();
        Assert.False(Directory.Exists(SpillDirectory(volume)));
        using var t = new FileSystemTarget(volume.Fs, "volume");
        Assert.True(files["a"].AsSpan().SequenceEqual(Read(t, "a")));
    }

    [Fact]
    public void A_read_only_mount_reads_the_spilled_segments_from_their_files_and_uploads_nothing()
    {
        (VolumeStoreFixture volume, FaultPlan plan, Dictionary<string, byte[]> files) = ClosedDuringAnOutage();
        using var _ = volume;
        plan.Down = false;
        string[] spilled = Directory.GetFiles(SpillDirectory(volume));
        volume.Reopen(VolumeStoreFixture.Manual with { ReadOnly = true });
        Assert.Equal(1, volume.Fs.Core.Spill!.Listings);
        using (var t = new FileSystemTarget(volume.Fs, "volume"))
        {
            // "a" and "b" are only in the spill directory: the read-only mount reads them from there.
            foreach (var (name, data) in files)
            {
                byte[] got = Read(t, name);
                int first = data.AsSpan().CommonPrefixLength(got);
                Assert.True(first == data.Length && got.Length == data.Length, $"{name}: {got.Length} bytes, differ from {first}: zero? {got.Skip(first).Take(100).All(x => x == 0)}");
            }
        }
        volume.Fs.Dispose();
        Assert.Equal(spilled, Directory.GetFiles(SpillDirectory(volume)));
        volume.Reopen();
        Assert.False(Directory.Exists(SpillDirectory(volume)) && Directory.GetFiles(SpillDirectory(volume)).Length > 0);
        using (var t = new FileSystemTarget(volume.Fs, "volume"))
        {
            foreach (var (name, data) in files)
            {
                Assert.True(data.AsSpan().SequenceEqual(Read(t, name)), name);
            }
        }
    }

    [Fact]
    public void A_damaged_spilled_segment_refuses_the_mount_with_its_path_and_moving_it_away_mounts_with_those_bytes_as_zeros()
    {
        (VolumeStoreFixture volume, FaultPlan plan, Dictionary<string, byte[]> files) = ClosedDuringAnOutage();
        using var _ = volume;
        plan.Down = false;
        string victim = Assert.Single(Directory.GetFiles(SpillDirectory(volume)));
        using (var f = new FileStream(victim, FileMode.Open, FileAccess.ReadWrite))
        {
            f.Position = f.Length / 2;
            int b = f.ReadByte();
            f.Position--;
            f.WriteByte((byte)(b ^ 0x01));
        }

        var e = Assert.Throws<SegmentSpillException>(() => volume.Reopen());
        Assert.Contains(victim, e.Message, StringComparison.Ordinal);
        Assert.Contains("damaged", e.Message, StringComparison.Ordinal);
        Assert.Contains("Move the file", e.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(victim));

        string aside = Path.Combine(Path.GetDirectoryName(volume.LogDirectory)!, "set-aside");
        File.Move(victim, aside);
        volume.Reopen();
        using (var t = new FileSystemTarget(volume.Fs, "volume"))
        {
            Assert.True(files["synced"].AsSpan().SequenceEqual(Read(t, "synced")));
            // "a" and "b" were written into the one segment set aside: they keep their sizes and read as zeros.
            byte[] a = Read(t, "a"), b = Read(t, "b");
            Assert.Equal(files["a"].Length, a.Length);
            Assert.Equal(files["b"].Length, b.Length);
            Assert.True(a.All(x => x == 0) && b.All(x => x == 0));
        }
    }

    [Fact]
    public void A_spill_that_cannot_write_fails_the_close_loudly_and_keeps_the_replay_log()
    {
        var plan = new FaultPlan();
        using var volume = new VolumeStoreFixture(store: new FaultInjectingObjectStore(new MemoryObjectStore("volume"), plan), segments: Segments);
        using (var t = new FileSystemTarget(volume.Fs, "volume"))
        {
            Write(t, "a", Bytes(4, 100_000), fsync: false);
        }
        plan.Down = true;
        File.WriteAllText(SpillDirectory(volume), "in the way");
        Assert.Throws<SegmentSpillException>(() => volume.Fs.Dispose());
        Assert.True(Directory.GetFiles(volume.LogDirectory).Length > 1);
        Assert.Equal("in the way", File.ReadAllText(SpillDirectory(volume)));
        File.Delete(SpillDirectory(volume));
        plan.Down = false;
        volume.Reopen();
    }
}

/// <summary>A store that refuses data segment puts while <see cref="Refuse"/> is set (and does everything else).</summary>
internal sealed class SegmentPutGate(IObjectStore inner) : IObjectStore
{
    public bool Refuse { get; set; }

    public IObjectStore Inner => inner;

    public string Location => inner.Location;

    public Task<ObjectInfo> HeadAsync(string key, CancellationToken cancellationToken = default) => inner.HeadAsync(key, cancellationToken);

    public Task<ObjectReadStream> GetAsync(string key, ByteRange range = default, CancellationToken cancellationToken = default) =>
        inner.GetAsync(key, range, cancellationToken);

    public Task<PutResult> PutAsync(string key, ObjectBody body, PutCondition condition = default, CancellationToken cancellationToken = default) =>
        Refuse && key.StartsWith(VolumeLayout.DataSegments.Prefix, StringComparison.Ordinal)
            ? throw new ObjectStoreException(ObjectStoreErrorKind.Permanent, ObjectStoreOperation.Put, Location, key, "refused by the test")
            : inner.PutAsync(key, body, condition, cancellationToken);

    public Task DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);

    public Task<ObjectListing> ListAsync(string prefix, string? startAfter = null, int maxKeys = ObjectListing.MaxPageSize, CancellationToken cancellationToken = default) =>
        inner.ListAsync(prefix, startAfter, maxKeys, cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
