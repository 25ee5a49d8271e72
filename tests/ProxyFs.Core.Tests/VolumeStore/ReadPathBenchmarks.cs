using System.Diagnostics;
using System.Globalization;
using System.Text;
using ProxyFs.Core.FileSystem;
using ProxyFs.Core.FileSystem.Memory;
using ProxyFs.Core.Tests.LogSegments.Benchmarks;
using Xunit.Abstractions;

namespace ProxyFs.Core.Tests.VolumeStore;

/// <summary>
/// The cost of a read through the filesystem layer without FUSE: a volume (its extent map, segment reader and read
/// cache, warm) against the in-memory reference filesystem, both through <see cref="IFileSystem.Read"/> on one
/// blocking thread, as FUSE's reader threads call it. What is left between these figures and a mount is the kernel
/// and the FUSE layer. Run:
/// <c>PROXYFS_BENCH=1 dotnet test tests/ProxyFs.Core.Tests -c Release --filter "FullyQualifiedName~ReadPathBenchmarks" --logger "console;verbosity=detailed"</c>.
/// </summary>
public class ReadPathBenchmarks(ITestOutputHelper output)
{
    private const long FileBytes = 64L << 20;

    [BenchmarkFact]
    public void Warm_reads_through_the_filesystem_layer()
    {
        using var volume = new VolumeStoreFixture();
        var memory = new MemoryFileSystem();
        foreach (var (name, fs) in new (string, IFileSystem)[] { ("volume", volume.Fs), ("memory", memory) })
        {
            ulong ino = Fill(fs);
            Check(fs.Open(Caller.Root, ino, 0, out OpenResult open));
            byte[] buffer = new byte[1 << 20];
            Sequential(fs, ino, open.Handle, buffer); // warms the read cache
            double seconds = Time(() => Sequential(fs, ino, open.Handle, buffer));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-7} warm sequential 1 MiB reads: {FileBytes / seconds / (1 << 20),8:0} MiB/s"));
            const int Reads = 200_000;
            var random = new Random(7);
            seconds = Time(() =>
            {
                for (int i = 0; i < Reads; i++)
                {
                    long offset = random.NextInt64(FileBytes / 4096) * 4096;
                    Check(fs.Read(Caller.Root, ino, open.Handle, offset, buffer.AsSpan(0, 4096), out int n));
                    Assert.Equal(4096, n);
                }
            });
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-7} warm random 4 KiB reads: {Reads / seconds,8:0} reads/s ({seconds / Reads * 1e6:0.00} µs each)"));
            Check(fs.Release(ino, open.Handle));
        }
    }

    private static ulong Fill(IFileSystem fs)
    {
        Check(fs.Create(Caller.Root, IFileSystem.RootIno, Encoding.UTF8.GetBytes("data"), 0x81a4, 0, 2, out EntryOut entry, out OpenResult created));
        byte[] chunk = new byte[1 << 20];
        new Random(1).NextBytes(chunk);
        for (long at = 0; at < FileBytes; at += chunk.Length)
        {
            Check(fs.Write(Caller.Root, entry.Ino, created.Handle, at, chunk, default, out _));
        }
        Check(fs.Release(entry.Ino, created.Handle));
        Check(fs.SyncFs(Caller.Root));
        return entry.Ino;
    }

    private static void Sequential(IFileSystem fs, ulong ino, ulong handle, byte[] buffer)
    {
        for (long at = 0; at < FileBytes; at += buffer.Length)
        {
            Check(fs.Read(Caller.Root, ino, handle, at, buffer, out int n));
            Assert.Equal(buffer.Length, n);
        }
    }

    private static double Time(Action work)
    {
        double seconds = 0;
        var thread = new Thread(() =>
        {
            long start = Stopwatch.GetTimestamp();
            work();
            seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        });
        thread.Start();
        thread.Join();
        return seconds;
    }

    private static void Check(int errno) => Assert.Equal(0, errno);
}
