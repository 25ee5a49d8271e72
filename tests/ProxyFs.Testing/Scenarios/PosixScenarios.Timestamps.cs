using ProxyFs.Core.FileSystem;
using ProxyFs.Testing.Posix;
using static ProxyFs.Core.FileSystem.OpenFlags;

namespace ProxyFs.Testing.Scenarios;

/// <summary>
/// Timestamp scenarios record how times moved relative to an observation (a stat) made just before; Linux gives an
/// inode whose times were observed a fine-grained timestamp on its next change, so "advanced" is reliable. atime is
/// only compared after it was set explicitly, since the kernel updates it from a coarse clock.
/// </summary>
public static partial class PosixScenarios
{
    private static readonly PosixTime LongAgo = PosixTime.At(1_000_000_000, 123_456_789);
    private static readonly PosixTime FarFuture = PosixTime.At(4_000_000_000, 1);

    private static IEnumerable<Scenario> Timestamps()
    {
        yield return S("times_create", "creating a name updates the directory's mtime and ctime", c =>
        {
            c.Mkdir("d");
            foreach (string kind in new[] { "file", "dir", "symlink", "fifo", "link" })
            {
                var before = c.Observe("d");
                switch (kind)
                {
                    case "file":
                        c.Close(c.Open("d/file", O_CREAT | O_WRONLY));
                        break;
                    case "dir":
                        c.Mkdir("d/dir");
                        break;
                    case "symlink":
                        c.Symlink("file", "d/symlink");
                        break;
                    case "fifo":
                        c.Mknod("d/fifo", ModeBits.S_IFIFO | M(644));
                        break;
                    default:
                        ScenarioContext.LetClockTick();
                        c.Link("d/file", "d/link");
                        break;
                }
                c.Times("d", before);
            }
        });
        yield return S("times_write", "a write updates mtime and ctime, not atime", c =>
        {
            c.WriteFile("f", "x");
            int fd = c.Open("f", O_WRONLY);
            var before = c.Observe("f");
            c.Write(fd, "more");
            c.Times("f", before);
            c.Close(fd);
        });
        yield return S("times_read_relatime", "a read updates an atime older than mtime or a day old, not a newer one", c =>
        {
            c.WriteFile("f", "content");
            c.Utimens("f", LongAgo, PosixTime.Omit);
            var before = c.Observe("f");
            c.ReadFile("f");
            c.Times("f", before);
            c.Utimens("f", FarFuture, PosixTime.Omit);
            c.ReadFile("f");
            c.ExactTimes("f", atime: true, mtime: false);
        });
        yield return S("times_noatime_read", "reads through an O_NOATIME descriptor leave atime alone", c =>
        {
            c.WriteFile("f", "content");
            c.Utimens("f", LongAgo, PosixTime.Omit);
            int fd = c.Open("f", O_RDONLY | O_NOATIME);
            c.Read(fd, 100);
            c.Close(fd);
            c.ExactTimes("f", atime: true, mtime: false);
        });
        yield return S("times_readdir_atime", "listing a directory updates its old atime", c =>
        {
            c.Mkdir("d");
            c.WriteFile("d/f", "x");
            c.Utimens("d", LongAgo, PosixTime.Omit);
            var before = c.Observe("d");
            c.List("d");
            c.Times("d", before);
        });
        yield return S("times_attribute_changes", "chmod, chown, link, unlink and xattrs change ctime only", c =>
        {
            c.WriteFile("f", "x");
            foreach (string op in new[] { "chmod", "chown", "chown-same", "link", "unlink", "setxattr", "removexattr", "utimens-omit" })
            {
                var before = c.Observe("f");
                switch (op)
                {
                    case "chmod":
                        c.Chmod("f", M(600));
                        break;
                    case "chown":
                        c.Chown("f", 1000, 1000);
                        break;
                    case "chown-same":
                        c.Chown("f", 1000, 1000);
                        break;
                    case "link":
                        c.Link("f", "g");
                        break;
                    case "unlink":
                        c.Unlink("g");
                        break;
                    case "setxattr":
                        c.SetXattr("f", "user.k", "v");
                        break;
                    case "removexattr":
                        c.RemoveXattr("f", "user.k");
                        break;
                    default:
                        c.Utimens("f", PosixTime.Omit, PosixTime.Omit);
                        break;
                }
                c.Times("f", before);
            }
        });
        yield return S("times_utimens", "utimensat sets exact nanoseconds, omits, or takes now", c =>
        {
            c.WriteFile("f", "x");
            c.Utimens("f", PosixTime.At(1234567890, 987654321), PosixTime.At(1500000000, 1));
            c.ExactTimes("f");
            c.Utimens("f", PosixTime.Omit, PosixTime.At(1600000000, 42));
            c.ExactTimes("f");
            var before = c.Observe("f");
            c.Utimens("f", PosixTime.Now, PosixTime.Omit);
            c.Times("f", before);
            c.ExactTimes("f", atime: false, mtime: true);
            c.Utimens("f", PosixTime.At(-1, 500), PosixTime.At(0, 0));
            c.ExactTimes("f");
            c.Utimens("f", PosixTime.At(0, -1), PosixTime.Omit);
        });
        yield return S("times_symlink_nofollow", "utimensat with AT_SYMLINK_NOFOLLOW sets the link's own times", c =>
        {
            c.WriteFile("f", "x");
            c.Symlink("f", "l");
            c.Utimens("l", PosixTime.At(1000), PosixTime.At(2000), follow: false);
            c.Utimens("l", PosixTime.At(3000), PosixTime.At(4000));
            c.ExactTimes("f");
            var link = c.Observe("l", follow: false);
            c.Log($"link mtime {link.Mtime}, atime still set: {link.Atime == new Core.FileSystem.Timespec(1000, 0)}");
        });
        yield return S("times_unlink_parent", "removing names updates the directory; the remaining link's ctime moves", c =>
        {
            c.Mkdir("d");
            c.WriteFile("d/f", "x");
            c.Link("d/f", "d/g");
            var dir = c.Observe("d");
            var file = c.Observe("d/g");
            ScenarioContext.LetClockTick();
            c.Unlink("d/f");
            c.Times("d", dir);
            c.Times("d/g", file);
            c.Mkdir("d/sub");
            dir = c.Observe("d");
            ScenarioContext.LetClockTick();
            c.Rmdir("d/sub");
            c.Times("d", dir);
        });
        yield return S("times_dir_unchanged_by_file_write", "writing a file does not touch its directory", c =>
        {
            c.Mkdir("d");
            c.WriteFile("d/f", "x");
            var dir = c.Observe("d");
            int fd = c.Open("d/f", O_WRONLY);
            c.Write(fd, "data");
            c.Close(fd);
            c.Truncate("d/f", 1);
            c.Times("d", dir);
        });
    }
}
