using ProxyFs.Core.FileSystem.Inodes;
using Xunit;

namespace ProxyFs.Testing.Inodes;

/// <summary>
/// File data: reads, writes, truncation, holes, allocation, SEEK_DATA/SEEK_HOLE and copies between files. Assertions
/// about holes hold for any block size up to 1 MiB, so a page store and an extent store both pass.
/// </summary>
public abstract partial class InodeStoreContract
{
    private const long Mi = 1 << 20;

    [Fact]
    public void Written_bytes_read_back_and_everything_else_reads_as_zeros()
    {
        IInodeStore store = CreateStore();
        Inode file = CreateFile(store);
        byte[] block = Pattern(100_000, seed: 1);
        WriteData(store, file, 5000, block);
        WriteData(store, file, 3 * Mi, "tail"u8.ToArray());
        Assert.Equal(block, ReadData(file, 5000, block.Length));
        Assert.Equal(new byte[5000], ReadData(file, 0, 5000));
        Assert.Equal(new byte[1000], ReadData(file, 2 * Mi, 1000));
        Assert.Equal("tail"u8.ToArray(), ReadData(file, 3 * Mi, 4));
        Assert.Equal(new byte[100], ReadData(file, (3 * Mi) + 4, 100));
        Assert.True(file.Data!.AllocatedBlocks * 512 >= (ulong)block.Length + 4);
        store.Unpin(file);
    }

    [Fact]
    public void Overwrites_replace_bytes_in_place()
    {
        IInodeStore store = CreateStore();
        Inode file = CreateFile(store);
        WriteData(store, file, 0, Pattern(3 * (int)Mi, seed: 2));
        ulong blocks = file.Data!.AllocatedBlocks;
        byte[] patch = Pattern(70_000, seed: 3);
        WriteData(store, file, Mi - 30_000, patch);
        Assert.Equal(patch, ReadData(file, Mi - 30_000, patch.Length));
        Assert.Equal(Pattern(3 * (int)Mi, seed: 2)[..(int)(Mi - 30_000)], ReadData(file, 0, (int)(Mi - 30_000)));
        Assert.Equal(blocks, file.Data.AllocatedBlocks);
        store.Unpin(file);
    }

    [Fact]
    public void Truncate_drops_the_tail_for_good()
    {
        IInodeStore store = CreateStore();
        Inode file = CreateFile(store);
        byte[] data = Pattern(3 * (int)Mi, seed: 4);
        WriteData(store, file, 0, data);
        ulong before = file.Data!.AllocatedBlocks;
        Change(store, op => file.Data.Truncate(op, Mi + 123));
        Assert.True(file.Data.AllocatedBlocks < before);
        Assert.Equal(data[..(int)(Mi + 123)], ReadData(file, 0, (int)(Mi + 123)));
        Assert.Equal(new byte[2 * Mi], ReadData(file, Mi + 123, (int)(2 * Mi))); // growing again shows zeros
        Change(store, op => file.Data.Truncate(op, 0));
        Assert.Equal(0ul, file.Data.AllocatedBlocks);
        Assert.Equal(-1, file.Data.NextData(0));
        store.Unpin(file);
    }

    [Fact]
    public void Punched_and_zeroed_ranges_read_as_zeros()
    {
        IInodeStore store = CreateStore();
        Inode file = CreateFile(store);
        byte[] data = Pattern(4 * (int)Mi, seed: 5);
        WriteData(store, file, 0, data);
        ulong full = file.Data!.AllocatedBlocks;
        Change(store, op => file.Data.PunchHole(op, Mi, Mi));
        Assert.True(file.Data.AllocatedBlocks < full, "punching a whole MiB releases space");
        Change(store, op => Assert.Equal(0, file.Data.ZeroRange(op, 3 * Mi, 1000)));
        byte[] expected = (byte[])data.Clone();
        Array.Clear(expected, (int)Mi, (int)Mi);
        Array.Clear(expected, (int)(3 * Mi), 1000);
        Assert.Equal(expected, ReadData(file, 0, expected.Length));
        Assert.Equal(Mi, file.Data.NextHole(Mi)); // a punched MiB is a hole
        Assert.Equal(2 * Mi, file.Data.NextData(Mi));
        store.Unpin(file);
    }

    [Fact]
    public void Allocated_space_counts_and_reads_as_zeros()
    {
        IInodeStore store = CreateStore();
        Inode file = CreateFile(store);
        Change(store, op => Assert.Equal(0, file.Data!.Allocate(op, Mi, 2 * Mi)));
        Assert.True(file.Data!.AllocatedBlocks * 512 >= (ulong)(2 * Mi));
        Assert.Equal(new byte[2 * Mi], ReadData(file, Mi, (int)(2 * Mi)));
        Assert.Equal(-1, file.Data.NextData(0)); // allocated but never written: no data
        Change(store, op => Assert.Equal(0, file.Data.ZeroRange(op, 4 * Mi, Mi)));
        Assert.True(file.Data.AllocatedBlocks * 512 >= (ulong)(3 * Mi));
        store.Unpin(file);
    }

