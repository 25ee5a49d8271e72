using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace ProxyFs.Core.Cache;

/// <summary>
/// The memory of the read cache's lines: slabs of 32 MiB mapped outside the garbage-collected heap, cut into lines
/// that go back and forth between the cache and this pool and are never moved or freed while the pool lives.
/// </summary>
/// <remarks>
/// <para>
/// Why not arrays: a cold read fills new memory at the network's rate, and backing it costs more than the copy into
/// it. With 4 KiB pages every page is a fault (or a populate step) that zeroes it, charges it to the memory cgroup and
/// puts it on an LRU list: a third of the daemon's CPU in the first GiB a fresh daemon reads. Slabs aligned to 2 MiB
/// and advised <c>MADV_HUGEPAGE</c> take one 2 MiB page per two lines instead of 512 small ones. Pinned arrays of
/// that size also count toward the garbage collector's budget and start full background collections; these do not.
/// </para>
/// <para>
/// Huge pages are used only where they pay: when the kernel offers them for advised memory
/// (<c>/sys/kernel/mm/transparent_hugepage/enabled</c> is <c>always</c> or <c>madvise</c>); if a failed allocation
/// would make it compact memory synchronously (<c>defrag</c> is <c>always</c>, <c>madvise</c> or
/// <c>defer+madvise</c>), only while <c>/proc/buddyinfo</c> shows plenty of free 2 MiB blocks for the new slab; and
/// while backing one costs what zeroing it should. Backing a huge page whose memory is at hand takes ~0.05 ms of CPU
/// per MiB, 4 KiB pages ~0.35 ms. It can cost far more: compaction, or a virtual machine whose host backs guest
/// memory on first touch (measured: 2.4 ms per MiB for huge blocks the guest never used, while small pages come from
/// memory freed recently). A huge page that took more than 1 ms of the thread's CPU per MiB (or half a second) turns
/// huge pages off for the rest of its slab and for new slabs for five minutes.
/// </para>
/// <para>
/// Lines given back beyond <c>retain</c> free ones have their memory returned to the system (<c>MADV_DONTNEED</c>):
/// the pool's resident size follows the cache's use, only its address space stays at the peak.
/// </para>
/// </remarks>
internal sealed class LinePool
{
    internal const long HugePageSize = 2 << 20;
    private const long TargetSlabBytes = 32L << 20;
    private const long SlowHugePageNanosecondsPerMiB = 1_000_000;
    private static readonly TimeSpan SlowHugePage = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan HugePagesPause = TimeSpan.FromMinutes(5);

    private readonly ConcurrentStack<LineBuffer> _warm = new();
    private readonly ConcurrentStack<LineBuffer> _cold = new();
    private readonly Lock _growLock = new();
    private readonly int _retain;
    private readonly int _linesPerSlab;
    private readonly HugePagePolicy _hugePages;
    private int _warmCount;
    private long _lines;
    private int _slabs;
    private long _hugePageSlabs;
    private long _hugePagesOffUntil;
    private long _slowHugePages;

