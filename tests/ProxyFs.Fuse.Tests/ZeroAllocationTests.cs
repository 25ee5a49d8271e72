using ProxyFs.Fuse.Protocol;
using ProxyFs.Fuse.Tests.Support;

namespace ProxyFs.Fuse.Tests;

/// <summary>
/// READ, WRITE, GETATTR and LOOKUP allocate nothing per request: parsing, the handler call, building the reply and
/// writing it all happen in the worker's pinned buffer and on the stack.
/// </summary>
public class ZeroAllocationTests
{
    [Fact]
    public void Hot_opcodes_allocate_nothing_per_request()
    {
        var harness = new DispatcherHarness();
        var fs = harness.FileSystem!;
        harness.Init();
        var file = fs.AddFile("hot.bin", new byte[1 << 20], capacity: 1 << 20);
        byte[] payload = new byte[128 * 1024];
        byte[][] requests =
        [
            new RequestBuilder(fuse_opcode.FUSE_LOOKUP, 1, unique: 10).Name("hot.bin").Build(),
            new RequestBuilder(fuse_opcode.FUSE_GETATTR, file.Ino, unique: 11).Struct(new fuse_getattr_in { getattr_flags = FuseKernel.FUSE_GETATTR_FH, fh = 1 }).Build(),
            new RequestBuilder(fuse_opcode.FUSE_READ, file.Ino, unique: 12).Struct(new fuse_read_in { offset = 4096, size = 128 * 1024 }).Build(),
            new RequestBuilder(fuse_opcode.FUSE_WRITE, file.Ino, unique: 13).Struct(new fuse_write_in { offset = 8192, size = (uint)payload.Length }).Bytes(payload).Build(),
            new RequestBuilder(fuse_opcode.FUSE_LOOKUP, 1, unique: 14).Name("absent").Build(), // ENOENT path
        ];
        var worker = harness.Worker;

        void Run(int count)
        {
            for (int i = 0; i < count; i++)
            {
                byte[] request = requests[i % requests.Length];
                request.CopyTo(worker.Buffer, 0);
                harness.Dispatcher.Dispatch(worker, request.Length);
            }
        }

        Run(2_000); // warm up: JIT tiers, statics
        int writesBefore = harness.Transport.Writes;
        // Rounds of 10,000 requests. The runtime itself may allocate a little, once, on this thread (tiering,
        // on-stack replacement while other tests run): so every round must stay under one byte per request, which
        // rules out any per-request allocation, and the steady state must reach exactly zero.
        long[] rounds = new long[3];
        for (int round = 0; round < rounds.Length; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Run(10_000);
            rounds[round] = GC.GetAllocatedBytesForCurrentThread() - before;
        }

        string measured = string.Join(", ", rounds);
        Assert.True(rounds.Max() < 10_000, "bytes allocated per 10,000 requests: " + measured);
        Assert.True(rounds.Min() == 0, "bytes allocated per 10,000 requests: " + measured);
        Assert.Equal(30_000, harness.Transport.Writes - writesBefore); // every request was answered
        Assert.Equal(6_400, worker.Counters.Requests[(int)fuse_opcode.FUSE_READ]);
        Assert.Equal(6_400, worker.Counters.Requests[(int)fuse_opcode.FUSE_WRITE]);
        Assert.Equal(6_400, worker.Counters.Requests[(int)fuse_opcode.FUSE_GETATTR]);
        Assert.Equal(12_800, worker.Counters.Requests[(int)fuse_opcode.FUSE_LOOKUP]);
        Assert.Equal(6_400L * 128 * 1024, worker.Counters.BytesRead);
        Assert.Equal(6_400L * 128 * 1024, worker.Counters.BytesWritten);
    }

    [Fact]
    public void The_probe_sees_allocations_when_there_are_some()
    {
        // Debug mode formats every request and reply: the same loop must then show allocations, which shows the
        // measurement above would catch a per-request allocation.
        var harness = new DispatcherHarness(debug: true);
        harness.Init();
        byte[] request = new RequestBuilder(fuse_opcode.FUSE_GETATTR, 1).Struct(new fuse_getattr_in()).Build();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            request.CopyTo(harness.Worker.Buffer, 0);
            harness.Dispatcher.Dispatch(harness.Worker, request.Length);
        }
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before > 100 * 100);
    }
}
