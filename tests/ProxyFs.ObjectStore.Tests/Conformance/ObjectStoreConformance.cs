using System.Buffers;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;

namespace ProxyFs.ObjectStore.Tests.Conformance;

/// <summary>
/// The one conformance suite every store and decorator stack passes (juicefs-style): one subclass per stack. Each test
/// works under its own random key prefix, so stacks that share a server do not see each other's keys. Tests of
/// behaviour a server lacks are overridden with a skip that says why (see <c>S3rverConformance</c>).
/// </summary>
public abstract class ObjectStoreConformance : IAsyncLifetime
{
    private IObjectStore? _store;

    /// <summary>Opens the stack under test; called once per test.</summary>
    protected abstract Task<IObjectStore> CreateStoreAsync();

    /// <summary>The longest key the store takes (s3rver crashes past ~240 bytes).</summary>
    protected virtual int MaxKeyBytes => ObjectKeys.MaxKeyBytes - 64;

    protected IObjectStore Store => _store ?? throw new InvalidOperationException("not initialized");

    protected string Prefix { get; private set; } = "";

    public async Task InitializeAsync()
    {
        _store = await CreateStoreAsync();
    }

    public virtual async Task DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }
    }

    protected string Key(string name, [CallerMemberName] string test = "")
    {
        if (Prefix.Length == 0)
        {
            Prefix = $"t-{test}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}/";
        }
        return Prefix + name;
    }

    protected static byte[] Data(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4099)]
    [InlineData((1 << 20) + 3)]
    public async Task Put_then_get_and_head_return_the_same_bytes(int length)
    {
        string key = Key($"obj-{length}");
        byte[] data = Data(length, length);
        var put = await Store.PutAsync(key, data);
        Assert.Equal(length, put.Size);
        Assert.False(string.IsNullOrEmpty(put.ETag));
        Assert.DoesNotContain("\"", put.ETag, StringComparison.Ordinal);

        Assert.Equal(data, await Store.GetBytesAsync(key));
        var head = await Store.HeadAsync(key);
        Assert.Equal(key, head.Key);
        Assert.Equal(length, head.Size);
        Assert.Equal(put.ETag, head.ETag);
        Assert.True(head.LastModified > DateTimeOffset.UtcNow.AddHours(-1), $"LastModified {head.LastModified} is not recent");

        await using var stream = await Store.GetAsync(key);
        Assert.Equal(length, stream.Length);
        Assert.Equal(0, stream.Offset);
        Assert.Equal(put.ETag, stream.Object.ETag);
    }

    [Fact]
    public async Task Missing_keys_are_NotFound_and_the_message_names_store_key_and_operation()
    {
        string key = Key("missing");
        var get = await Assert.ThrowsAsync<ObjectStoreException>(() => Store.GetAsync(key));
        Assert.Equal(ObjectStoreErrorKind.NotFound, get.Kind);
        Assert.Equal(ObjectStoreOperation.Get, get.Operation);
        Assert.Contains(key, get.Message, StringComparison.Ordinal);
        Assert.Contains(Store.Location, get.Message, StringComparison.Ordinal);
        Assert.StartsWith("GET ", get.Message, StringComparison.Ordinal);

        var head = await Assert.ThrowsAsync<ObjectStoreException>(() => Store.HeadAsync(key));
        Assert.Equal(ObjectStoreErrorKind.NotFound, head.Kind);
        Assert.Null(await Store.TryHeadAsync(key));
    }

    [Fact]
    public async Task Byte_ranges_select_the_right_bytes()
    {
        string key = Key("ranges");
        byte[] data = Data(10_000, 7);
        await Store.PutAsync(key, data);

        Assert.Equal(data[100..1100], await Store.GetBytesAsync(key, ByteRange.Of(100, 1000)));
        Assert.Equal(data[9_000..], await Store.GetBytesAsync(key, ByteRange.From(9_000)));
        Assert.Equal(data[9_990..], await Store.GetBytesAsync(key, ByteRange.Of(9_990, 1000)));
        Assert.Equal(data[..1], await Store.GetBytesAsync(key, ByteRange.Of(0, 1)));

        await using var s = await Store.GetAsync(key, ByteRange.Of(2_000, 500));
        Assert.Equal(2_000, s.Offset);
        Assert.Equal(500, s.Length);
        Assert.Equal(10_000, s.Object.Size);
    }

    [Fact]
    public virtual async Task Suffix_ranges_return_the_last_bytes()
    {
        string key = Key("suffix");
        byte[] data = Data(5_000, 8);
        await Store.PutAsync(key, data);
        Assert.Equal(data[^100..], await Store.GetBytesAsync(key, ByteRange.Suffix(100)));
        Assert.Equal(data, await Store.GetBytesAsync(key, ByteRange.Suffix(1_000_000)));
        await using var s = await Store.GetAsync(key, ByteRange.Suffix(10));
        Assert.Equal(4_990, s.Offset);
        Assert.Equal(5_000, s.Object.Size);
    }

    [Fact]
    public async Task A_range_past_the_end_is_empty_and_still_describes_the_object()
    {
        string key = Key("past-end");
        var put = await Store.PutAsync(key, Data(100, 9));
        await using var s = await Store.GetAsync(key, ByteRange.From(100));
        Assert.Equal(0, s.Length);
        Assert.Equal(100, s.Object.Size);
        Assert.Equal(put.ETag, s.Object.ETag);
        Assert.Equal(0, await s.ReadAsync(new byte[10]));

        string empty = Key("empty");
        await Store.PutAsync(empty, Array.Empty<byte>());
        Assert.Empty(await Store.GetBytesAsync(empty, ByteRange.Of(0, 10)));
    }

    [Fact]
    public async Task Reads_go_straight_into_the_callers_buffers()
    {
        string key = Key("into-buffer");
        byte[] data = Data(3 << 20, 10);
        await Store.PutAsync(key, data);

        byte[] line = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            var read = await Store.ReadAsync(key, 1 << 20, line.AsMemory(0, 1 << 20));
            Assert.Equal(1 << 20, read.BytesRead);
            Assert.True(line.AsSpan(0, 1 << 20).SequenceEqual(data.AsSpan(1 << 20, 1 << 20)));
            Assert.Equal(data.Length, read.Object.Size);

            var tail = await Store.ReadAsync(key, (3 << 20) - 10, line.AsMemory(0, 1 << 20));
            Assert.Equal(10, tail.BytesRead);
            Assert.True(line.AsSpan(0, 10).SequenceEqual(data.AsSpan(data.Length - 10)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(line);
        }

        var writer = new ArrayBufferWriter<byte>();
        var info = await Store.ReadAsync(key, ByteRange.Of(12345, 200_000), writer);
        Assert.Equal(data.Length, info.Size);
        Assert.True(writer.WrittenSpan.SequenceEqual(data.AsSpan(12345, 200_000)));
    }

    [Fact]
    public async Task Overwrite_replaces_the_bytes_and_changes_the_etag()
    {
        string key = Key("overwrite");
        var first = await Store.PutAsync(key, Data(1000, 1));
        byte[] second = Data(500, 2);
        var again = await Store.PutAsync(key, second);
        Assert.NotEqual(first.ETag, again.ETag);
        Assert.Equal(second, await Store.GetBytesAsync(key));
        Assert.Equal(again.ETag, (await Store.HeadAsync(key)).ETag);
    }

    [Fact]
    public async Task Delete_is_idempotent()
    {
        string key = Key("delete");
        await Store.PutAsync(key, Data(10, 3));
        await Store.DeleteAsync(key);
        await Store.DeleteAsync(key);
        await Store.DeleteAsync(Key("never-existed"));
        Assert.Null(await Store.TryHeadAsync(key));
        var e = await Assert.ThrowsAsync<ObjectStoreException>(() => Store.GetBytesAsync(key));
        Assert.Equal(ObjectStoreErrorKind.NotFound, e.Kind);
    }

    [Fact]
    public virtual async Task Create_only_put_fails_when_the_key_exists()
    {
        string key = Key("create-only");
        byte[] first = Data(100, 1);
        var put = await Store.PutAsync(key, first, PutCondition.IfNoneMatch);
        var e = await Assert.ThrowsAsync<ObjectStoreException>(() => Store.PutAsync(key, Data(100, 2), PutCondition.IfNoneMatch));
        Assert.Equal(ObjectStoreErrorKind.PreconditionFailed, e.Kind);
        Assert.Equal(first, await Store.GetBytesAsync(key));
        Assert.Equal(put.ETag, (await Store.HeadAsync(key)).ETag);
    }

    [Fact]
    public virtual async Task If_match_put_succeeds_only_with_the_current_etag()
    {
        string key = Key("cas");
        var v1 = await Store.PutAsync(key, Data(100, 1));
        var v2 = await Store.PutAsync(key, Data(100, 2), PutCondition.IfMatch(v1.ETag));
        Assert.NotEqual(v1.ETag, v2.ETag);

        var stale = await Assert.ThrowsAsync<ObjectStoreException>(() => Store.PutAsync(key, Data(100, 3), PutCondition.IfMatch(v1.ETag)));
        Assert.Equal(ObjectStoreErrorKind.PreconditionFailed, stale.Kind);
        Assert.Equal(Data(100, 2), await Store.GetBytesAsync(key));

        // Quoted or not, the same ETag matches.
        var v3 = await Store.PutAsync(key, Data(100, 4), PutCondition.IfMatch($"\"{v2.ETag}\""));
        Assert.Equal(v3.ETag, (await Store.HeadAsync(key)).ETag);

        var missing = await Assert.ThrowsAsync<ObjectStoreException>(() => Store.PutAsync(Key("cas-missing"), Data(10, 5), PutCondition.IfMatch(v3.ETag)));
        Assert.Equal(ObjectStoreErrorKind.PreconditionFailed, missing.Kind);
        Assert.Null(await Store.TryHeadAsync(Key("cas-missing")));
    }

    [Fact]
    public virtual async Task Of_concurrent_create_only_writers_exactly_one_wins()
    {
        string key = Key("race-create");
        const int writers = 8;
        var outcomes = await Task.WhenAll(Enumerable.Range(0, writers).Select(async i =>
        {
            try
            {
                await Store.PutAsync(key, Encoding.ASCII.GetBytes($"writer {i}"), PutCondition.IfNoneMatch);
                return i;
            }
            catch (ObjectStoreException e) when (e.Kind == ObjectStoreErrorKind.PreconditionFailed)
            {
                return -1;
            }
        }));
        int winner = Assert.Single(outcomes, o => o >= 0);
        Assert.Equal($"writer {winner}", Encoding.ASCII.GetString(await Store.GetBytesAsync(key)));
    }

    [Fact]
    public virtual async Task Concurrent_compare_and_swap_loses_no_update()
    {
        // The object is the history of all increments, one "writer.seq" line each. A writer whose compare-and-swap is
        // refused (or whose outcome is indeterminate under injected faults) re-reads and looks for its own line.
        string key = Key("race-cas");
        await Store.PutAsync(key, Array.Empty<byte>(), PutCondition.IfNoneMatch);
        const int writers = 4, increments = 5;
        await Task.WhenAll(Enumerable.Range(0, writers).Select(async w =>
        {
            for (int i = 0; i < increments; i++)
            {
                string entry = $"{w}.{i}";
                while (true)
                {
                    await using var s = await Store.GetAsync(key);
                    byte[] buffer = new byte[s.Length];
                    try
                    {
                        await s.ReadFullyAsync(buffer);
                    }
                    catch (ObjectStoreException e) when (e.IsRetryable)
                    {
                        continue; // the body broke and the object changed before it could be resumed: read it again
                    }
                    string history = Encoding.ASCII.GetString(buffer);
                    if (history.Split('\n').Contains(entry))
                    {
                        break; // an earlier attempt landed
                    }
                    try
                    {
                        await Store.PutAsync(key, Encoding.ASCII.GetBytes(history + entry + "\n"), PutCondition.IfMatch(s.Object.ETag));
                        break;
                    }
                    catch (ObjectStoreException e) when (e.Kind is ObjectStoreErrorKind.PreconditionFailed or ObjectStoreErrorKind.Indeterminate)
                    {
                    }
                }
            }
        }));
        string[] lines = Encoding.ASCII.GetString(await Store.GetBytesAsync(key)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(writers * increments, lines.Length);
        Assert.Equal(lines.Length, lines.Distinct().Count());
    }

    [Fact]
    public virtual async Task Listing_is_in_utf8_key_order_and_honours_prefix_and_start_after()
    {
        string[] names = ["a", "a-b", "a/b", "a/b/c", "a/c", "a0", "b", "z", "é", "\u4e2d", "\U0001F600", "\uFF21"];
        foreach (string n in names)
        {
            await Store.PutAsync(Key(n), Encoding.UTF8.GetBytes(n));
        }
        var all = await Store.ListAsync(Prefix);
        string[] expected = [.. names.Select(n => Prefix + n).OrderBy(k => Encoding.UTF8.GetBytes(k), new ByteArrayComparer())];
        Assert.Equal(expected, all.Objects.Select(o => o.Key));
        Assert.Null(all.NextStartAfter);
        var a = all.Objects.Single(o => o.Key == Prefix + "a/b");
        Assert.Equal(3, a.Size);
        Assert.Equal((await Store.HeadAsync(Prefix + "a/b")).ETag, a.ETag);

        Assert.Equal([Prefix + "a/b", Prefix + "a/b/c", Prefix + "a/c"], (await Store.ListAsync(Prefix + "a/")).Objects.Select(o => o.Key));
        Assert.Equal([Prefix + "a", Prefix + "a-b", Prefix + "a/b", Prefix + "a/b/c", Prefix + "a/c", Prefix + "a0"], (await Store.ListAsync(Prefix + "a")).Objects.Select(o => o.Key));
        Assert.Equal([Prefix + "a/c", Prefix + "a0"], (await Store.ListAsync(Prefix + "a", Prefix + "a/b/c")).Objects.Select(o => o.Key));
        Assert.Equal([Prefix + "a/b/c", Prefix + "a/c"], (await Store.ListAsync(Prefix + "a/", Prefix + "a/b/")).Objects.Select(o => o.Key));
        Assert.Empty((await Store.ListAsync(Prefix + "nothing/")).Objects);

        var page = await Store.ListAsync(Prefix, null, 3);
        Assert.Equal(expected[..3], page.Objects.Select(o => o.Key));
        Assert.Equal(expected[2], page.NextStartAfter);
    }

    [Fact]
    public async Task Paging_walks_2500_keys_in_order()
    {
        const int count = 2500;
        string[] keys = [.. Enumerable.Range(0, count).Select(i => Key($"k{i:x5}"))];
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (k, ct) => await Store.PutAsync(k, Encoding.ASCII.GetBytes(k), PutCondition.None, ct));

        var listed = new List<string>();
        int pages = 0;
        string? after = null;
        do
        {
            var page = await Store.ListAsync(Prefix, after, 1000);
            Assert.True(page.Objects.Count <= 1000);
            listed.AddRange(page.Objects.Select(o => o.Key));
            after = page.NextStartAfter;
            pages++;
        }
        while (after is not null);
        Assert.Equal(keys, listed);
        Assert.InRange(pages, 3, 4);

        var all = new List<string>();
        await foreach (var o in Store.ListAllAsync(Prefix, 700))
        {
            all.Add(o.Key);
        }
        Assert.Equal(keys, all);
    }

    /// <summary>Keys of <see cref="Keys_with_any_characters_round_trip"/>, relative to the test's prefix.</summary>
    protected virtual IReadOnlyList<string> UnusualKeys =>
        ["with space", "percent%41", "../../etc/passwd", "./dot", "..", ".", "a//b", "trailing/", "back\\slash", "q?x=1&y", "hash#", "plus+at@", "üñíçødé", "\U0001F600", "semi;colon:", "~tilde"];

    [Fact]
    public async Task Keys_with_any_characters_round_trip()
    {
        var names = UnusualKeys;
        foreach (string n in names)
        {
            string key = Key(n);
            await Store.PutAsync(key, Encoding.UTF8.GetBytes(n));
            Assert.Equal(n, Encoding.UTF8.GetString(await Store.GetBytesAsync(key)));
        }
        var listed = (await Store.ListAsync(Prefix)).Objects.Select(o => o.Key[Prefix.Length..]).ToHashSet();
        Assert.Equal(names.ToHashSet(), listed);
    }

    [Fact]
    public async Task Long_keys_round_trip()
    {
        string a = Key("");
        string longComponent = a + new string('x', MaxKeyBytes - a.Length - 5) + "/tail";
        string manyComponents = a + string.Join('/', Enumerable.Repeat("segment", (MaxKeyBytes - a.Length) / 8));
        foreach (string key in new[] { longComponent, manyComponents })
        {
            await Store.PutAsync(key, Encoding.UTF8.GetBytes(key));
            Assert.Equal(key, Encoding.UTF8.GetString(await Store.GetBytesAsync(key)));
        }
        Assert.Equal(new[] { longComponent, manyComponents }.OrderBy(k => k, ObjectKeys.Comparer), (await Store.ListAsync(Prefix)).Objects.Select(o => o.Key));
    }

    [Fact]
    public async Task Bad_keys_are_refused_with_a_clear_error()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.PutAsync("", Data(1, 1)));
        var control = await Assert.ThrowsAsync<ArgumentException>(() => Store.PutAsync("a\nb", Data(1, 1)));
        Assert.Contains("control character", control.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => Store.GetAsync("lone\uD800surrogate"));
        var tooLong = await Assert.ThrowsAsync<ArgumentException>(() => Store.HeadAsync(new string('k', 1025)));
        Assert.Contains("1024", tooLong.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.ListAsync("", null, 0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.ListAsync("", null, 1001));
    }

    [Fact]
    public async Task Bodies_from_streams_of_unknown_length_are_stored_whole()
    {
        foreach (int length in new[] { 0, 70_000, 13 << 20 })
        {
            string key = Key($"stream-{length}");
            byte[] data = Data(length, length + 1);
            var put = await Store.PutAsync(key, ObjectBody.FromStream(new NonSeekableStream(data)));
            Assert.Equal(length, put.Size);
            Assert.Equal(SHA256.HashData(data), SHA256.HashData(await Store.GetBytesAsync(key)));
        }
        string seekable = Key("seekable-part");
        using var ms = new MemoryStream(Data(1000, 3));
        ms.Position = 100;
        await Store.PutAsync(seekable, ObjectBody.FromStream(ms, 500));
        Assert.Equal(Data(1000, 3)[100..600], await Store.GetBytesAsync(seekable));
    }

    [Fact]
    public async Task Sequences_of_pooled_chunks_are_stored_without_a_copy_and_whole()
    {
        string key = Key("sequence");
        byte[] data = Data((14 << 20) + 17, 11);
        var first = new Chunk(data.AsMemory(0, 1 << 20));
        var last = first;
        for (int offset = 1 << 20; offset < data.Length; offset += 1 << 20)
        {
            last = last.Append(data.AsMemory(offset, Math.Min(1 << 20, data.Length - offset)));
        }
        var sequence = new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        await Store.PutAsync(key, ObjectBody.FromSequence(sequence));
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(await Store.GetBytesAsync(key)));
    }

    [Fact]
    public async Task A_200_MB_object_streams_in_and_out()
    {
        string key = Key("big");
        const long size = 200L * 1000 * 1000;
        var source = new PatternStream(size);
        var put = await Store.PutAsync(key, ObjectBody.FromStream(source));
        Assert.Equal(size, put.Size);
        Assert.Equal(size, (await Store.HeadAsync(key)).Size);

        await using var body = await Store.GetAsync(key);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = new byte[1 << 20];
        long total = 0;
        int n;
        while ((n = await body.ReadAsync(buffer)) > 0)
        {
            sha.AppendData(buffer, 0, n);
            total += n;
        }
        Assert.Equal(size, total);
        Assert.Equal(PatternStream.Sha256(size), sha.GetHashAndReset());

        byte[] middle = await Store.GetBytesAsync(key, ByteRange.Of(123_456_789, 1000));
        Assert.True(middle.AsSpan().SequenceEqual(PatternStream.Bytes(123_456_789, 1000)));
        await Store.DeleteAsync(key);
    }

    [Fact]
    public async Task Cancellation_surfaces_as_OperationCanceledException()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.PutAsync(Key("cancelled"), Data(10, 1), PutCondition.None, cts.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.HeadAsync(Key("cancelled"), cts.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.ListAsync(Prefix.Length == 0 ? Key("") : Prefix, null, 10, cts.Token));
    }

    private sealed class ByteArrayComparer : IComparer<byte[]>
    {
        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }

    private sealed class Chunk : ReadOnlySequenceSegment<byte>
    {
        public Chunk(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Chunk Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Chunk(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
