using System.Text;
using ProxyFs.Core.Volume;
using ProxyFs.ObjectStore;
using ProxyFs.ObjectStore.Decorators;
using ProxyFs.ObjectStore.Memory;
using ProxyFs.Testing;

namespace ProxyFs.Core.Tests.Volume;

/// <summary>Format, open, checkpoint and fencing of a volume's persistent state.</summary>
public sealed class VolumeCoreTests : IDisposable
{
    private readonly TempDirectory _logs = TempDirectory.Create();
    private int _mounts;

    /// <summary>Each mount its own replay log directory (these tests are about the store; "crashed" mounts keep theirs open).</summary>
    private VolumeOptions Manual => new()
    {
        CheckpointInterval = TimeSpan.Zero,
        ReplayLogDirectory = Path.Combine(_logs.Path, $"log{Interlocked.Increment(ref _mounts)}"),
        AcceptReplayLogLoss = true,
    };

    public void Dispose() => _logs.Dispose();

    private static byte[] K(string s) => Encoding.UTF8.GetBytes(s);

    private static Task<VolumeDescriptor> FormatAsync(IObjectStore store, bool force = false) =>
        VolumeCore.FormatAsync(store, new VolumeFormatOptions { Label = "t", Force = force }, (tree, _) => tree.Put(K("hello"), K("world")));

    [Fact]
    public async Task Format_then_open_sees_the_initial_tree()
    {
        var store = new MemoryObjectStore("v");
        VolumeDescriptor d = await FormatAsync(store);
        await using VolumeCore v = await VolumeCore.OpenAsync(store, Manual);
        Assert.Equal(d.VolumeId, v.Descriptor.VolumeId);
        Assert.Equal("world", Encoding.UTF8.GetString(v.Tree.Get(K("hello"))!));
        Assert.Equal(2ul, v.Root.Generation); // format wrote 1, the mount's reservation wrote 2
        Assert.False(v.Root.CleanUnmount);
    }