    /// <summary>A pool of <paramref name="lineSize"/>-byte lines keeping <paramref name="retain"/> free ones backed.</summary>
    public LinePool(int lineSize, int retain, HugePagePolicy hugePages)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lineSize, 1);
        LineSize = lineSize;
        _retain = retain;
        _hugePages = hugePages;
        _linesPerSlab = (int)Math.Max(1, TargetSlabBytes / lineSize);
    }

    /// <summary>Bytes per line.</summary>
    public int LineSize { get; }

    /// <summary>Lines cut from slabs so far (the peak the pool reached).</summary>
    public long Lines => Interlocked.Read(ref _lines);

    /// <summary>Slabs mapped (each lives as long as one of its lines: the free ones are held here, the others by the cache).</summary>
    public int Slabs => Volatile.Read(ref _slabs);

    /// <summary>Slabs advised to use huge pages.</summary>
    public long HugePageSlabs => Interlocked.Read(ref _hugePageSlabs);

    /// <summary>Lines whose huge page was slow to back (each turned huge pages off for a while).</summary>
    public long SlowHugePages => Interlocked.Read(ref _slowHugePages);

    /// <summary>Free lines whose memory is kept backed.</summary>
    public int Free => Volatile.Read(ref _warmCount);

    /// <summary>A line of <see cref="LineSize"/> bytes, contents undefined, its memory backed (it is about to be written whole).</summary>
    public LineBuffer Rent()
    {
        if (_warm.TryPop(out var line))
        {
            Interlocked.Decrement(ref _warmCount);
            return line;
        }
        if (!_cold.TryPop(out line))
        {
            line = Grow();
        }
        Populate(line);
        return line;
    }

    /// <summary>Gives a line back; beyond <c>retain</c> free lines its memory goes back to the system.</summary>
    public void Return(LineBuffer line)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (!ReferenceEquals(line.Pool, this))
        {
            throw new ArgumentException("the line belongs to another pool", nameof(line));
        }
        if (Interlocked.Increment(ref _warmCount) <= _retain)
        {
            _warm.Push(line);
            return;
        }
        Interlocked.Decrement(ref _warmCount);
        NativeMemoryCalls.Discard(line.Address, (nuint)LineSize);
        _cold.Push(line);
    }

    private LineBuffer Grow()
    {
        lock (_growLock)
        {
            if (_cold.TryPop(out var waiting))
            {
                return waiting; // another renter grew a slab meanwhile
            }
            bool huge = UseHugePages();
            long bytes = (long)_linesPerSlab * LineSize;
            var slab = SlabHandle.Map(bytes, huge ? HugePageSize : Environment.SystemPageSize);
            if (huge && !NativeMemoryCalls.Advise(slab.Start, (nuint)bytes, NativeMemoryCalls.MadvHugePage))
            {
                huge = false;
            }
            slab.HugePages = huge;
            Interlocked.Increment(ref _slabs);
            if (huge)
            {
                Interlocked.Increment(ref _hugePageSlabs);
            }
            Interlocked.Add(ref _lines, _linesPerSlab);
            // Handed out in address order: a line's neighbour in its huge page is the next one rented.
            for (int i = _linesPerSlab - 1; i > 0; i--)
            {
                _cold.Push(new LineBuffer(this, slab, slab.Start + ((nint)i * LineSize), LineSize));
            }
            return new LineBuffer(this, slab, slab.Start, LineSize);
        }
    }

    private void Populate(LineBuffer line)
    {
        // A line that does not start a huge page had its huge page backed with the line before it.
        if (!line.Slab.HugePages || (LineSize < HugePageSize && (line.Address & (HugePageSize - 1)) != 0))
        {
            NativeMemoryCalls.Populate(line.Address, (nuint)LineSize);
            return;
        }
        long started = Stopwatch.GetTimestamp(), cpu = NativeMemoryCalls.ThreadCpuNanoseconds();
        NativeMemoryCalls.Populate(line.Address, (nuint)LineSize);
        long spent = NativeMemoryCalls.ThreadCpuNanoseconds() - cpu;
        long backed = Math.Max(LineSize, HugePageSize);
        // CPU time, not wall time: a thread merely preempted on a busy machine says nothing about huge pages.
        if (spent > SlowHugePageNanosecondsPerMiB * (backed >> 20) || Stopwatch.GetElapsedTime(started) > SlowHugePage)
        {
            Interlocked.Increment(ref _slowHugePages);
            Interlocked.Exchange(ref _hugePagesOffUntil, Environment.TickCount64 + (long)HugePagesPause.TotalMilliseconds);
            line.Slab.HugePages = false;
            NativeMemoryCalls.Advise(line.Slab.Start, (nuint)line.Slab.Length, NativeMemoryCalls.MadvNoHugePage);
        }
    }

    private bool UseHugePages()
    {
        if (_hugePages == HugePagePolicy.Never || Environment.TickCount64 < Interlocked.Read(ref _hugePagesOffUntil))
        {
            return false;
        }
        if (_hugePages == HugePagePolicy.Always)
        {
            return true;
        }
        var system = TransparentHugePages.Current;
        if (!system.Available)
        {
            return false;
        }
        if (!system.CompactsOnFault)
        {
            return true; // a huge page the kernel does not have at once is simply not used
        }
        long needed = _linesPerSlab * (long)LineSize / HugePageSize;
        return TransparentHugePages.FreeHugeBlocks() >= (4 * needed) + 64;
    }
}

/// <summary>Whether the read cache's line memory uses transparent huge pages.</summary>
public enum HugePagePolicy
{
    /// <summary>When the kernel offers them and they cannot stall a read (see <see cref="LinePool"/>).</summary>
    Auto,

    /// <summary>Never: small pages only.</summary>
    Never,

