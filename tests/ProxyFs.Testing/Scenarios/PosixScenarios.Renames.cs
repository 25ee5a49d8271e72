using ProxyFs.Core.FileSystem;
using static ProxyFs.Core.FileSystem.OpenFlags;

namespace ProxyFs.Testing.Scenarios;

public static partial class PosixScenarios
{
    private static IEnumerable<Scenario> Renames()
    {
        yield return S("rename_file_over_file", "a renamed file replaces the target, which lives on while open", c =>
        {
            c.WriteFile("a", "from a");
            c.WriteFile("b", "from b");
            int fd = c.Open("b", O_RDONLY);
            c.Rename("a", "b");
            c.Stat("a");
            c.ReadFile("b");
            c.FStat(fd);
            c.PRead(fd, 100, 0);
            c.Close(fd);
            c.List("");
        });
        yield return S("rename_dir_over_dir", "a directory replaces an empty directory only", c =>
        {
            c.Mkdir("a");
            c.WriteFile("a/inside", "x");
            c.Mkdir("empty");
            c.Mkdir("full");
            c.WriteFile("full/f", "y");
            c.Rename("a", "full");
            c.Rename("a", "empty");
            c.Stat("a");
            c.List("empty");
            c.Stat("", StatFields.Nlink);
        });
        yield return S("rename_type_mismatch", "directory over file is ENOTDIR; file over directory is EISDIR", c =>
        {
            c.Mkdir("d");
            c.WriteFile("f", "x");
            c.Rename("d", "f");
            c.Rename("f", "d");
            c.Stat("d");
            c.Stat("f");
        });
        yield return S("rename_into_itself", "a directory cannot move below itself; its ancestor cannot be replaced", c =>
        {
            c.Mkdir("a");
            c.Mkdir("a/b");
            c.Mkdir("a/b/c");
            c.Rename("a", "a/b/c/d");
            c.Rename("a", "a/x");
            c.Rename("a/b/c", "a");
            c.Rename("a/b", "a/b");
            c.Rename("a/b/c", "a/c");
            c.List("a");
        });
        yield return S("rename_hard_links", "renaming one name of an inode onto another does nothing", c =>
        {
            c.WriteFile("a", "x");
            c.Link("a", "b");
            var before = c.Observe("a");
            c.Rename("a", "b");
            c.Stat("a");
            c.Stat("b");
            c.Times("b", before);
            c.List("");
        });
        yield return S("rename_noreplace", "RENAME_NOREPLACE refuses an existing target", c =>
        {
            c.WriteFile("a", "a");
            c.WriteFile("b", "b");
            c.Rename("a", "b", RenameFlags.NoReplace);
            c.Rename("a", "c", RenameFlags.NoReplace);
            c.List("");
            c.ReadFile("b");
        });
        yield return S("rename_exchange_files", "RENAME_EXCHANGE swaps two names", c =>
        {
            c.WriteFile("a", "content a");
            c.WriteFile("b", "content b, longer");
            c.Rename("a", "b", RenameFlags.Exchange);
            c.ReadFile("a");
            c.ReadFile("b");
            c.Rename("a", "missing", RenameFlags.Exchange);
            c.Rename("a", "b", RenameFlags.Exchange | RenameFlags.NoReplace);
            c.Rename("a", "b", (RenameFlags)0x40);
        });
        yield return S("rename_exchange_dir_and_file", "exchanging a directory and a file across parents fixes nlink and ..", c =>
        {
            c.Mkdir("p1");
            c.Mkdir("p2");
            c.Mkdir("p1/dir");
            c.WriteFile("p1/marker1", "1");
            c.WriteFile("p2/marker2", "2");
            c.WriteFile("p2/file", "f");
            c.Stat("p1");
            c.Stat("p2");
            c.Rename("p1/dir", "p2/file", RenameFlags.Exchange);
            c.Stat("p1");
            c.Stat("p2");
            c.Stat("p2/file");
            c.Stat("p1/dir");
            c.ReadFile("p2/file/../marker2");
            c.ReadFile("p1/dir");
        });
        yield return S("rename_exchange_into_subtree", "exchanging a directory with something below it is EINVAL", c =>
        {
            c.Mkdir("a");
            c.Mkdir("a/b");
            c.Rename("a", "a/b", RenameFlags.Exchange);
            c.Rename("a/b", "a", RenameFlags.Exchange);
        });
        yield return S("rename_dir_across_parents", "moving a directory updates both parents' nlink and its ..", c =>
        {
            c.Mkdir("p1");
            c.Mkdir("p2");
            c.Mkdir("p1/d");
            c.WriteFile("p2/marker", "here");
            c.Rename("p1/d", "p2/d");
            c.Stat("p1");
            c.Stat("p2");
            c.ReadFile("p2/d/../marker");
            c.Rename("p2/d", "d");
            c.Stat("p2");
            c.Stat("", StatFields.Nlink);
        });
        yield return S("rename_errors", "rename of missing names, dots, and into missing directories", c =>
        {
            c.Mkdir("d");
            c.WriteFile("f", "x");
            c.Rename("missing", "x");
            c.Rename("f", "missing/x");
            c.Rename("f", "f/x");
            c.Rename("d/.", "x");
            c.Rename("f", "d/..");
            c.Rename("f", "d/..", RenameFlags.NoReplace);
            c.Rename("f", "f");
            c.List("");
        });
        yield return S("rename_times", "rename updates both directories and the moved inode's ctime, not its mtime", c =>
        {
            c.Mkdir("p1");
            c.Mkdir("p2");
            c.WriteFile("p1/f", "x");
            c.WriteFile("p2/g", "y");
            int fd = c.Open("p2/g", O_RDONLY);
            var p1 = c.Observe("p1");
            var p2 = c.Observe("p2");
            var f = c.Observe("p1/f");
            var g = c.ObserveFd(fd);
            c.Rename("p1/f", "p2/g");
            c.Times("p1", p1);
            c.Times("p2", p2);
            c.Times("p2/g", f);
            c.TimesFd(fd, g, "replaced");
            c.FStat(fd);
            c.Close(fd);
        });
    }
}