    [Fact]
    public void Seek_data_and_hole_find_the_written_regions()
    {
        IInodeStore store = CreateStore();
        Inode file = CreateFile(store);
        WriteData(store, file, 2 * Mi, Pattern((int)Mi, seed: 6));
        WriteData(store, file, 5 * Mi, Pattern(10, seed: 7));
        IFileData data = file.Data!;
        Assert.Equal(2 * Mi, data.NextData(0));
        Assert.Equal(2 * Mi, data.NextData(2 * Mi));
        Assert.Equal((2 * Mi) + 77, data.NextData((2 * Mi) + 77));
        Assert.Equal(3 * Mi, data.NextHole(2 * Mi));
        Assert.Equal(0, data.NextHole(0));
        Assert.Equal(5 * Mi, data.NextData(3 * Mi));
        long afterLast = data.NextHole(5 * Mi);
        Assert.True(afterLast >= (5 * Mi) + 10 && afterLast <= 6 * Mi, $"hole after the last data at {afterLast}");
        Assert.Equal(-1, data.NextData(6 * Mi));
        Assert.Equal(7 * Mi, data.NextHole(7 * Mi));
        store.Unpin(file);
    }

    [Fact]
    public void CopyFrom_another_file_copies_bytes_and_holes_read_as_zeros()
    {
        IInodeStore store = CreateStore();
        Inode source = CreateFile(store);
        Inode target = CreateFile(store);
        byte[] a = Pattern((int)Mi, seed: 8);
        WriteData(store, source, 0, a);
        WriteData(store, source, 3 * Mi, a);
        WriteData(store, target, 0, Pattern(6 * (int)Mi, seed: 9));
        Change(store, op => Assert.Equal(0, target.Data!.CopyFrom(op, source.Data!, 0, Mi, 4 * Mi)));
        Assert.Equal(a, ReadData(target, Mi, (int)Mi));
        Assert.Equal(new byte[2 * Mi], ReadData(target, 2 * Mi, (int)(2 * Mi)));
        Assert.Equal(a, ReadData(target, 4 * Mi, (int)Mi));
        Assert.Equal(Pattern(6 * (int)Mi, seed: 9)[..(int)Mi], ReadData(target, 0, (int)Mi));
        Assert.Equal(Pattern(6 * (int)Mi, seed: 9)[(int)(5 * Mi)..], ReadData(target, 5 * Mi, (int)Mi));
        Assert.Equal(a, ReadData(source, 0, (int)Mi)); // the source is untouched
        Change(store, op => source.Data!.Truncate(op, 0));
        Assert.Equal(a, ReadData(target, Mi, (int)Mi)); // and the copy does not depend on it
        store.Unpin(source);
        store.Unpin(target);
    }

    [Fact]
    public void CopyFrom_within_one_file_between_ranges_apart()
    {
        IInodeStore store = CreateStore();
        Inode file = CreateFile(store);
        byte[] a = Pattern(300_000, seed: 10);
        WriteData(store, file, 0, a);
        Change(store, op => Assert.Equal(0, file.Data!.CopyFrom(op, file.Data, 0, 2 * Mi, a.Length)));
        Assert.Equal(a, ReadData(file, 2 * Mi, a.Length));
        Assert.Equal(a, ReadData(file, 0, a.Length));
        store.Unpin(file);
    }

    [Fact]
    public void Reading_existing_data_allocates_nothing()
    {
        IInodeStore store = CreateStore();
        Inode file = CreateFile(store);
        WriteData(store, file, 0, Pattern((int)Mi, seed: 11));
        byte[] buffer = new byte[128 * 1024];
        for (int i = 0; i < 20; i++)
        {
            file.Data!.Read(i * 4096, buffer);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++)
        {
            file.Data!.Read(i * 4096 % (Mi - buffer.Length), buffer);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (HotPathsAllocateNothing)
        {
            Assert.Equal(0, allocated);
        }
        store.Unpin(file);
    }

    /// <summary>Deterministic bytes, never all zero.</summary>
    protected static byte[] Pattern(int length, int seed)
    {
        byte[] bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        for (int i = 0; i < bytes.Length; i += 997)
        {
            bytes[i] |= 1;
        }
        return bytes;
    }

    /// <summary>Runs one change of a file's data in its own scope, under the inode's lock as the layer does.</summary>
    protected static void Change(IInodeStore store, Action<InodeOperation> change)
    {
        using InodeOperation op = store.BeginOperation(OperationKind.Fallocate);
        change(op);
        op.Commit();
    }

    protected static void WriteData(IInodeStore store, Inode file, long offset, byte[] bytes)
    {
        using InodeOperation op = store.BeginOperation(OperationKind.Write);
        lock (file.Sync)
        {
            Assert.Equal(0, file.Data!.Write(op, offset, bytes));
            file.Size = Math.Max(file.Size, offset + bytes.Length);
            store.Update(op, file);
            op.Commit();
        }
    }

    protected static byte[] ReadData(Inode file, long offset, int count)
    {
        byte[] bytes = new byte[count];
        lock (file.Sync)
        {
            file.Data!.Read(offset, bytes);
        }
        return bytes;
    }
}