    /// <summary>Whenever the kernel offers them, whatever the free memory (tests).</summary>
    Always,
}

/// <summary>One line of a <see cref="LinePool"/> slab: native memory seen as <see cref="Memory{T}"/>.</summary>
internal sealed unsafe class LineBuffer : MemoryManager<byte>
{
    private readonly int _length;

    internal LineBuffer(LinePool pool, SlabHandle slab, nint address, int length)
    {
        Pool = pool;
        Slab = slab;
        Address = address;
        _length = length;
    }

    internal LinePool Pool { get; }

    /// <summary>The mapping the line is in: referenced here so that it lives as long as any line of it.</summary>
    internal SlabHandle Slab { get; }

    internal nint Address { get; }

    public int Length => _length;

    public override Span<byte> GetSpan() => new((void*)Address, _length);

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(elementIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(elementIndex, _length);
        return new MemoryHandle((byte*)Address + elementIndex);
    }

    public override void Unpin()
    {
        // The memory never moves.
    }

    protected override void Dispose(bool disposing)
    {
        // The slab owns the memory; a line is never freed on its own.
    }
}

/// <summary>An anonymous private mapping, unmapped when no line of it is reachable any more.</summary>
internal sealed class SlabHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    private nuint _mapped;

    private SlabHandle()
        : base(ownsHandle: true)
    {
    }

    /// <summary>The first usable byte (aligned as asked).</summary>
    public nint Start { get; private set; }

    /// <summary>Usable bytes from <see cref="Start"/>.</summary>
    public long Length { get; private set; }

    /// <summary>Advised to use huge pages (cleared when backing one was slow).</summary>
    public volatile bool HugePages;

    public static SlabHandle Map(long length, long alignment)
    {
        nuint mapped = (nuint)(length + alignment);
        nint address = NativeMemoryCalls.MapAnonymous(mapped);
        var slab = new SlabHandle { _mapped = mapped, Length = length };
        slab.SetHandle(address);
        slab.Start = (nint)(((long)address + alignment - 1) & ~(alignment - 1));
        return slab;
    }

    protected override bool ReleaseHandle() => NativeMemoryCalls.Unmap(handle, _mapped);
}

/// <summary>What the kernel does with transparent huge pages (read once).</summary>
internal sealed record TransparentHugePages(bool Available, bool CompactsOnFault)
{
    private static readonly Lazy<TransparentHugePages> Read = new(() =>
    {
        string? enabled = Selected("/sys/kernel/mm/transparent_hugepage/enabled");
        string? defrag = Selected("/sys/kernel/mm/transparent_hugepage/defrag");
        return new TransparentHugePages(enabled is "always" or "madvise", defrag is null or "always" or "madvise" or "defer+madvise");
    });

    public static TransparentHugePages Current => Read.Value;

    /// <summary>The bracketed choice of a sysfs setting ("always [madvise] never" → madvise); null when unreadable.</summary>
    internal static string? Selected(string path)
    {
        try
        {
            return Parse(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    internal static string? Parse(string text)
    {
        int open = text.IndexOf('[', StringComparison.Ordinal), close = text.IndexOf(']', StringComparison.Ordinal);
        return open >= 0 && close > open ? text[(open + 1)..close] : null;
    }

    /// <summary>Free blocks of 2 MiB or more, counted in 2 MiB units, over every zone (<c>/proc/buddyinfo</c>); 0 when unreadable.</summary>
    public static long FreeHugeBlocks()
    {
        try
        {
            return CountHugeBlocks(File.ReadAllText("/proc/buddyinfo"), Environment.SystemPageSize);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>
    /// Parses buddyinfo ("Node 0, zone Normal c0 c1 … c10": free blocks of 2^order pages per order) and counts the
    /// blocks of at least 2 MiB in 2 MiB units.
    /// </summary>
    internal static long CountHugeBlocks(string buddyinfo, int pageSize)
    {
        int hugeOrder = System.Numerics.BitOperations.Log2((ulong)(LinePool.HugePageSize / pageSize));
        long total = 0;
        foreach (string row in buddyinfo.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] fields = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            int zone = Array.IndexOf(fields, "zone");
            if (zone < 0)
            {
                continue;
            }
            for (int i = zone + 2, order = 0; i < fields.Length; i++, order++)
            {
                if (order >= hugeOrder && long.TryParse(fields[i], out long count))
                {
                    total += count << (order - hugeOrder);
                }
            }
        }
        return total;
    }
}
