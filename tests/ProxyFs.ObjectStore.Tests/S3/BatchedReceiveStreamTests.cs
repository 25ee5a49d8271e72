using System.Net;
using System.Net.Sockets;
using ProxyFs.ObjectStore.S3;

namespace ProxyFs.ObjectStore.Tests.S3;

/// <summary>The read pool's connection stream: large reads wait for a batch of bytes, small ones for any byte.</summary>
public sealed class BatchedReceiveStreamTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_large_read_waits_for_a_batch_and_a_small_read_after_it_for_any_byte()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var endpoint = new DnsEndPoint("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port);
        Task<Stream> connecting = BatchedReceiveStream.ConnectAsync(endpoint, BatchedReceiveStream.MaxBatch, CancellationToken.None).AsTask();
        using Socket server = await listener.AcceptSocketAsync().WaitAsync(Guard);
        await using Stream client = await connecting.WaitAsync(Guard);
        Assert.IsType<BatchedReceiveStream>(client);

        // A body of 600 KiB trickles in 8 KiB pieces; the reader asks for what is left of it, as the HTTP client does.
        const int Body = 600 << 10;
        byte[] sent = new byte[Body];
        new Random(5).NextBytes(sent);
        Task sending = Task.Run(async () =>
        {
            for (int at = 0; at < Body; at += 8 << 10)
            {
                await server.SendAsync(sent.AsMemory(at, Math.Min(8 << 10, Body - at)));
                await Task.Delay(2);
            }
        });
        byte[] got = new byte[Body];
        int total = 0, reads = 0;
        while (total < Body)
        {
            int n = await client.ReadAsync(got.AsMemory(total, Body - total)).AsTask().WaitAsync(Guard);
            Assert.True(n > 0, "the body ended early");
            total += n;
            reads++;
        }
        await sending.WaitAsync(Guard);
        Assert.Equal(sent, got);
        // 75 pieces arrive: a reader woken by each would make about 75 reads. Waits for 256 KiB make a handful (each wait
        // can be followed by a read of what arrived meanwhile).
        Assert.InRange(reads, 1, 20);

        // The next response on the connection is small: a read with a small buffer must not wait for a batch.
        await server.SendAsync("HTTP/1.1 404 Not Found\r\n\r\n"u8.ToArray());
        byte[] small = new byte[4096];
        int m = await client.ReadAsync(small).AsTask().WaitAsync(Guard);
        Assert.Equal("HTTP/1.1 404 Not Found\r\n\r\n".Length, m);

        // Neither does a zero-byte read (the pool's liveness check): it completes once a byte is there.
        Task<int> zero = client.ReadAsync(Memory<byte>.Empty).AsTask();
        await server.SendAsync(new byte[] { 1 });
        Assert.Equal(0, await zero.WaitAsync(Guard));
        Assert.Equal(1, await client.ReadAsync(small).AsTask().WaitAsync(Guard));
    }

    [Fact]
    public void The_batch_is_small_enough_for_a_slow_body_to_arrive_well_within_the_idle_timeout()
    {
        Assert.Equal(240 << 10, BatchedReceiveStream.BatchFor(TimeSpan.FromSeconds(30))); // the default read_idle_timeout
        Assert.Equal(BatchedReceiveStream.MaxBatch, BatchedReceiveStream.BatchFor(TimeSpan.FromSeconds(60)));
        Assert.Equal(80 << 10, BatchedReceiveStream.BatchFor(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, BatchedReceiveStream.BatchFor(TimeSpan.FromSeconds(1))); // too short to batch at all
        for (int seconds = 1; seconds <= 60; seconds++)
        {
            int batch = BatchedReceiveStream.BatchFor(TimeSpan.FromSeconds(seconds));
            Assert.True(batch <= seconds / 2.0 * BatchedReceiveStream.SlowestBody, $"{batch} bytes for {seconds} s");
        }
    }
}
