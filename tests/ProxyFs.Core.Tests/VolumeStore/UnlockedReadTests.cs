using System.Text;
using ProxyFs.Core.FileSystem;
using ProxyFs.Core.FileSystem.Inodes;
using ProxyFs.Core.Tests.LogSegments;
using ProxyFs.ObjectStore.Memory;

namespace ProxyFs.Core.Tests.VolumeStore;

/// <summary>
/// A read that waits for the object store does so without the inode's lock: stat, writes and reads of the file that
/// need no GET go on meanwhile, and the waiting read still returns the bytes it was asked for.
/// </summary>
public sealed class UnlockedReadTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private static void Check(int error) => Assert.Equal(0, error);

    private static (VolumeStoreFixture Volume, ProbeStore Store, ulong Ino, byte[] Data) FileOnTheStore()
    {
        var store = new ProbeStore(new MemoryObjectStore("volume"));
        var volume = new VolumeStoreFixture(store: store);
        byte[] data = TestBytes.Make(5, 4 << 20);
        var fs = volume.Fs;
        Check(fs.Create(Caller.Root, IFileSystem.RootIno, Encoding.UTF8.GetBytes("f"), 0x81a4, 0, 2, out EntryOut entry, out OpenResult created));
        Check(fs.Write(Caller.Root, entry.Ino, created.Handle, 0, data, default, out _));
        Check(fs.Release(entry.Ino, created.Handle));
        Check(fs.SyncFs(Caller.Root));
        volume.Remount(); // an empty read cache: the file's bytes are only in the store
        return (volume, store, entry.Ino, data);
    }

    [Fact]
    public async Task A_read_waiting_for_the_store_holds_back_neither_stat_nor_writes_nor_reads_that_need_no_GET()
    {
        var (volume, store, ino, data) = FileOnTheStore();
        using var owned = volume;
        var fs = volume.Fs;
        Check(fs.Open(Caller.Root, ino, 2, out OpenResult open));
        // The metadata, the extent map and the footer are fetched now; the first lines of the file are not.
        byte[] last = new byte[16];
        Check(fs.Read(Caller.Root, ino, open.Handle, data.Length - last.Length, last, out _));
        Check(fs.GetAttr(Caller.Root, ino, out _));

        store.Gets.Close();
        byte[] cold = new byte[128 << 10];
        var waiting = Task.Factory.StartNew(() =>
        {
            Check(fs.Read(Caller.Root, ino, open.Handle, 0, cold, out int n));
            return n;
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            Eventually.True(() => store.GetsWaiting >= 1, "the cold read waits at the store");
            var others = Task.Factory.StartNew(() =>
            {
                Check(fs.GetAttr(Caller.Root, ino, out InodeAttr attr));
                Assert.Equal((ulong)data.Length, attr.Size);
                byte[] patch = TestBytes.Make(6, 4096);
                Check(fs.Write(Caller.Root, ino, open.Handle, 3 << 20, patch, default, out int written));
                Assert.Equal(patch.Length, written);
                byte[] back = new byte[patch.Length];
                Check(fs.Read(Caller.Root, ino, open.Handle, 3 << 20, back, out int n)); // from the writer's memory
                Assert.Equal(patch, back);
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            await others.WaitAsync(Timeout); // a TimeoutException: stat, a write or a read of written bytes waited for the held GET
            Assert.False(waiting.IsCompleted);
        }
        finally
        {
            store.Gets.Open();
        }
        Assert.Equal(cold.Length, await waiting.WaitAsync(Timeout));
        Assert.Equal(data.AsSpan(0, cold.Length).ToArray(), cold);
        Check(fs.Release(ino, open.Handle));
    }

    [Fact]
    public async Task A_plan_whose_segment_is_gone_says_so_instead_of_failing()
    {
        var (volume, store, ino, _) = FileOnTheStore();
        using var owned = volume;
        Check(volume.Store.Acquire(ino, out Inode inode));
        try
        {
            FileReadPlan plan;
            lock (inode.Sync)
            {
                // In the middle of the file: no read-ahead starts (a read from the start would fetch the lines at once,
                // and one that finished before the segment went would serve the plan, rightly).
                plan = inode.Data!.PlanRead(2 << 20, 4096) ?? throw new InvalidOperationException("a volume file reads through plans");
            }
            // As when the range was rewritten and its old segment collected before the plan was read.
            var listing = await store.Inner.ListAsync("segments/");
            foreach (var segment in listing.Objects)
            {
                await store.Inner.DeleteAsync(segment.Key);
            }
            Assert.NotEmpty(listing.Objects);
            Assert.False(plan.TryRead(new byte[4096]));
        }
        finally
        {
            volume.Store.Unpin(inode);
        }
    }
}
