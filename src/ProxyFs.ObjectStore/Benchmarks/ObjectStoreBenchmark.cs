using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using ProxyFs.ObjectStore.S3;

namespace ProxyFs.ObjectStore.Benchmarks;

/// <summary>Parameters of <see cref="ObjectStoreBenchmark"/>.</summary>
public sealed record ObjectStoreBenchmarkOptions
{
    /// <summary>The size of each object (8 MiB: a typical log segment flush).</summary>
    public int ObjectSize { get; init; } = 8 << 20;

    /// <summary>The numbers of concurrent streams to measure.</summary>
    public IReadOnlyList<int> Streams { get; init; } = [1, 4];

    /// <summary>Bytes moved by one measurement (split between the streams).</summary>
    public long BytesPerMeasurement { get; init; } = 256L << 20;

    /// <summary>Rounds; each measures every cell once for the backend and once for the raw client, alternating which goes first.</summary>
    public int Rounds { get; init; } = 3;

    /// <summary>The key prefix of the benchmark's objects (deleted at the end).</summary>
    public string Prefix { get; init; } = "proxyfs-bench/";
}

/// <summary>One cell of the benchmark: an operation and a number of streams, through proxyfs's backend and through the raw client.</summary>
/// <param name="Operation">PUT or GET.</param>
/// <param name="Streams">Concurrent streams.</param>
/// <param name="BackendMBps">Throughput through the backend, in MB/s (10^6 bytes).</param>
/// <param name="RawMBps">Throughput through the raw client, in MB/s.</param>
public sealed record BenchmarkCell(string Operation, int Streams, double BackendMBps, double RawMBps)
{
    /// <summary>Backend throughput over raw throughput.</summary>
    public double Ratio => RawMBps == 0 ? 0 : BackendMBps / RawMBps;
}

