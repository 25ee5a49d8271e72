using ProxyFs.Core.FileSystem;
using static ProxyFs.Core.FileSystem.OpenFlags;

namespace ProxyFs.Testing.Scenarios;

public static partial class PosixScenarios
{
    private static IEnumerable<Scenario> Sparse()
    {
        yield return S("sparse_terabyte", "a 1 TB sparse file costs nothing; SEEK_DATA finds the one page written", c =>
        {
            const long tb = 1L << 40;
            int fd = c.Open("f", O_CREAT | O_RDWR);
            c.FTruncate(fd, tb);
            c.FStat(fd, StatFields.All);
            c.PWrite(fd, "needle", tb / 2);
            c.FStat(fd, StatFields.All);
            c.Seek(fd, 0, SeekWhence.Data);
            c.Seek(fd, 0, SeekWhence.Hole);
            c.Seek(fd, tb / 2, SeekWhence.Hole);
            c.Seek(fd, (tb / 2) + 4096, SeekWhence.Data);
            c.PRead(fd, 10, (tb / 2) - 2);
            c.PRead(fd, 10, tb - 5);
            c.Close(fd);
        });
        yield return S("seek_data_hole", "SEEK_DATA and SEEK_HOLE page by page; ENXIO at the end", c =>
        {
            int fd = c.Open("f", O_CREAT | O_RDWR);
            c.PWrite(fd, ScenarioContext.Pattern(5000, 1), 0);
            c.PWrite(fd, ScenarioContext.Pattern(100, 2), 65536 + 10);
            c.PWrite(fd, ScenarioContext.Pattern(10, 3), 300000);
            foreach (long offset in new long[] { 0, 100, 4096, 8191, 8192, 60000, 65536, 65546, 70000, 200000, 299999, 300009, 300010, 400000, -1 })
            {
                c.Seek(fd, offset, SeekWhence.Data);
                c.Seek(fd, offset, SeekWhence.Hole);
            }
            c.FStat(fd, StatFields.All);
            c.Close(fd);
        });
        yield return S("seek_data_empty_file", "an empty file has neither data nor hole", c =>
        {
            int fd = c.Open("f", O_CREAT | O_RDWR);
            c.Seek(fd, 0, SeekWhence.Data);
            c.Seek(fd, 0, SeekWhence.Hole);
            c.FTruncate(fd, 10000);
            c.Seek(fd, 0, SeekWhence.Data);
            c.Seek(fd, 0, SeekWhence.Hole);
            c.Close(fd);
        });
        yield return S("fallocate_allocate", "plain fallocate extends the size and allocates, keep-size does not extend", c =>
        {
            int fd = c.Open("f", O_CREAT | O_RDWR);
            c.Fallocate(fd, 0, 0, 10000);
            c.FStat(fd, StatFields.All);
            c.Seek(fd, 0, SeekWhence.Data);
            c.Fallocate(fd, FallocateMode.KeepSize, 20000, 10000);
            c.FStat(fd, StatFields.All);
            c.PRead(fd, 100, 5000);
            c.Fallocate(fd, 0, 0, 100);
            c.FStat(fd, StatFields.All);
            c.FTruncate(fd, 10000);
            c.FStat(fd, StatFields.All);
            c.Close(fd);
        });
        yield return S("fallocate_twice", "a page fallocated twice becomes data; once, it stays a hole", c =>
        {
            int fd = c.Open("f", O_CREAT | O_RDWR);
            c.Fallocate(fd, FallocateMode.KeepSize, 4096, 20986);
            c.Fallocate(fd, 0, 17612, 13110);
            foreach (long offset in new long[] { 0, 4096, 16384, 20480, 24576, 28672 })
            {
                c.Seek(fd, offset, SeekWhence.Data);
                c.Seek(fd, offset, SeekWhence.Hole);
            }
            c.FStat(fd, StatFields.All);
            c.Close(fd);
            c.ReadFile("f");
        });
        yield return S("fallocate_punch_hole", "punching frees whole pages and zeroes partial ones", c =>
        {
            int fd = c.Open("f", O_CREAT | O_RDWR);
            c.PWrite(fd, ScenarioContext.Pattern(40000, 5), 0);
            c.Fallocate(fd, FallocateMode.PunchHole | FallocateMode.KeepSize, 4096, 8192);
            c.FStat(fd, StatFields.All);
            c.Fallocate(fd, FallocateMode.PunchHole | FallocateMode.KeepSize, 20000, 100);
            c.FStat(fd, StatFields.All);
            c.Fallocate(fd, FallocateMode.PunchHole | FallocateMode.KeepSize, 30000, 50000);
            c.FStat(fd, StatFields.All);
            c.Seek(fd, 0, SeekWhence.Hole);
            c.Seek(fd, 4096, SeekWhence.Data);
            c.Close(fd);
            c.ReadFile("f");
        });
        yield return S("fallocate_errors", "fallocate misuse", c =>
        {
            c.Mkdir("d");
            int fd = c.Open("f", O_CREAT | O_RDWR);
            c.Fallocate(fd, FallocateMode.PunchHole, 0, 100);
            c.Fallocate(fd, 0, 0, 0);
            c.Fallocate(fd, 0, -1, 10);
            c.Fallocate(fd, FallocateMode.CollapseRange, 0, 4096);
            c.Fallocate(fd, FallocateMode.PunchHole | FallocateMode.ZeroRange | FallocateMode.KeepSize, 0, 4096);
            c.Fallocate(fd, 0, long.MaxValue - 10, 100);
            c.Close(fd);
            int ro = c.Open("f", O_RDONLY);
            c.Fallocate(ro, 0, 0, 10);
            c.Close(ro);
            int dir = c.Open("d", O_RDONLY);
            c.Fallocate(dir, 0, 0, 10);
            c.Close(dir);
        });
        yield return S("fallocate_times", "fallocate updates mtime and ctime even when it changes nothing", c =>
        {
            int fd = c.Open("f", O_CREAT | O_RDWR);
            c.Write(fd, "abc");
            var before = c.ObserveFd(fd);
            c.Fallocate(fd, 0, 0, 3);
            c.TimesFd(fd, before, "f");
            before = c.ObserveFd(fd);
            c.Fallocate(fd, FallocateMode.PunchHole | FallocateMode.KeepSize, 10000, 10);
            c.TimesFd(fd, before, "f");
            c.Close(fd);
        });
    }
}
