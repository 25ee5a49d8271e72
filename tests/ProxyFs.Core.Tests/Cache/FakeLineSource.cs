using System.Collections.Concurrent;
using ProxyFs.Core.Cache;
using ProxyFs.Core.Tests.LogSegments;

namespace ProxyFs.Core.Tests.Cache;

/// <summary>Lines of made-up bytes, counted per line; fills of <see cref="HeldSegment"/> wait at <see cref="Gate"/>.</summary>
internal sealed class FakeLineSource : ICacheLineSource
{
    private int _fills;

    public ConcurrentDictionary<LineKey, int> FillsPerLine { get; } = new();

    public Gate Gate { get; } = new();

    public ulong? HeldSegment { get; set; }

    public ulong? FailingSegment { get; set; }

    public int Fills => Volatile.Read(ref _fills);

    /// <summary>Each multi-line fill asked for: (segment, first line, lines).</summary>
    public ConcurrentBag<(ulong Segment, long First, int Count)> Runs { get; } = [];

    public async Task FillLinesAsync(ulong segment, long firstLine, IReadOnlyList<Memory<byte>> buffers, Action<int, int> filled, CancellationToken cancellationToken)
    {
        Runs.Add((segment, firstLine, buffers.Count));
        for (int i = 0; i < buffers.Count; i++)
        {
            filled(i, await FillLineAsync(segment, firstLine + i, buffers[i], cancellationToken));
        }
    }

    public static byte ByteAt(ulong segment, long line, int index) => (byte)((segment * 131) + ((ulong)line * 31) + (ulong)index);

    public int FillsOf(ulong segment, long line) => FillsPerLine.GetValueOrDefault(new LineKey(segment, line));

    public async Task<int> FillLineAsync(ulong segment, long line, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _fills);
        FillsPerLine.AddOrUpdate(new LineKey(segment, line), 1, (_, n) => n + 1);
        if (segment == HeldSegment)
        {
            await Gate.WaitAsync(cancellationToken);
        }
        if (segment == FailingSegment)
        {
            throw new IOException($"injected failure of segment {segment} line {line}");
        }
        var span = buffer.Span;
        for (int i = 0; i < span.Length; i++)
        {
            span[i] = ByteAt(segment, line, i);
        }
        return buffer.Length;
    }

    /// <summary>Reads <paramref name="length"/> bytes at <paramref name="offset"/> of a line and checks them.</summary>
    public void ReadAndCheck(ReadCacheVolume volume, ulong segment, long line, int offset, int length)
    {
        byte[] back = new byte[length];
        int n = volume.Read(new LineKey(segment, line), offset, back, this);
        Assert.Equal(length, n);
        for (int i = 0; i < length; i++)
        {
            if (back[i] != ByteAt(segment, line, offset + i))
            {
                Assert.Fail($"segment {segment} line {line} byte {offset + i}: got {back[i]}, expected {ByteAt(segment, line, offset + i)}");
            }
        }
    }
}
