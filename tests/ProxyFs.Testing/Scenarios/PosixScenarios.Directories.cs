using ProxyFs.Core.FileSystem;
using ProxyFs.Testing.Posix;
using static ProxyFs.Core.FileSystem.OpenFlags;

namespace ProxyFs.Testing.Scenarios;

public static partial class PosixScenarios
{
    private static IEnumerable<Scenario> Directories()
    {
        yield return S("mkdir_rmdir_nlink", "a directory's nlink counts its subdirectories", c =>
        {
            c.Mkdir("d", M(750));
            c.Stat("d");
            c.Mkdir("d/a");
            c.Mkdir("d/b");
            c.WriteFile("d/f", "x");
            c.Stat("d");
            c.Rmdir("d/a");
            c.Stat("d");
            c.Stat("d/b");
        });
        yield return S("mkdir_errors", "mkdir of existing names and in missing directories", c =>
        {
            c.Mkdir("d");
            c.Mkdir("d");
            c.WriteFile("f", "x");
            c.Mkdir("f");
            c.Mkdir("missing/d");
            c.Mkdir("f/d");
            c.Mkdir("d/.");
            c.Mkdir("d/..");
            c.Mkdir("d/sub/");
            c.Stat("d/sub");
        });
        yield return S("mkdir_mode_bits", "mkdir keeps rwx and sticky bits, drops suid and sgid", c =>
        {
            c.Mkdir("a", M(7777));
            c.Mkdir("b", M(1700));
            c.Mkdir("c", M(0));
            c.Stat("a");
            c.Stat("b");
            c.Stat("c");
        });
        yield return S("rmdir_errors", "rmdir of non-empty directories, files, dot and dotdot", c =>
        {
            c.Mkdir("d");
            c.WriteFile("d/f", "x");
            c.Rmdir("d");
            c.Rmdir("d/f");
            c.Rmdir("d/.");
            c.Rmdir("d/..");
            c.Rmdir("missing");
            c.Unlink("d");
            c.Unlink("d/missing");
            c.Unlink("d/f");
            c.Rmdir("d");
            c.Stat("d");
        });
        yield return S("readdir_types", "readdir names every entry with its type", c =>
        {
            c.Mkdir("d");
            c.WriteFile("d/file", "x");
            c.Mkdir("d/dir");
            c.Symlink("file", "d/link");
            c.Mknod("d/fifo", ModeBits.S_IFIFO | M(644));
            c.Mknod("d/sock", ModeBits.S_IFSOCK | M(644));
            c.List("d");
            c.List("d/dir");
            c.List("d/file");
            c.List("missing");
        });
        yield return S("readdir_dots", "every listing starts with . and ..", c =>
        {
            c.Mkdir("d");
            c.OpenDir("d", out int dir);
            var first = c.ReadDirQuiet(dir);
            var second = c.ReadDirQuiet(dir);
            var end = c.ReadDirQuiet(dir);
            c.Log($"entries: {first?.Name}:{first?.Type} {second?.Name}:{second?.Type} end={end is null}");
            c.CloseDir(dir);
        });
        yield return S("readdir_rm_rf", "deleting every entry as it is listed (rm -rf) sees each entry once", c =>
        {
            c.Mkdir("d");
            for (int i = 0; i < 300; i++)
            {
                c.Target.Open(c.P($"d/file-{i:D4}"), O_CREAT | O_WRONLY, M(644), out int fd);
                c.Target.Close(fd);
            }
            c.OpenDir("d", out int dir);
            var seen = new HashSet<string>();
            int duplicates = 0;
            int unlinkFailures = 0;
            while (c.ReadDirQuiet(dir) is { } entry)
            {
                if (entry.Name is "." or "..")
                {
                    continue;
                }
                if (!seen.Add(entry.Name))
                {
                    duplicates++;
                }
                if (c.Target.Unlink(c.P("d/" + entry.Name)) != 0)
                {
                    unlinkFailures++;
                }
            }
            c.CloseDir(dir);
            c.Log($"seen={seen.Count} duplicates={duplicates} unlink-failures={unlinkFailures}");
            c.List("d");
            c.Rmdir("d");
        });
        yield return S("readdir_while_creating", "entries present throughout a listing are seen exactly once", c =>
        {
            c.Mkdir("d");
            for (int i = 0; i < 100; i++)
            {
                c.Target.Mkdir(c.P($"d/old-{i:D3}"), M(755));
            }
            c.OpenDir("d", out int dir);
            var counts = new Dictionary<string, int>();
            int added = 0;
            while (c.ReadDirQuiet(dir) is { } entry)
            {
                counts[entry.Name] = counts.GetValueOrDefault(entry.Name) + 1;
                if (added < 100)
                {
                    c.Target.Mkdir(c.P($"d/new-{added++:D3}"), M(755));
                }
            }
            c.CloseDir(dir);
            int olds = counts.Count(kv => kv.Key.StartsWith("old-", StringComparison.Ordinal) && kv.Value == 1);
            bool noDuplicates = counts.Values.All(v => v == 1);
            c.Log($"old entries seen once={olds} no-duplicates={noDuplicates}");
            c.Stat("d", StatFields.Nlink);
        });
        yield return S("readdir_removed_directory", "a removed directory lists nothing, not even dot entries", c =>
        {
            c.Mkdir("d");
            c.OpenDir("d", out int dir);
            c.Rmdir("d");
            var entry = c.ReadDirQuiet(dir);
            c.Log($"after rmdir: {(entry is null ? "end" : entry.Value.Name)}");
            c.CloseDir(dir);
        });
        yield return S("many_files", "2000 files in 20 directories", c =>
        {
            for (int d = 0; d < 20; d++)
            {
                c.Target.Mkdir(c.P($"d{d}"), M(755));
                for (int f = 0; f < 100; f++)
                {
                    c.Target.Open(c.P($"d{d}/f{f}"), O_CREAT | O_WRONLY, M(644), out int fd);
                    c.Target.Write(fd, ScenarioContext.Pattern(f, f), out _);
                    c.Target.Close(fd);
                }
            }
            c.List("d7");
            c.Stat("d19/f99");
            long total = 0;
            for (int d = 0; d < 20; d++)
            {
                for (int f = 0; f < 100; f += 7)
                {
                    c.Target.Stat(c.P($"d{d}/f{f}"), out PosixStat st);
                    total += st.Size;
                }
            }
            c.Log($"sampled bytes {total}");
        });
        yield return S("deep_tree", "a tree 60 levels deep", c =>
        {
            string path = string.Empty;
            for (int i = 0; i < 60; i++)
            {
                path += (i == 0 ? string.Empty : "/") + "level" + i;
                c.Target.Mkdir(c.P(path), M(755));
            }
            c.WriteFile(path + "/leaf", "bottom");
            c.ReadFile(path + "/leaf");
            c.Stat(path);
            c.Rmdir("level0");
        });
        yield return S("dot_and_dotdot_paths", "paths through . and .. resolve as the tree says", c =>
        {
            c.Mkdir("a");
            c.Mkdir("a/b");
            c.WriteFile("a/f", "in a");
            c.ReadFile("a/b/../f");
            c.ReadFile("a/./b/./../f");
            c.Stat("a/b/..");
            c.Stat("a/f/..");
            c.Stat("a/f/.");
        });
    }
}
