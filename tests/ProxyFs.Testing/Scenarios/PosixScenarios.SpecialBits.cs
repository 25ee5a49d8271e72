using ProxyFs.Core.FileSystem;
using ProxyFs.Testing.Posix;
using static ProxyFs.Core.FileSystem.OpenFlags;

namespace ProxyFs.Testing.Scenarios;

public static partial class PosixScenarios
{
    private static IEnumerable<Scenario> SpecialBits()
    {
        yield return S("sticky_unlink", "in a sticky directory only the file's owner, the directory's owner and root remove", c =>
        {
            c.Mkdir("tmp", M(1777));
            c.Chmod("tmp", M(1777));
            using (c.As(PosixUser.Alice))
            {
                c.WriteFile("tmp/alice1", "a", M(666));
                c.WriteFile("tmp/alice2", "a", M(666));
                c.Mkdir("tmp/alicedir", M(777));
            }
            using (c.As(PosixUser.Bob))
            {
                c.Unlink("tmp/alice1");
                c.Rmdir("tmp/alicedir");
                c.Rename("tmp/alice1", "tmp/bob");
                c.WriteFile("tmp/bob", "b", M(666));
                c.Rename("tmp/bob", "tmp/alice2");
                c.OpenErr("tmp/alice1", O_WRONLY);
            }
            c.Chown("tmp", 1001, 1001);
            using (c.As(PosixUser.Bob))
            {
                c.Unlink("tmp/alice1");
            }
            c.Unlink("tmp/alice2");
            c.List("tmp");
        });
        yield return S("sticky_exchange", "RENAME_EXCHANGE in a sticky directory needs rights over both entries", c =>
        {
            c.Mkdir("tmp", M(1777));
            c.Chmod("tmp", M(1777));
            using (c.As(PosixUser.Alice))
            {
                c.WriteFile("tmp/a", "a");
            }
            using (c.As(PosixUser.Bob))
            {
                c.WriteFile("tmp/b", "b");
                c.Rename("tmp/b", "tmp/a", RenameFlags.Exchange);
            }
            c.Rename("tmp/b", "tmp/a", RenameFlags.Exchange);
            c.ReadFile("tmp/a");
        });
        yield return S("setgid_directory", "entries made in a setgid directory take its group; subdirectories its bit too", c =>
        {
            c.Mkdir("shared", M(2775));
            c.Chown("shared", 0, 1000);
            c.Chmod("shared", M(2777));
            using (c.As(PosixUser.Carol))
            {
                c.WriteFile("shared/file", "x", M(644));
                c.Mkdir("shared/sub", M(755));
                c.Symlink("file", "shared/link");
                c.Mknod("shared/fifo", ModeBits.S_IFIFO | M(644));
                c.Mkdir("shared/sub/deeper", M(700));
            }
            c.Stat("shared/file");
            c.Stat("shared/sub");
            c.LStat("shared/link");
            c.Stat("shared/fifo");
            c.Stat("shared/sub/deeper");
            c.Stat("shared");
        });
        yield return S("setgid_strip_on_create", "a group-executable setgid file made by a non-member loses sgid", c =>
        {
            c.Mkdir("shared", M(2777));
            c.Chown("shared", 0, 1000);
            c.Chmod("shared", M(2777));
            using (c.As(PosixUser.Carol))
            {
                c.WriteFile("shared/carol", "x", M(2755));
                c.WriteFile("shared/carol-noexec", "x", M(2745));
            }
            using (c.As(PosixUser.Bob))
            {
                c.WriteFile("shared/bob", "x", M(2755));
            }
            c.Stat("shared/carol");
            c.Stat("shared/carol-noexec");
            c.Stat("shared/bob");
        });
        yield return S("suid_cleared_on_write", "a write by anyone but root clears suid; root's write keeps it", c =>
        {
            AliceFile(c, "f", M(4777), "program");
            int fd = c.Open("f", O_WRONLY);
            c.Write(fd, "root writes");
            c.Close(fd);
            c.Stat("f");
            using (c.As(PosixUser.Bob))
            {
                fd = c.Open("f", O_WRONLY);
                c.Write(fd, "bob writes");
                c.Close(fd);
            }
            c.Stat("f");
        });
        yield return S("sgid_cleared_on_write", "sgid goes on write when group-executable or the writer is outside the group", c =>
        {
            AliceFile(c, "gx", M(2777));
            AliceFile(c, "nogx", M(2767));
            AliceFile(c, "nogx2", M(2767));
            using (c.As(PosixUser.Bob))
            {
                int fd = c.Open("gx", O_WRONLY);
                c.Write(fd, "x");
                c.Close(fd);
                fd = c.Open("nogx", O_WRONLY);
                c.Write(fd, "x");
                c.Close(fd);
            }
            using (c.As(PosixUser.Carol))
            {
                int fd = c.Open("nogx2", O_WRONLY);
                c.Write(fd, "x");
                c.Close(fd);
            }
            c.Stat("gx");
            c.Stat("nogx");
            c.Stat("nogx2");
        });
        yield return S("suid_cleared_on_truncate", "truncate and O_TRUNC by a non-root user clear suid", c =>
        {
            AliceFile(c, "a", M(4766));
            AliceFile(c, "b", M(4766));
            AliceFile(c, "c", M(4766));
            using (c.As(PosixUser.Alice))
            {
                c.Truncate("a", 1);
                c.OpenErr("b", O_WRONLY | O_TRUNC);
            }
            c.Truncate("c", 1);
            c.Stat("a");
            c.Stat("b");
            c.Stat("c");
        });
        yield return S("suid_cleared_on_chown", "chown clears suid, and sgid when group-executable, even for root", c =>
        {
            AliceFile(c, "a", M(6755));
            AliceFile(c, "b", M(6745));
            c.Mkdir("d", M(6755));
            c.Chown("a", 1001, -1);
            c.Chown("b", -1, 1001);
            c.Chown("d", 1001, 1001);
            c.Stat("a");
            c.Stat("b");
            c.Stat("d");
            AliceFile(c, "e", M(2745));
            using (c.As(PosixUser.Alice))
            {
                c.Chown("e", -1, 1000);
            }
            c.Stat("e");
        });
        yield return S("sgid_dropped_on_chmod", "chmod by a non-member, non-root owner drops sgid silently", c =>
        {
            AliceFile(c, "f", M(644));
            c.Chown("f", 1000, 1002);
            using (c.As(PosixUser.Alice))
            {
                c.Chmod("f", M(2755));
            }
            c.Stat("f");
            c.Chmod("f", M(2755));
            c.Stat("f");
            c.Chown("f", 1000, 1000);
            using (c.As(PosixUser.Alice))
            {
                c.Chmod("f", M(2755));
            }
            c.Stat("f");
        });
    }
}
