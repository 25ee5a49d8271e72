using ProxyFs.Core.FileSystem;
using static ProxyFs.Core.FileSystem.OpenFlags;

namespace ProxyFs.Testing.Scenarios;

public static partial class PosixScenarios
{
    private static IEnumerable<Scenario> Files()
    {
        yield return S("create_write_read", "a new file holds what was written", c =>
        {
            int fd = c.Open("f", O_CREAT | O_RDWR, M(644));
            c.Write(fd, "hello, world");
            c.PRead(fd, 100, 0);
            c.PRead(fd, 5, 7);
            c.FStat(fd);
            c.Close(fd);
            c.Stat("f", StatFields.All);
        });
        yield return S("open_excl_and_missing", "O_EXCL on an existing name, open of a missing one", c =>
        {
            c.WriteFile("f", "x");
            c.OpenErr("f", O_CREAT | O_EXCL | O_WRONLY);
            c.OpenErr("missing", O_RDONLY);
            c.OpenErr("missing/x", O_CREAT | O_WRONLY);
            c.OpenErr("f/x", O_RDONLY);
            c.OpenErr("f", O_RDONLY | O_DIRECTORY);
            c.OpenErr("f", O_CREAT | O_WRONLY);
        });
        yield return S("open_directory_modes", "a directory opens only for reading", c =>
        {
            c.Mkdir("d");
            c.OpenErr("d", O_RDONLY);
            c.OpenErr("d", O_WRONLY);
            c.OpenErr("d", O_RDWR);
            c.OpenErr("d", O_CREAT | O_WRONLY);
            c.OpenErr("d", O_RDONLY | O_DIRECTORY);
            c.OpenErr("d", O_CREAT | O_EXCL | O_RDONLY);
        });
        yield return S("open_trunc", "O_TRUNC empties a file and updates mtime and ctime, even an empty one", c =>
        {
            c.WriteFile("f", ScenarioContext.Pattern(10000, 1));
            var before = c.Observe("f");
            c.Close(c.Open("f", O_WRONLY | O_TRUNC));
            c.Stat("f", StatFields.All);
            c.Times("f", before);
            before = c.Observe("f");
            c.Close(c.Open("f", O_WRONLY | O_TRUNC));
            c.Times("f", before);
        });
        yield return S("open_append", "O_APPEND writes land at the end, pwrite included", c =>
        {
            c.WriteFile("f", "0123456789");
            int fd = c.Open("f", O_WRONLY | O_APPEND);
            c.Write(fd, "abc");
            c.PWrite(fd, "XY", 0);
            c.Seek(fd, 0, SeekWhence.Current);
            c.Close(fd);
            c.ReadFile("f");
        });
        yield return S("pread_pwrite_holes", "writing past the end leaves a hole that reads as zeros", c =>
        {
            int fd = c.Open("f", O_CREAT | O_RDWR);
            c.PWrite(fd, "end", 100000);
            c.PRead(fd, 16, 50000);
            c.PRead(fd, 16, 99998);
            c.PRead(fd, 16, 100003);
            c.PRead(fd, 16, 200000);
            c.FStat(fd, StatFields.All);
            c.Close(fd);
        });
        yield return S("fd_access_modes", "reading a write-only fd and writing a read-only fd fail with EBADF", c =>
        {
            c.WriteFile("f", "data");
            int ro = c.Open("f", O_RDONLY);
            c.Write(ro, "x");
            c.Read(ro, 10);
            int wo = c.Open("f", O_WRONLY);
            c.Read(wo, 10);
            c.Write(wo, "D");
            c.Close(ro);
            c.Close(wo);
            c.ReadFile("f");
        });
        yield return S("read_position_and_seek", "read advances the position; lseek SET/CUR/END", c =>
        {
            c.WriteFile("f", "abcdefghij");
            int fd = c.Open("f", O_RDONLY);
            c.Read(fd, 3);
            c.Read(fd, 3);
            c.Seek(fd, -2, SeekWhence.Current);
            c.Read(fd, 10);
            c.Read(fd, 10);
            c.Seek(fd, -4, SeekWhence.End);
            c.Read(fd, 2);
            c.Seek(fd, -100, SeekWhence.Set);
            c.Seek(fd, 1000, SeekWhence.Set);
            c.Read(fd, 10);
            c.Close(fd);
        });
        yield return S("zero_length_write", "a zero-length write changes nothing, timestamps included", c =>
        {
            c.WriteFile("f", "abc");
            var before = c.Observe("f");
            int fd = c.Open("f", O_WRONLY);
            c.Write(fd, ReadOnlySpan<byte>.Empty);
            c.Close(fd);
            c.Times("f", before);
            c.Stat("f");
        });
        yield return S("large_sequential", "4 MiB written in 1 MiB writes reads back whole", c =>
        {
            int fd = c.Open("f", O_CREAT | O_WRONLY);
            for (int i = 0; i < 4; i++)
            {
                c.Write(fd, ScenarioContext.Pattern(1 << 20, i));
            }
            c.Close(fd);
            c.Stat("f", StatFields.All);
            c.ReadFile("f");
        });
        yield return S("overlapping_writes", "unaligned overlapping writes compose byte by byte", c =>
        {
            int fd = c.Open("f", O_CREAT | O_RDWR);
            var random = new Random(7);
            for (int i = 0; i < 40; i++)
            {
                int offset = random.Next(0, 300000);
                c.PWrite(fd, ScenarioContext.Pattern(random.Next(1, 20000), i), offset);
            }
            c.FStat(fd, StatFields.All);
            c.Close(fd);
            c.ReadFile("f");
        });
        yield return S("truncate_down_and_up", "truncation drops data; growing again reads zeros", c =>
        {
            c.WriteFile("f", ScenarioContext.Pattern(10000, 3));
            c.Truncate("f", 5000);
            c.Stat("f", StatFields.All);
            c.Truncate("f", 20000);
            c.Stat("f", StatFields.All);
            c.ReadFile("f");
            c.Truncate("f", 0);
            c.Stat("f", StatFields.All);
        });
        yield return S("truncate_errors", "negative lengths, directories, read-only descriptors", c =>
        {
            c.WriteFile("f", "abc");
            c.Mkdir("d");
            c.Truncate("f", -1);
            c.Truncate("d", 0);
            c.Truncate("missing", 0);
            int fd = c.Open("f", O_RDONLY);
            c.FTruncate(fd, 1);
            c.Close(fd);
            fd = c.Open("f", O_WRONLY);
            c.FTruncate(fd, -5);
            c.FTruncate(fd, 1);
            c.Close(fd);
            c.Stat("f");
        });
        yield return S("truncate_times", "truncate and ftruncate update mtime and ctime, even to the same size", c =>
        {
            c.WriteFile("f", "abcdef");
            var before = c.Observe("f");
            c.Truncate("f", 3);
            c.Times("f", before);
            before = c.Observe("f");
            c.Truncate("f", 3);
            c.Times("f", before);
            int fd = c.Open("f", O_WRONLY);
            before = c.Observe("f");
            c.FTruncate(fd, 3);
            c.Times("f", before);
            c.Close(fd);
        });
        yield return S("fsync_variants", "fsync and fdatasync on files and directories", c =>
        {
            c.Mkdir("d");
            int fd = c.Open("d/f", O_CREAT | O_WRONLY);
            c.Write(fd, "x");
            c.Fsync(fd);
            c.Fsync(fd, dataOnly: true);
            c.Close(fd);
            int dfd = c.Open("d", O_RDONLY | O_DIRECTORY);
            c.Fsync(dfd);
            c.Close(dfd);
        });
        yield return S("file_size_limit", "writes at the largest offset fail with EFBIG", c =>
        {
            int fd = c.Open("f", O_CREAT | O_RDWR);
            c.PWrite(fd, "x", long.MaxValue);
            c.PWrite(fd, "x", -1);
            c.FStat(fd, StatFields.All);
            c.Close(fd);
        });
        yield return S("unlinked_open_file", "an unlinked file stays readable and writable until closed", c =>
        {
            c.WriteFile("f", "before");
            int fd = c.Open("f", O_RDWR);
            c.Unlink("f");
            c.Stat("f");
            c.FStat(fd);
            c.PWrite(fd, " and after", 6);
            c.PRead(fd, 100, 0);
            c.FTruncate(fd, 3);
            c.FStat(fd, StatFields.All);
            c.Close(fd);
            c.List("");
        });
        yield return S("unlinked_open_two_fds", "two descriptors of an unlinked file see each other's writes", c =>
        {
            c.WriteFile("f", string.Empty);
            int a = c.Open("f", O_RDWR);
            int b = c.Open("f", O_RDONLY);
            c.Unlink("f");
            c.Write(a, "shared");
            c.Close(a);
            c.PRead(b, 100, 0);
            c.FStat(b);
            c.Close(b);
        });
        yield return S("tmpfile_then_link", "O_TMPFILE makes an unnamed file that linkat can name", c =>
        {
            c.Mkdir("d");
            int fd = c.Open("d", O_TMPFILE | O_RDWR, M(600));
            c.Write(fd, "temporary");
            c.FStat(fd);
            c.List("d");
            c.LinkFd(fd, "d/named");
            c.FStat(fd);
            c.Close(fd);
            c.Stat("d/named");
            c.ReadFile("d/named");
        });
        yield return S("tmpfile_rules", "O_TMPFILE needs write access; with O_EXCL it cannot be linked", c =>
        {
            c.Mkdir("d");
            c.OpenErr("d", O_TMPFILE | O_RDONLY, M(600));
            int fd = c.Open("d", O_TMPFILE | O_WRONLY | O_EXCL, M(600));
            c.LinkFd(fd, "d/named");
            c.Close(fd);
            c.OpenErr("missing", O_TMPFILE | O_WRONLY, M(600));
            c.WriteFile("f", "x");
            c.OpenErr("f", O_TMPFILE | O_WRONLY, M(600));
            c.List("d");
        });
        yield return S("copy_file_range", "copy_file_range copies a range and advances positions", c =>
        {
            c.WriteFile("src", ScenarioContext.Pattern(50000, 9));
            int input = c.Open("src", O_RDONLY);
            int output = c.Open("dst", O_CREAT | O_RDWR);
            c.CopyFileRange(input, 1000, output, 0, 20000);
            c.CopyFileRange(input, 49000, output, 30000, 20000);
            c.CopyFileRange(input, 60000, output, 0, 100);
            c.CopyFileRange(input, null, output, null, 4096);
            c.Seek(input, 0, SeekWhence.Current);
            c.Seek(output, 0, SeekWhence.Current);
            c.FStat(output);
            c.Close(input);
            c.Close(output);
            c.ReadFile("dst");
        });
        yield return S("copy_file_range_errors", "copy_file_range misuse", c =>
        {
            c.WriteFile("a", ScenarioContext.Pattern(10000, 2));
            c.Mkdir("d");
            int a = c.Open("a", O_RDWR);
            c.CopyFileRange(a, 0, a, 100, 1000);
            c.CopyFileRange(a, 0, a, 5000, 1000);
            int append = c.Open("b", O_CREAT | O_WRONLY | O_APPEND);
            c.CopyFileRange(a, 0, append, 0, 10);
            int wo = c.Open("a", O_WRONLY);
            c.CopyFileRange(wo, 0, a, 0, 10);
            int dir = c.Open("d", O_RDONLY);
            c.CopyFileRange(dir, 0, a, 0, 10);
            c.CopyFileRange(a, 0, a, 20000, 0);
            c.Close(a);
            c.Close(append);
            c.Close(wo);
            c.Close(dir);
            c.ReadFile("a");
        });
    }
}
