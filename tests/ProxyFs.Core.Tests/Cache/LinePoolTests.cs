using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ProxyFs.Core.Cache;

namespace ProxyFs.Core.Tests.Cache;

/// <summary>The read cache's line memory: native slabs, backed when rented, returned to the system beyond the retained lines.</summary>
public sealed partial class LinePoolTests
{
    private const int Line = 1 << 20;

    [LibraryImport("libc", EntryPoint = "mincore", SetLastError = true)]
    private static partial int Mincore(nint address, nuint length, byte[] vector);

    private static bool[] Resident(LineBuffer line)
    {
        long page = Environment.SystemPageSize;
        byte[] vector = new byte[line.Length / page];
        Assert.Equal(0, Mincore(line.Address, (nuint)line.Length, vector));
        return [.. vector.Select(v => (v & 1) == 1)];
    }

    [Fact]
    public void Rented_lines_are_distinct_backed_and_keep_what_is_written_until_given_back()
    {
        var pool = new LinePool(Line, retain: 4, HugePagePolicy.Never);
        var lines = Enumerable.Range(0, 40).Select(_ => pool.Rent()).ToList(); // more than one 32 MiB slab
        Assert.Equal(2, pool.Slabs);
        Assert.Equal(64, pool.Lines);
        Assert.Equal(40, lines.Select(l => l.Address).Distinct().Count());
        for (int i = 0; i < lines.Count; i++)
        {
            Assert.All(Resident(lines[i]), Assert.True);
            lines[i].GetSpan().Fill((byte)i);
        }
        for (int i = 0; i < lines.Count; i++)
        {
            Assert.True(lines[i].GetSpan().IndexOfAnyExcept((byte)i) < 0, $"line {i} was overwritten");
            Assert.Equal(Line, lines[i].Memory.Length);
        }
        Assert.Equal(0, pool.HugePageSlabs);
    }

    [Fact]
    public void Lines_given_back_beyond_the_retained_ones_return_their_memory_and_are_backed_again_when_rented()
    {
        var pool = new LinePool(Line, retain: 2, HugePagePolicy.Never);
        var lines = Enumerable.Range(0, 5).Select(_ => pool.Rent()).ToList();
        foreach (var line in lines)
        {
            line.GetSpan().Fill(0xAB);
            pool.Return(line);
        }
        Assert.Equal(2, pool.Free);
        // The first two given back are kept backed (and keep their bytes); the other three were discarded.
        Assert.All(Resident(lines[0]), Assert.True);
        Assert.All(Resident(lines[1]), Assert.True);
        foreach (var line in lines.Skip(2))
        {
            Assert.All(Resident(line), Assert.False);
        }
        var again = Enumerable.Range(0, 5).Select(_ => pool.Rent()).ToList();
        Assert.Equal(lines.Select(l => l.Address).Order(), again.Select(l => l.Address).Order()); // no new memory
        Assert.Equal(1, pool.Slabs);
        foreach (var line in again)
        {
            Assert.All(Resident(line), Assert.True);
        }
    }

    [Fact]
    public void A_line_of_another_pool_is_refused()
    {
        var one = new LinePool(Line, 1, HugePagePolicy.Never);
        var other = new LinePool(Line, 1, HugePagePolicy.Never);
        Assert.Throws<ArgumentException>(() => other.Return(one.Rent()));
    }

    [Fact]
    public void A_huge_page_slab_is_backed_by_huge_pages_where_the_kernel_offers_them()
    {
        var pool = new LinePool(Line, 4, HugePagePolicy.Always);
        var first = pool.Rent();
        var second = pool.Rent();
        Assert.Equal(0, (long)first.Address % LinePool.HugePageSize);
        Assert.Equal(first.Address + Line, second.Address);
        Assert.Equal(1, pool.HugePageSlabs);
        first.GetSpan().Fill(1);
        second.GetSpan().Fill(2);
        long hugeKb = AnonHugePagesKb(first.Address);
        if (TransparentHugePages.Current.Available)
        {
            // Two lines share one 2 MiB page: renting the first backed both.
            Assert.True(hugeKb >= 2048, $"the slab has {hugeKb} kB of huge pages (THP: {File.ReadAllText("/sys/kernel/mm/transparent_hugepage/enabled").Trim()})");
        }
        else
        {
            Assert.Equal(0, hugeKb);
        }
        Assert.True(first.GetSpan().IndexOfAnyExcept((byte)1) < 0);
        Assert.True(second.GetSpan().IndexOfAnyExcept((byte)2) < 0);
    }

    [Fact]
    public void A_slab_is_unmapped_once_none_of_its_lines_is_reachable()
    {
        (nint first, nint second, WeakReference pool) = RentFromTwoSlabs();
        Collect(pool);
        // The line still held keeps its slab mapped (mincore answers for mapped memory only) and its pool alive; the
        // first slab, whose lines were all rented and dropped (never given back), is gone although the pool lives.
        Assert.True(pool.IsAlive);
        Assert.Equal(0, Mincore(second, Line, new byte[Line / Environment.SystemPageSize]));
        Assert.Equal(-1, Mincore(first, Line, new byte[Line / Environment.SystemPageSize]));
        Assert.Equal(12, Marshal.GetLastPInvokeError()); // ENOMEM: not mapped
        _held = null;
        Collect(pool);
        Assert.False(pool.IsAlive);
        Assert.Equal(-1, Mincore(second, Line, new byte[Line / Environment.SystemPageSize]));
    }

    private static LineBuffer? _held;

    private static void Collect(WeakReference pool)
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        GC.KeepAlive(pool);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (nint First, nint Second, WeakReference Pool) RentFromTwoSlabs()
    {
        var pool = new LinePool(Line, 0, HugePagePolicy.Never);
        var lines = Enumerable.Range(0, 33).Select(_ => pool.Rent()).ToList();
        _held = lines[^1]; // the second slab's first line
        return (lines[0].Address, lines[^1].Address, new WeakReference(pool));
    }

    [Fact]
    public void The_kernel_settings_are_read_from_their_bracketed_choice_and_buddyinfo_counts_2_MiB_blocks()
    {
        Assert.Equal("madvise", TransparentHugePages.Parse("always [madvise] never\n"));
        Assert.Equal("defer+madvise", TransparentHugePages.Parse("always defer [defer+madvise] madvise never"));
        Assert.Null(TransparentHugePages.Parse("garbage"));
        const string Buddy = """
            Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      3
            Node 0, zone    DMA32      5      4      3      2      1      1      1      1      1      2    100
            Node 0, zone   Normal    100     50     20     10      5      3      2      1      0      7   4000
            """;
        // 4 KiB pages: order 9 is 2 MiB (1 unit), order 10 is 4 MiB (2 units).
        Assert.Equal(1 + 6 + 2 + 200 + 7 + 8000, TransparentHugePages.CountHugeBlocks(Buddy, 4096));
        Assert.True(TransparentHugePages.FreeHugeBlocks() >= 0);
    }

    private static long AnonHugePagesKb(nint address)
    {
        bool inside = false;
        foreach (string row in File.ReadLines("/proc/self/smaps"))
        {
            int dash = row.IndexOf('-', StringComparison.Ordinal), space = row.IndexOf(' ', StringComparison.Ordinal);
            if (dash > 0 && space > dash && long.TryParse(row.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out long start)
                && long.TryParse(row.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out long end))
            {
                inside = address >= start && address < end;
            }
            else if (inside && row.StartsWith("AnonHugePages:", StringComparison.Ordinal))
            {
                return long.Parse(row.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            }
        }
        throw new InvalidOperationException($"no mapping holds 0x{address:x}");
    }
}
