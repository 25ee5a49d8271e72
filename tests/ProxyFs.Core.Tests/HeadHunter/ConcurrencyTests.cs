using System.Buffers.Binary;
using ProxyFs.Core.HeadHunter;
using static ProxyFs.Core.Tests.HeadHunter.TreeTestKit;

namespace ProxyFs.Core.Tests.HeadHunter;

public sealed class ConcurrencyTests
{
    private const int Keys = 20_000;

    /// <summary>A value that names its key: 8-byte key number, 4-byte version, padding (sometimes a blob).</summary>
    private static byte[] Versioned(long n, int version)
    {
        var value = new byte[version % 50 == 0 ? 6000 : 12 + (int)(n % 40)];
        BinaryPrimitives.WriteInt64BigEndian(value, n);
        BinaryPrimitives.WriteInt32BigEndian(value.AsSpan(8), version);
        return value;
    }

    private static void CheckValue(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        var n = BinaryPrimitives.ReadInt64BigEndian(key[1..]);
        if (BinaryPrimitives.ReadInt64BigEndian(value) != n)
        {
            throw new InvalidOperationException($"key {n} has the value of key {BinaryPrimitives.ReadInt64BigEndian(value)}");
        }
    }

    [Fact]
    public void Readers_see_consistent_entries_while_a_writer_mutates_and_checkpoints()
    {
        var store = new MemoryPageStore();
        using var tree = HeadHunterTree.Create(store, SmallPages(cacheBudget: 64 * 1024));
        for (long n = 0; n < Keys; n++)
        {
            tree.Put(NumberKey(n), Versioned(n, 1));
        }
        store.Checkpoint(tree);

        var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        var writerDone = 0;
        var writer = new Thread(() => Guarded(failures, () =>
        {
            var random = new Random(11);
            for (var op = 0; op < 30_000; op++)
            {
                var n = random.Next(Keys);
                if (random.Next(4) == 0)
                {
                    tree.Delete(NumberKey(n));
                }
                else
                {
                    tree.Put(NumberKey(n), Versioned(n, op + 2));
                }
                if (op % 2000 == 1999)
                {
                    var checkpoint = tree.BeginCheckpoint(store.NextNonce());
                    store.Store(checkpoint);
                    tree.CompleteCheckpoint(checkpoint);
                }
            }
            Volatile.Write(ref writerDone, 1);
        }));
        var readers = Enumerable.Range(0, 3).Select(r => new Thread(() => Guarded(failures, () =>
        {
            var random = new Random(100 + r);
            var rounds = 0;
            while (Volatile.Read(ref writerDone) == 0 || rounds < 50)
            {
                rounds++;
                var n = random.Next(Keys);
                if (tree.Get(NumberKey(n)) is { } value)
                {
                    CheckValue(NumberKey(n), value);
                }
                if (tree.TryGetFloor(NumberKey(n), out var floorKey, out var floorValue))
                {
                    CheckValue(floorKey, floorValue);
                    Assert.True(floorKey.AsSpan().SequenceCompareTo(NumberKey(n)) <= 0);
                }
                byte[]? previous = null;
                var seen = 0;
                tree.Scan(NumberKey(n), (key, value) =>
                {
                    CheckValue(key, value);
                    if (previous is not null && previous.AsSpan().SequenceCompareTo(key) >= 0)
                    {
                        throw new InvalidOperationException("scan went backwards");
                    }
                    previous = key.ToArray();
                    return ++seen < 300;
                });
            }
        }))).ToList();

        writer.Start();
        readers.ForEach(t => t.Start());
        writer.Join();
        readers.ForEach(t => t.Join());
        Assert.Empty(failures);
        tree.Verify();
        Assert.Equal(0, tree.DirtyCountDrifts);
        Assert.True(tree.Statistics.Misses > 0);
    }

    [Fact]
    public void Checkpoints_on_their_own_thread_capture_snapshots_while_a_writer_and_readers_run()
    {
        var store = new MemoryPageStore();
        var ledger = new SpaceLedger();
        using var tree = HeadHunterTree.Create(store, SmallPages(cacheBudget: 128 * 1024));
        var model = new Dictionary<long, byte[]?>();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        var writerDone = 0;
        var checkpoints = 0;
        var writer = new Thread(() => Guarded(failures, () =>
        {
            var random = new Random(21);
            for (var op = 0; op < 40_000; op++)
            {
                var n = random.Next(Keys);
                if (random.Next(4) == 0)
                {
                    tree.Delete(NumberKey(n));
                    model[n] = null;
                }
                else
                {
                    var value = Versioned(n, op + 2);
                    tree.Put(NumberKey(n), value);
                    model[n] = value;
                }
            }
            Volatile.Write(ref writerDone, 1);
        }));
        var checkpointer = new Thread(() => Guarded(failures, () =>
        {
            while (Volatile.Read(ref writerDone) == 0)
            {
                var checkpoint = tree.BeginCheckpoint(store.NextNonce());
                store.Store(checkpoint);
                ledger.Apply(checkpoint);
                tree.CompleteCheckpoint(checkpoint);
                checkpoints++;
            }
        }));
        var reader = new Thread(() => Guarded(failures, () =>
        {
            var random = new Random(22);
            while (Volatile.Read(ref writerDone) == 0)
            {
                var n = random.Next(Keys);
                if (tree.Get(NumberKey(n)) is { } value)
                {
                    CheckValue(NumberKey(n), value);
                }
                byte[]? previous = null;
                var seen = 0;
                tree.Scan(NumberKey(n), (key, value) =>
                {
                    CheckValue(key, value);
                    if (previous is not null && previous.AsSpan().SequenceCompareTo(key) >= 0)
                    {
                        throw new InvalidOperationException("scan went backwards");
                    }
                    previous = key.ToArray();
                    return ++seen < 100;
                });
            }
        }));
        writer.Start();
        checkpointer.Start();
        reader.Start();
        writer.Join();
        checkpointer.Join();
        reader.Join();
        Assert.Empty(failures);
        Assert.True(checkpoints > 1);

        ledger.Apply(store.Checkpoint(tree));
        ledger.AssertMatches(tree);
        Assert.Equal(0, tree.DirtyCountDrifts);
        using var reopened = HeadHunterTree.Open(store, tree.RootAddress, SmallPages(cacheBudget: 0));
        foreach (var (n, value) in model)
        {
            Assert.Equal(value, reopened.Get(NumberKey(n)));
        }
    }

    private static void Guarded(System.Collections.Concurrent.ConcurrentQueue<Exception> failures, Action body)
    {
        try
        {
            body();
        }
        catch (Exception ex)
        {
            failures.Enqueue(ex);
        }
    }
}