    [Fact]
    public async Task Format_refuses_an_existing_volume_unless_forced()
    {
        var store = new MemoryObjectStore("v");
        VolumeDescriptor first = await FormatAsync(store);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => FormatAsync(store));
        Assert.Contains("already holds a volume", e.Message, StringComparison.Ordinal);
        Assert.Contains(first.VolumeId.ToString(), e.Message, StringComparison.Ordinal);
        VolumeDescriptor second = await FormatAsync(store, force: true);
        Assert.NotEqual(first.VolumeId, second.VolumeId);
    }

    [Fact]
    public async Task Opening_a_store_without_a_volume_says_how_to_make_one()
    {
        var e = await Assert.ThrowsAsync<VolumeFormatException>(() => VolumeCore.OpenAsync(new MemoryObjectStore("empty"), Manual));
        Assert.Contains("proxyfs format", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Changes_survive_a_checkpoint_and_a_reopen_and_clean_unmount_is_recorded()
    {
        var store = new MemoryObjectStore("v");
        await FormatAsync(store);
        await using (VolumeCore v = await VolumeCore.OpenAsync(store, Manual))
        {
            for (int i = 0; i < 5000; i++)
            {
                v.Tree.Put(K($"key{i:D5}"), K($"value {i}"));
            }
            await v.CheckpointAsync();
            v.Tree.Put(K("after"), K("checkpoint"));
        }
        await using VolumeCore again = await VolumeCore.OpenAsync(store, Manual);
        Assert.Equal("value 4321", Encoding.UTF8.GetString(again.Tree.Get(K("key04321"))!));
        Assert.Equal("checkpoint", Encoding.UTF8.GetString(again.Tree.Get(K("after"))!));
        Assert.True(again.Root.History[0].Generation > 0);
    }

    [Fact]
    public async Task A_second_writer_fences_the_first_which_turns_read_only()
    {
        var store = new MemoryObjectStore("v");
        await FormatAsync(store);
        await using VolumeCore first = await VolumeCore.OpenAsync(store, Manual);
        first.Tree.Put(K("a"), K("1"));
        await first.CheckpointAsync();
        await using VolumeCore second = await VolumeCore.OpenAsync(store, Manual);
        first.Tree.Put(K("b"), K("2"));
        var e = await Assert.ThrowsAsync<VolumeFencedException>(() => first.CheckpointAsync());
        Assert.Contains("another writer", e.Message, StringComparison.Ordinal);
        Assert.NotNull(first.Fenced);
        await Assert.ThrowsAsync<VolumeFencedException>(() => first.CheckpointAsync());
        Assert.Equal("1", Encoding.UTF8.GetString(second.Tree.Get(K("a"))!));
        Assert.Null(second.Tree.Get(K("b")));
    }

    [Fact]
    public async Task A_root_pointer_put_whose_outcome_is_unknown_and_that_did_not_land_is_retried_not_taken_for_fencing()
    {
        var plan = new FaultPlan();
        var store = new FaultInjectingObjectStore(new MemoryObjectStore("v"), plan);
        await FormatAsync(store);
        var roots = new RootPointerStore(store);
        RootPointer root = await roots.ReadAsync();
        RootPointer next = root with { Generation = root.Generation + 1 };

        // The connection broke before the answer and the put did not land: the root pointer is still the one replaced.
        plan.FailNext(ObjectStoreOperation.Put, 1, ObjectStoreErrorKind.Indeterminate);
        var e = await Assert.ThrowsAsync<ObjectStoreException>(() => roots.ReplaceAsync(next));
        Assert.IsNotType<VolumeFencedException>(e);
        Assert.Equal(root.Generation, (await new RootPointerStore(store.Inner).ReadAsync()).Generation);
        await roots.ReplaceAsync(next);

        // It landed before the connection broke: that is this writer's own put, not another writer's.
        RootPointer after = next with { Generation = next.Generation + 1 };
        plan.FailNextPutsAfterLanding();
        await roots.ReplaceAsync(after);
        Assert.Equal(after.Generation, (await new RootPointerStore(store.Inner).ReadAsync()).Generation);

        // Another writer's root pointer: fenced, whatever the outcome of this writer's put.
        RootPointer other = after with { Generation = after.Generation + 5 };
        var rival = new RootPointerStore(store.Inner);
        await rival.ReadAsync();
        await rival.ReplaceAsync(other);
        plan.FailNext(ObjectStoreOperation.Put, 1, ObjectStoreErrorKind.Indeterminate);
        await Assert.ThrowsAsync<VolumeFencedException>(() => roots.ReplaceAsync(after with { Generation = after.Generation + 1 }));
    }

    [Fact]
    public async Task The_group_commit_makes_each_burst_of_appended_records_durable_without_a_sync()
    {
        var store = new MemoryObjectStore("v");
        await FormatAsync(store);
        await using VolumeCore v = await VolumeCore.OpenAsync(store, Manual with { GroupCommitInterval = TimeSpan.FromMilliseconds(5) });
        VolumeJournal journal = v.Journal!;
        // Bursts separated by idle time: the first append after an idle spell must arm the next group commit.
        for (int burst = 0; burst < 4; burst++)
        {
            for (int i = 0; i <= burst; i++)
            {
                Assert.True(journal.Append(FileSystem.Inodes.OperationKind.SetAttr, K($"change {burst}.{i}"), [0]));
            }
            long tail = journal.Log.Statistics.TailAddress;
            Assert.True(SpinWait.SpinUntil(() => journal.Log.Statistics.DurableAddress >= tail, TimeSpan.FromSeconds(30)),
                $"burst {burst}: durable up to {journal.Log.Statistics.DurableAddress}, appended up to {tail}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task An_unclean_mount_loses_only_what_came_after_its_last_checkpoint()
    {
        var store = new MemoryObjectStore("v");
        await FormatAsync(store);
        VolumeCore crashed = await VolumeCore.OpenAsync(store, Manual);
        crashed.Tree.Put(K("durable"), K("yes"));
        await crashed.CheckpointAsync();
        crashed.Tree.Put(K("lost"), K("yes"));
        // The process dies: nothing more reaches the store. (The object is abandoned, not disposed.)
        await using VolumeCore v = await VolumeCore.OpenAsync(store, Manual);
        Assert.NotNull(v.Tree.Get(K("durable")));
        Assert.Null(v.Tree.Get(K("lost")));
    }

    [Fact]
    public async Task Nonces_are_never_reused_across_a_crash()
    {
        var store = new MemoryObjectStore("v");
        await FormatAsync(store);
        var small = Manual with { NonceBatch = 4 };
        var smallAgain = Manual with { NonceBatch = 4 };
        VolumeCore crashed = await VolumeCore.OpenAsync(store, small);
        for (int i = 0; i < 10; i++)
        {
            crashed.Tree.Put(K($"k{i}"), K("v"));
            crashed.Data!.Append(new byte[100]);
            await crashed.CheckpointAsync();
        }
        Dictionary<string, string> before = await SegmentETagsAsync(store);
        ulong durableReservation = crashed.Root.NoncesReservedUpTo;

        // The first mount dies without a clean unmount; the next one writes more segments.
        await using VolumeCore v = await VolumeCore.OpenAsync(store, smallAgain);
        for (int i = 0; i < 10; i++)
        {
            v.Tree.Put(K($"again{i}"), K("v"));
            v.Data!.Append(new byte[100]);
            await v.CheckpointAsync();
        }
        Dictionary<string, string> after = await SegmentETagsAsync(store);
        Assert.All(before, kv => Assert.Equal(kv.Value, after[kv.Key]));
        var added = after.Keys.Except(before.Keys).ToList();
        Assert.NotEmpty(added);
        Assert.All(added, key => Assert.True(Nonce(key) >= durableReservation, $"{key} reuses a nonce below {durableReservation}"));
    }

    private static ulong Nonce(string key) =>
        VolumeLayout.MetadataSegments.TryParse(key, out ulong n) || VolumeLayout.DataSegments.TryParse(key, out n) ? n : throw new ArgumentException(key);

    private static async Task<Dictionary<string, string>> SegmentETagsAsync(IObjectStore store)
    {
        var result = new Dictionary<string, string>();
        await foreach (ObjectInfo o in store.ListAllAsync(""))
        {
            if (VolumeLayout.MetadataSegments.TryParse(o.Key, out _) || VolumeLayout.DataSegments.TryParse(o.Key, out _))
            {
                result[o.Key] = o.ETag;
            }
        }
        return result;
    }

    [Fact]
    public async Task A_failed_checkpoint_stays_pending_and_the_next_one_finishes_it()
    {
        var plan = new FaultPlan();
        var store = new FaultInjectingObjectStore(new MemoryObjectStore("v"), plan);
        await FormatAsync(store);
        await using VolumeCore v = await VolumeCore.OpenAsync(store, Manual);
        for (int i = 0; i < 2000; i++)
        {
            v.Tree.Put(K($"key{i:D5}"), K(new string('x', 50)));
        }
        plan.FailNext(ObjectStoreOperation.Put, 1, ObjectStoreErrorKind.Permanent);
        await Assert.ThrowsAsync<ObjectStoreException>(() => v.CheckpointAsync());
        // The tree still answers from the pending image; a later checkpoint stores it.
        Assert.NotNull(v.Tree.Get(K("key01999")));
        v.Tree.Put(K("later"), K("1"));
        await v.CheckpointAsync();
        await using VolumeCore reopened = await VolumeCore.OpenAsync(store.Inner, Manual with { ReadOnly = true });
        Assert.NotNull(reopened.Tree.Get(K("key01999")));
        Assert.NotNull(reopened.Tree.Get(K("later")));
    }

    [Fact]
    public async Task An_earlier_generation_can_be_mounted_read_only()
    {
        var store = new MemoryObjectStore("v");
        await FormatAsync(store);
        ulong generation;
        await using (VolumeCore v = await VolumeCore.OpenAsync(store, Manual))
        {
            v.Tree.Put(K("state"), K("old"));
            await v.CheckpointAsync();
            generation = v.Root.Generation;
            v.Tree.Put(K("state"), K("new"));
            await v.CheckpointAsync();
        }
        await using VolumeCore old = await VolumeCore.OpenAsync(store, Manual with { Generation = generation });
        Assert.True(old.ReadOnly);
        Assert.Equal("old", Encoding.UTF8.GetString(old.Tree.Get(K("state"))!));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => VolumeCore.OpenAsync(store, Manual with { Generation = 999 }));
        Assert.Contains("not kept", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Idle_checkpoints_do_not_rewrite_the_root_pointer()
    {
        var store = new MemoryObjectStore("v");
        await FormatAsync(store);
        await using VolumeCore v = await VolumeCore.OpenAsync(store, Manual);
        await v.CheckpointAsync();
        ulong generation = v.Root.Generation;
        await v.CheckpointAsync();
        await v.CheckpointAsync();
        Assert.Equal(generation, v.Root.Generation);
    }

    [Fact]
    public async Task Data_segments_appended_before_a_checkpoint_are_durable_after_it()
    {
        var store = new MemoryObjectStore("v");
        await FormatAsync(store);
        await using VolumeCore v = await VolumeCore.OpenAsync(store, Manual with { Segments = new() { MaxFlushTime = TimeSpan.FromHours(1) } });
        var at = v.Data!.Append(new byte[5000]);
        v.Tree.Put(K("extent"), BitConverter.GetBytes(at.Nonce));
        await v.CheckpointAsync();
        Assert.NotNull(await store.TryHeadAsync(VolumeLayout.DataSegments.KeyOf(at.Nonce)));
    }
}