/// <summary>
/// PUT and GET of 8 MiB objects with 1 and 4 streams, through an <see cref="IObjectStore"/> (the backend as proxyfs
/// opens it) and through a raw client on the same server in the same run: a bare <see cref="AmazonS3Client"/> with
/// only the settings the server needs (endpoint, path style, signing region, checksums when required, no aws-chunked
/// bodies when the URI says chunked_upload=false) and the SDK's
/// defaults for everything else. Prints MB/s and the ratio backend/raw; the acceptance bar is 0.9.
/// </summary>
public static class ObjectStoreBenchmark
{
    /// <summary>Runs the benchmark of <paramref name="backend"/> against a raw client built from <paramref name="server"/>.</summary>
    public static async Task<IReadOnlyList<BenchmarkCell>> RunAsync(IObjectStore backend, S3StoreOptions server, ObjectStoreBenchmarkOptions? options = null, TextWriter? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(server);
        options ??= new ObjectStoreBenchmarkOptions();
        log ??= TextWriter.Null;
        var credentials = S3Credentials.Resolve(server, backend.Location);
        var config = new AmazonS3Config
        {
            ForcePathStyle = server.PathStyle ?? server.Endpoint is not null,
            AuthenticationRegion = server.Region,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (server.Endpoint is not null)
        {
            config.ServiceURL = server.Endpoint.ToString();
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(server.Region);
        }
        using var raw = new AmazonS3Client(credentials, config);
        string rawPrefix = server.Prefix.Length == 0 || server.Prefix.EndsWith('/') ? server.Prefix : server.Prefix + "/";

        byte[] payload = new byte[options.ObjectSize];
        new Random(42).NextBytes(payload);
        var cells = new Dictionary<(string, int), (double BackendBytes, double BackendSeconds, double RawBytes, double RawSeconds)>();
        log.WriteLine($"benchmark: {options.ObjectSize >> 20} MiB objects, {options.BytesPerMeasurement >> 20} MiB per measurement, {options.Rounds} rounds, backend {backend.Location}");

        for (int round = 0; round < options.Rounds; round++)
        {
            foreach (int streams in options.Streams)
            {
                int perStream = (int)Math.Max(1, options.BytesPerMeasurement / options.ObjectSize / streams);
                foreach (string op in new[] { "PUT", "GET" })
                {
                    bool backendFirst = round % 2 == 0;
                    for (int turn = 0; turn < 2; turn++)
                    {
                        bool isBackend = (turn == 0) == backendFirst;
                        long start = Stopwatch.GetTimestamp();
                        await Parallel.ForEachAsync(Enumerable.Range(0, streams), new ParallelOptions { MaxDegreeOfParallelism = streams, CancellationToken = cancellationToken }, async (s, ct) =>
                        {
                            byte[] buffer = ArrayPool<byte>.Shared.Rent(options.ObjectSize);
                            try
                            {
                                for (int i = 0; i < perStream; i++)
                                {
                                    string key = $"{options.Prefix}{s}-{i}";
                                    if (op == "PUT" && isBackend)
                                    {
                                        await backend.PutAsync(key, payload, PutCondition.None, ct).ConfigureAwait(false);
                                    }
                                    else if (op == "PUT")
                                    {
                                        using var body = new MemoryStream(payload, writable: false);
                                        await raw.PutObjectAsync(new PutObjectRequest { BucketName = server.Bucket, Key = rawPrefix + key, InputStream = body, UseChunkEncoding = server.ChunkedUpload }, ct).ConfigureAwait(false);
                                    }
                                    else if (isBackend)
                                    {
                                        var read = await backend.ReadAsync(key, 0, buffer.AsMemory(0, options.ObjectSize), ct).ConfigureAwait(false);
                                        Check(read.BytesRead, options.ObjectSize, key);
                                    }
                                    else
                                    {
                                        using var response = await raw.GetObjectAsync(server.Bucket, rawPrefix + key, ct).ConfigureAwait(false);
                                        int total = 0, n;
                                        while ((n = await response.ResponseStream.ReadAsync(buffer.AsMemory(total, options.ObjectSize - total), ct).ConfigureAwait(false)) > 0)
                                        {
                                            total += n;
                                        }
                                        Check(total, options.ObjectSize, key);
                                    }
                                }
                            }
                            finally
                            {
                                ArrayPool<byte>.Shared.Return(buffer);
                            }
                        }).ConfigureAwait(false);
                        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                        double bytes = (double)perStream * streams * options.ObjectSize;
                        cells.TryGetValue((op, streams), out var c);
                        cells[(op, streams)] = isBackend ? c with { BackendBytes = c.BackendBytes + bytes, BackendSeconds = c.BackendSeconds + seconds }
                                                         : c with { RawBytes = c.RawBytes + bytes, RawSeconds = c.RawSeconds + seconds };
                        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  round {round + 1} {op} x{streams} {(isBackend ? "backend" : "raw    ")}: {bytes / seconds / 1e6,8:0.0} MB/s"));
                    }
                }
            }
        }

        var results = new List<BenchmarkCell>();
        foreach (int streams in options.Streams)
        {
            foreach (string op in new[] { "PUT", "GET" })
            {
                var c = cells[(op, streams)];
                results.Add(new BenchmarkCell(op, streams, c.BackendBytes / c.BackendSeconds / 1e6, c.RawBytes / c.RawSeconds / 1e6));
            }
        }
        foreach (var key in Enumerable.Range(0, options.Streams.Max()).SelectMany(s => Enumerable.Range(0, (int)Math.Max(1, options.BytesPerMeasurement / options.ObjectSize / options.Streams.Min())).Select(i => $"{options.Prefix}{s}-{i}")))
        {
            await backend.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
        }
        log.Write(Format(results));
        return results;
    }

    /// <summary>The results as a table with a ratio column.</summary>
    public static string Format(IReadOnlyList<BenchmarkCell> cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"{"op",-5}{"streams",8}{"backend MB/s",14}{"raw MB/s",10}{"ratio",8}");
        foreach (var c in cells)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"{c.Operation,-5}{c.Streams,8}{c.BackendMBps,14:0.0}{c.RawMBps,10:0.0}{c.Ratio,8:0.00}");
        }
        return sb.ToString();
    }

    private static void Check(int got, int expected, string key)
    {
        if (got != expected)
        {
            throw new InvalidOperationException($"benchmark: GET '{key}' returned {got} bytes, expected {expected}");
        }
    }
}
