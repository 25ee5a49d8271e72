using ProxyFs.Core.FileSystem;
using static ProxyFs.Core.FileSystem.OpenFlags;

namespace ProxyFs.Testing.Scenarios;

public static partial class PosixScenarios
{
    private static IEnumerable<Scenario> Names_()
    {
        yield return S("hard_links", "hard links share data; nlink counts names", c =>
        {
            c.WriteFile("a", "shared");
            c.Link("a", "b");
            c.Stat("a");
            c.Stat("b");
            c.WriteFile("b", "changed through b");
            c.ReadFile("a");
            c.Unlink("a");
            c.Stat("b");
            c.Link("b", "b");
            c.Link("missing", "c");
            c.Link("b", "missing/c");
        });
        yield return S("hard_link_many", "a hundred links to one file", c =>
        {
            c.Mkdir("d");
            c.WriteFile("f", "x");
            for (int i = 0; i < 100; i++)
            {
                Target(c).Link(c.P("f"), c.P($"d/l{i}"));
            }
            c.Stat("f");
            for (int i = 0; i < 100; i += 2)
            {
                Target(c).Unlink(c.P($"d/l{i}"));
            }
            c.Stat("f");
            c.Stat("d/l99");
        });
        yield return S("link_directory", "directories cannot be hard-linked", c =>
        {
            c.Mkdir("d");
            c.Link("d", "e");
            c.Stat("d");
        });
        yield return S("symlinks", "symlinks: readlink, stat follows, lstat does not", c =>
        {
            c.WriteFile("f", "target data");
            c.Symlink("f", "l");
            c.ReadLink("l");
            c.Stat("l");
            c.LStat("l", StatFields.All);
            c.ReadFile("l");
            c.ReadLink("f");
            c.Symlink("f", "l");
            c.Symlink("dangling", "d");
            c.Stat("d");
            c.LStat("d");
            c.OpenErr("d", O_RDONLY);
            c.OpenErr("l", O_RDONLY | O_NOFOLLOW);
        });
        yield return S("creat_through_dangling_symlink", "O_CREAT follows a dangling symlink and makes its target", c =>
        {
            c.Mkdir("d");
            c.Symlink("d/target", "link");
            c.OpenErr("link", O_CREAT | O_EXCL | O_WRONLY);
            c.OpenErr("link", O_CREAT | O_WRONLY | O_NOFOLLOW);
            c.WriteFile("link", "made through the link");
            c.Stat("d/target");
            c.ReadFile("d/target");
            c.Symlink("missing-dir/x", "link2");
            c.OpenErr("link2", O_CREAT | O_WRONLY);
        });
        yield return S("symlink_in_path", "symlinks in the middle of a path are followed, relative to their directory", c =>
        {
            c.Mkdir("real");
            c.Mkdir("real/sub");
            c.WriteFile("real/sub/f", "deep");
            c.Symlink("real", "alias");
            c.Symlink("../real/sub", "real/up");
            c.ReadFile("alias/sub/f");
            c.ReadFile("alias/up/f");
            c.Stat("alias/sub");
            c.Mkdir("alias/new");
            c.Stat("real/new");
        });
        yield return S("symlink_loop", "a symlink loop gives ELOOP", c =>
        {
            c.Symlink("b", "a");
            c.Symlink("a", "b");
            c.Stat("a");
            c.OpenErr("a", O_RDONLY);
            c.LStat("a");
            c.Symlink("self/x", "self");
            c.Stat("self");
        });
        yield return S("symlink_limits", "symlink targets up to 4095 bytes; empty targets are ENOENT", c =>
        {
            c.Symlink(new string('t', 4095), "long");
            c.LStat("long", StatFields.All);
            c.ReadLink("long");
            c.Symlink(new string('t', 4096), "toolong");
            c.Symlink(new string('t', 200), "medium");
            c.LStat("medium", StatFields.All);
            c.Symlink(string.Empty, "empty");
        });
        yield return S("name_length", "names up to 255 bytes; 256 is ENAMETOOLONG everywhere", c =>
        {
            string ok = new('n', 255);
            string bad = new('n', 256);
            c.WriteFile(ok, "x");
            c.Stat(ok);
            c.OpenErr(bad, O_CREAT | O_WRONLY);
            c.Mkdir(bad);
            c.Stat(bad);
            c.Rename(ok, bad);
            c.Link(ok, bad);
            c.Symlink(ok, bad);
            c.Unlink(bad);
            c.List("");
            string utf8 = string.Concat(Enumerable.Repeat("é", 128));
            c.WriteFile(utf8, "two bytes each");
            c.Stat(utf8);
        });
        yield return S("unicode_names", "names are bytes: UTF-8, spaces, punctuation", c =>
        {
            foreach (string name in new[] { "ünïcødé", "日本語", "with space", "semi;colon", "-dash", ".hidden", "..dots", "emoji😀" })
            {
                c.WriteFile(name, name);
            }
            c.List("");
            c.ReadFile("日本語");
        });
        yield return S("special_files", "fifos, sockets and devices are made with mknod", c =>
        {
            c.Mknod("fifo", ModeBits.S_IFIFO | M(644));
            c.Mknod("sock", ModeBits.S_IFSOCK | M(644));
            c.Mknod("chr", ModeBits.S_IFCHR | M(600), 1, 3);
            c.Mknod("blk", ModeBits.S_IFBLK | M(600), 8, 300);
            c.Mknod("reg", M(640));
            c.Mknod("dir", ModeBits.S_IFDIR | M(755));
            c.Mknod("bad", 0xF000 | M(644));
            c.Mknod("fifo", ModeBits.S_IFIFO | M(644));
            foreach (string name in new[] { "fifo", "sock", "chr", "blk", "reg" })
            {
                c.Stat(name, StatFields.All);
            }
            c.OpenErr("sock", O_RDONLY);
            c.List("");
        });
        yield return S("mknod_as_user", "devices need root; fifos do not", c =>
        {
            using (c.As(Posix.PosixUser.Alice))
            {
                c.Mknod("chr", ModeBits.S_IFCHR | M(600), 1, 3);
                c.Mknod("fifo", ModeBits.S_IFIFO | M(600));
            }
            c.Stat("fifo");
            c.Chmod("", M(755));
            using (c.As(Posix.PosixUser.Alice))
            {
                c.Mknod("chr2", ModeBits.S_IFCHR | M(600), 1, 3);
                c.Mknod("fifo2", ModeBits.S_IFIFO | M(600));
            }
        });
    }

    private static Posix.IPosixTarget Target(ScenarioContext c) => c.Target;
}
