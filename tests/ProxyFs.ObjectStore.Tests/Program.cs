using System.Globalization;
using System.Text;
using ProxyFs.ObjectStore.Benchmarks;
using ProxyFs.ObjectStore.File;
using ProxyFs.ObjectStore.S3;

namespace ProxyFs.ObjectStore.Tests;

/// <summary>
/// The test assembly is also a small program (the test host does not use this entry point):
/// <list type="bullet">
/// <item><c>create ROOT KEY ID</c>, <c>cas ROOT KEY WRITER COUNT</c>: child processes of the multi-process file store tests;</item>
/// <item><c>bench URI</c>: the object-store benchmark against an S3 server (scripts/s3/bench.sh runs it).</item>
/// </list>
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0)
        {
            await Console.Error.WriteLineAsync("usage: create ROOT KEY ID | cas ROOT KEY WRITER COUNT | bench S3_URI");
            return 2;
        }
        switch (args[0])
        {
            case "create":
                {
                    await using var store = new FileObjectStore(args[1]);
                    try
                    {
                        await store.PutAsync(args[2], Encoding.ASCII.GetBytes(args[3]), PutCondition.IfNoneMatch);
                        Console.WriteLine("won");
                    }
                    catch (ObjectStoreException e) when (e.Kind == ObjectStoreErrorKind.PreconditionFailed)
                    {
                        Console.WriteLine("lost");
                    }
                    return 0;
                }
            case "cas":
                {
                    await using var store = new FileObjectStore(args[1]);
                    int writer = int.Parse(args[3], CultureInfo.InvariantCulture);
                    int count = int.Parse(args[4], CultureInfo.InvariantCulture);
                    int conflicts = 0;
                    for (int i = 0; i < count; i++)
                    {
                        while (true)
                        {
                            await using var s = await store.GetAsync(args[2]);
                            byte[] buffer = new byte[s.Length];
                            await s.ReadFullyAsync(buffer);
                            string history = Encoding.ASCII.GetString(buffer);
                            try
                            {
                                await store.PutAsync(args[2], Encoding.ASCII.GetBytes($"{history}{writer}.{i}\n"), PutCondition.IfMatch(s.Object.ETag));
                                break;
                            }
                            catch (ObjectStoreException e) when (e.Kind == ObjectStoreErrorKind.PreconditionFailed)
                            {
                                conflicts++;
                            }
                        }
                    }
                    Console.WriteLine(conflicts.ToString(CultureInfo.InvariantCulture));
                    return 0;
                }
            case "bench":
                {
                    var uri = StoreUri.Parse(args[1]);
                    if (uri.S3 is not S3StoreOptions server)
                    {
                        await Console.Error.WriteLineAsync("bench: the URI must be an s3:// URI");
                        return 2;
                    }
                    var options = new ObjectStoreBenchmarkOptions();
                    if (Environment.GetEnvironmentVariable("BENCH_ROUNDS") is string rounds)
                    {
                        options = options with { Rounds = int.Parse(rounds, CultureInfo.InvariantCulture) };
                    }
                    if (Environment.GetEnvironmentVariable("BENCH_MIB_PER_MEASUREMENT") is string mib)
                    {
                        options = options with { BytesPerMeasurement = long.Parse(mib, CultureInfo.InvariantCulture) << 20 };
                    }
                    await using var backend = ObjectStores.Open(uri);
                    var cells = await ObjectStoreBenchmark.RunAsync(backend, server, options, Console.Out);
                    return cells.All(c => c.Ratio >= 0.9) ? 0 : 3;
                }
            default:
                await Console.Error.WriteLineAsync($"unknown command '{args[0]}'");
                return 2;
        }
    }
}
