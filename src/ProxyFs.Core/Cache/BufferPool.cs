using System.Collections.Concurrent;

namespace ProxyFs.Core.Cache;

/// <summary>
/// A pool of equal-size byte arrays (segment chunks, cache lines) that keeps at most <c>retain</c> of them: arrays
/// beyond that go back to the garbage collector, so a burst does not pin its peak memory forever.
/// </summary>
internal sealed class BufferPool(int bufferSize, int retain)
{
    private readonly ConcurrentStack<byte[]> _free = new();
    private int _count;
    private long _allocated;

    /// <summary>The size of every array.</summary>
    public int BufferSize => bufferSize;

    /// <summary>Arrays allocated so far (not taken from the pool).</summary>
    public long Allocated => Interlocked.Read(ref _allocated);

    /// <summary>Arrays waiting in the pool.</summary>
    public int Free => Volatile.Read(ref _count);

    /// <summary>
    /// An array of <see cref="BufferSize"/> bytes, with stale contents: a free one, or a new one, pinned, whose pages are
    /// backed at once (<see cref="MemoryPages"/>: it is about to be written whole).
    /// </summary>
    public byte[] Rent()
    {
        if (_free.TryPop(out var buffer))
        {
            Interlocked.Decrement(ref _count);
            return buffer;
        }
        Interlocked.Increment(ref _allocated);
        return MemoryPages.AllocatePopulated(bufferSize);
    }

    /// <summary>Gives an array back (arrays of another size are ignored).</summary>
    public void Return(byte[] buffer)
    {
        if (buffer.Length != bufferSize)
        {
            return;
        }
        if (Interlocked.Increment(ref _count) <= retain)
        {
            _free.Push(buffer);
        }
        else
        {
            Interlocked.Decrement(ref _count);
        }
    }
}
