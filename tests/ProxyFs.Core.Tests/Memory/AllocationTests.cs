using ProxyFs.Core.FileSystem;

namespace ProxyFs.Core.Tests.Memory;

/// <summary>GetAttr, Lookup, Read and Write (over allocated pages) allocate nothing on the managed heap.</summary>
public sealed class AllocationTests
{
    [Fact]
    public void Hot_paths_do_not_allocate()
    {
        var m = new MemFs();
        ulong dir = m.MkDir(MemFs.Root, "dir");
        (ulong ino, ulong handle) = m.Create(dir, "file");
        byte[] block = new byte[1 << 20];
        byte[] name = MemFs.N("file");
        Caller caller = Caller.Root;
        IFileSystem fs = m.Fs;
        m.Write(ino, handle, 0, block);

        void Round()
        {
            for (int i = 0; i < 200; i++)
            {
                fs.GetAttr(caller, ino, out _);
                fs.Lookup(caller, dir, name, out _);
                fs.Read(caller, ino, handle, 0, block, out _);
                fs.Write(caller, ino, handle, 0, block, WriteFlags.None, out _);
            }
        }

        Round(); // warm up: JIT, lock and dictionary internals, thread-local state
        long before = GC.GetAllocatedBytesForCurrentThread();
        Round();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        fs.Forget(ino, 401);
        fs.Release(ino, handle);
    }
}
