using System.Diagnostics;
using ProxyFs.Core.Checksums;
using ProxyFs.Core.Tests.HeadHunter;
using Xunit.Abstractions;

namespace ProxyFs.Core.Tests.Checksums;

[Collection(SerialCollection.Name)]
public sealed class Crc32CBenchmarks(ITestOutputHelper output)
{
    [BenchFact]
    public void Throughput_of_hardware_and_software_paths()
    {
        var buffer = new byte[1 << 20];
        new Random(1).NextBytes(buffer);
        Assert.Equal(Crc32C.AppendSoftware(0, buffer), Crc32C.Compute(buffer));
        foreach (var (name, size) in new[] { ("1 MiB", 1 << 20), ("16 KiB", 16 << 10), ("64 B", 64) })
        {
            var hardware = Measure(() => Crc32C.Compute(buffer.AsSpan(0, size)), size);
            var software = Measure(() => Crc32C.AppendSoftware(0, buffer.AsSpan(0, size)), size);
            output.WriteLine($"CRC-32C {name}: {(Crc32C.IsHardwareAccelerated ? "hardware" : "table")} {hardware:F2} GB/s, slicing-by-8 {software:F2} GB/s");
        }
    }

    private static double Measure(Func<uint> body, int size)
    {
        for (var i = 0; i < 1000; i++)
        {
            body();
        }
        long bytes = 0;
        var watch = Stopwatch.StartNew();
        while (watch.ElapsedMilliseconds < 500)
        {
            for (var i = 0; i < 64; i++)
            {
                body();
            }
            bytes += 64L * size;
        }
        return bytes / watch.Elapsed.TotalSeconds / 1e9;
    }
}
