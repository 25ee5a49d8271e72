using ProxyFs.Core.FileSystem;
using ProxyFs.Core.FileSystem.Inodes;

namespace ProxyFs.Core.Tests.Inodes;

public sealed class MonotonicClockTests
{
    [Fact]
    public void Times_strictly_increase_across_threads()
    {
        var clock = new MonotonicClock();
        var all = new System.Collections.Concurrent.ConcurrentBag<Timespec>();
        Parallel.For(0, 4, _ =>
        {
            Timespec last = default;
            for (int i = 0; i < 10_000; i++)
            {
                Timespec now = clock.Now();
                Assert.True(now > last);
                last = now;
                all.Add(now);
            }
        });
        Assert.Equal(all.Count, all.Distinct().Count());
    }

    [Fact]
    public void A_given_clock_is_used_as_is()
    {
        var clock = new MonotonicClock(() => new Timespec(5, 6));
        Assert.Equal(new Timespec(5, 6), clock.Now());
        Assert.Equal(new Timespec(5, 6), clock.Now());
    }

    [Fact]
    public void Times_go_past_a_floor()
    {
        var clock = new MonotonicClock();
        var future = new Timespec(clock.Now().Seconds + 3600, 5);
        clock.AdvancePast(future);
        Assert.True(clock.Now() > future);
        clock.AdvancePast(new Timespec(1, 0)); // an older floor changes nothing
        Assert.True(clock.Now() > future);
    }
}
