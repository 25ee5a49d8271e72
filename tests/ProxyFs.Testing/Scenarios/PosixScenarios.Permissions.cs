using ProxyFs.Core.FileSystem;
using ProxyFs.Testing.Posix;
using static ProxyFs.Core.FileSystem.OpenFlags;

namespace ProxyFs.Testing.Scenarios;

public static partial class PosixScenarios
{
    private static readonly PosixUser[] ScenarioUsers = [PosixUser.Root, PosixUser.Alice, PosixUser.Bob, PosixUser.Carol];

    /// <summary>A file owned by Alice (uid 1000, group 1000) with <paramref name="mode"/>.</summary>
    private static void AliceFile(ScenarioContext c, string path, uint mode, string content = "secret")
    {
        c.WriteFile(path, content, mode);
        c.Chown(path, 1000, 1000);
        c.Chmod(path, mode);
    }

    private static IEnumerable<Scenario> Permissions()
    {
        foreach (int mode in new[] { 600, 640, 604, 660, 606, 0, 70, 7, 444, 222 })
        {
            int m = mode;
            yield return S($"perm_open_{m:D3}", $"open for reading and writing a file of mode {m:D3} as each user", c =>
            {
                AliceFile(c, "f", M(m));
                foreach (PosixUser user in ScenarioUsers)
                {
                    using (c.As(user))
                    {
                        c.OpenErr("f", O_RDONLY);
                        c.OpenErr("f", O_WRONLY);
                        c.OpenErr("f", O_RDWR);
                        c.Access("f", AccessMode.R_OK);
                        c.Access("f", AccessMode.W_OK);
                        c.Access("f", AccessMode.X_OK);
                    }
                }
            });
        }
        yield return S("perm_root_execute", "root may execute only what has an x bit; every directory is searchable", c =>
        {
            c.WriteFile("f", "x", M(644));
            c.Access("f", AccessMode.X_OK);
            c.Chmod("f", M(1));
            c.Access("f", AccessMode.X_OK);
            c.Chmod("f", M(10));
            c.Access("f", AccessMode.X_OK | AccessMode.R_OK | AccessMode.W_OK);
            c.Mkdir("d", M(0));
            c.Access("d", AccessMode.X_OK);
            c.WriteFile("d/inner", "y");
            c.ReadFile("d/inner");
            c.Access("f", 8);
            c.Access("missing", AccessMode.F_OK);
        });
        yield return S("perm_directory_search", "without x on a directory nothing below it can be reached", c =>
        {
            c.Mkdir("d", M(755));
            c.WriteFile("d/f", "x", M(644));
            c.Chown("d", 1000, 1000);
            c.Chmod("d", M(600));
            using (c.As(PosixUser.Alice))
            {
                c.Stat("d/f");
                c.OpenErr("d/f", O_RDONLY);
                c.List("d");
                c.Unlink("d/f");
                c.Mkdir("d/x");
            }
            c.Chmod("d", M(711));
            using (c.As(PosixUser.Bob))
            {
                c.Stat("d/f");
                c.List("d");
                c.ReadFile("d/f");
            }
        });
        yield return S("perm_directory_write", "making and removing names needs write and search permission", c =>
        {
            c.Mkdir("d", M(755));
            c.WriteFile("d/f", "x");
            using (c.As(PosixUser.Alice))
            {
                c.OpenErr("d/new", O_CREAT | O_WRONLY);
                c.Mkdir("d/sub");
                c.Unlink("d/f");
                c.Rename("d/f", "d/g");
                c.Symlink("f", "d/l");
                c.Link("d/f", "d/l");
                c.OpenErr("d/f", O_CREAT | O_EXCL | O_WRONLY);
                c.Mkdir("d/f");
            }
            c.Chmod("d", M(777));
            using (c.As(PosixUser.Alice))
            {
                c.Unlink("d/f");
                c.Mkdir("d/sub");
                c.Stat("d/sub");
            }
        });
        yield return S("perm_owner_class_wins", "the owner class applies to the owner even when group or other allow more", c =>
        {
            AliceFile(c, "f", M(77));
            using (c.As(PosixUser.Alice))
            {
                c.OpenErr("f", O_RDONLY);
            }
            using (c.As(PosixUser.Bob))
            {
                c.OpenErr("f", O_RDWR);
            }
            c.Chown("f", 1001, 1000);
            using (c.As(PosixUser.Bob))
            {
                c.OpenErr("f", O_RDONLY);
            }
        });
        yield return S("perm_supplementary_groups", "supplementary groups grant group access", c =>
        {
            c.WriteFile("f", "x", M(640));
            c.Chown("f", 0, 1000);
            foreach (PosixUser user in ScenarioUsers)
            {
                using (c.As(user))
                {
                    c.OpenErr("f", O_RDONLY);
                }
            }
            using (c.As(new PosixUser(1003, 1003, 1002, 1000)))
            {
                c.OpenErr("f", O_RDONLY);
            }
        });
        yield return S("perm_chmod", "only the owner or root may chmod", c =>
        {
            AliceFile(c, "f", M(644));
            using (c.As(PosixUser.Bob))
            {
                c.Chmod("f", M(777));
            }
            using (c.As(PosixUser.Alice))
            {
                c.Chmod("f", M(600));
                c.Chmod("f", M(4755));
            }
            c.Stat("f");
            c.Chmod("f", M(7777));
            c.Stat("f");
        });
        yield return S("perm_chown", "chown is root's; the owner may only give the file to one of its groups", c =>
        {
            AliceFile(c, "f", M(644));
            using (c.As(PosixUser.Alice))
            {
                c.Chown("f", 1001, -1);
                c.Chown("f", 1000, -1);
                c.Chown("f", -1, 1002);
                c.Chown("f", -1, 1000);
            }
            c.Chown("f", 1001, 1001);
            using (c.As(PosixUser.Bob))
            {
                c.Chown("f", -1, 1000);
                c.Stat("f");
                c.Chown("f", -1, 1002);
            }
            using (c.As(PosixUser.Carol))
            {
                c.Chown("f", -1, 1001);
            }
            c.Stat("f");
            c.Symlink("f", "l");
            c.Chown("l", 1002, 1002, follow: false);
            c.LStat("l");
            c.Stat("l");
        });
        yield return S("perm_utimes", "setting times: touch needs write access, explicit times need ownership", c =>
        {
            AliceFile(c, "f", M(666));
            using (c.As(PosixUser.Bob))
            {
                c.Utimens("f", PosixTime.Now, PosixTime.Now);
                c.Utimens("f", PosixTime.At(1000), PosixTime.At(2000));
                c.Utimens("f", PosixTime.Now, PosixTime.Omit);
                c.Utimens("f", PosixTime.Omit, PosixTime.Omit);
            }
            c.Chmod("f", M(644));
            using (c.As(PosixUser.Bob))
            {
                c.Utimens("f", PosixTime.Now, PosixTime.Now);
            }
            using (c.As(PosixUser.Alice))
            {
                c.Chmod("f", M(444));
                c.Utimens("f", PosixTime.Now, PosixTime.Now);
                c.Utimens("f", PosixTime.At(1000, 5), PosixTime.At(2000, 999999999));
            }
            c.ExactTimes("f");
            c.Utimens("f", PosixTime.At(1, 1000000000), PosixTime.Omit);
        });
        yield return S("perm_noatime", "O_NOATIME is for the owner and root", c =>
        {
            AliceFile(c, "f", M(644));
            using (c.As(PosixUser.Bob))
            {
                c.OpenErr("f", O_RDONLY | O_NOATIME);
                c.OpenErr("f", O_RDONLY);
            }
            using (c.As(PosixUser.Alice))
            {
                c.OpenErr("f", O_RDONLY | O_NOATIME);
            }
            c.OpenErr("f", O_RDONLY | O_NOATIME);
        });
        yield return S("perm_trunc_needs_write", "O_TRUNC needs write permission even with O_RDONLY", c =>
        {
            AliceFile(c, "f", M(644), "content");
            using (c.As(PosixUser.Bob))
            {
                c.OpenErr("f", O_RDONLY | O_TRUNC);
                c.Truncate("f", 0);
            }
            c.Stat("f");
            using (c.As(PosixUser.Alice))
            {
                c.Truncate("f", 2);
            }
            c.Stat("f");
        });
        yield return S("perm_umask", "the umask clears bits of new files and directories", c =>
        {
            c.Umask = M(27);
            c.WriteFile("f", "x", M(666));
            c.Mkdir("d", M(777));
            c.Mknod("p", ModeBits.S_IFIFO | M(666));
            c.Symlink("f", "l");
            c.Umask = 0;
            c.Stat("f");
            c.Stat("d");
            c.Stat("p");
            c.LStat("l");
        });
        yield return S("perm_created_file_opens", "a file created with mode 000 is still opened read-write by its creator", c =>
        {
            using (c.As(PosixUser.Alice))
            {
                int fd = c.Open("f", O_CREAT | O_RDWR, M(0));
                c.Write(fd, "x");
                c.PRead(fd, 10, 0);
                c.Close(fd);
                c.OpenErr("f", O_RDONLY);
            }
            c.Stat("f");
        });
        yield return S("perm_hardlink_protection", "protected hardlinks: no links to others' files one cannot read and write", c =>
        {
            AliceFile(c, "f", M(644));
            AliceFile(c, "g", M(666));
            using (c.As(PosixUser.Bob))
            {
                c.Link("f", "bob-f");
                c.Link("g", "bob-g");
            }
            using (c.As(PosixUser.Alice))
            {
                c.Link("f", "alice-f");
            }
            c.Stat("f");
        });
        yield return S("perm_hardlink_protection_kinds", "protected hardlinks in a directory anyone may write: only regular files one may read and write, neither setuid nor executable setgid; EEXIST comes first, EPERM before EACCES", c =>
        {
            c.Mkdir("d", M(777));
            c.Chmod("d", M(777));
            foreach ((string name, int mode) in new[] { ("rw", 666), ("ro", 644), ("none", 600), ("suid", 4666), ("sgid_x", 2676), ("sgid", 2666), ("group_rw", 660) })
            {
                AliceFile(c, "d/" + name, M(mode));
            }
            c.Mknod("d/fifo", ModeBits.S_IFIFO | M(666));
            c.Chown("d/fifo", 1000, 1000);
            c.Symlink("rw", "d/sym");
            c.Chown("d/sym", 1000, 1000, follow: false);
            string[] sources = ["rw", "ro", "none", "suid", "sgid_x", "sgid", "group_rw", "fifo", "sym"];
            foreach (PosixUser user in new[] { PosixUser.Bob, PosixUser.Carol })
            {
                using (c.As(user))
                {
                    foreach (string source in sources)
                    {
                        c.Link("d/" + source, $"d/{source}.{user.Uid}");
                    }
                    c.Link("d/none", "d/rw");
                }
            }
            using (c.As(PosixUser.Alice))
            {
                c.Link("d/none", "d/none.alice");
                c.Link("d/suid", "d/suid.alice");
                c.Link("d/fifo", "d/fifo.alice");
            }
            c.Link("d/none", "d/none.root");
            c.Mkdir("shut", M(755));
            using (c.As(PosixUser.Bob))
            {
                c.Link("d/none", "shut/none");
                c.Link("d/rw", "shut/rw");
            }
            c.Stat("d/none");
            c.Stat("d/rw");
            c.List("d");
        });
    }
}
