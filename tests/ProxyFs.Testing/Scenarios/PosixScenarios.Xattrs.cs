using ProxyFs.Core.FileSystem;
using ProxyFs.Testing.Posix;

namespace ProxyFs.Testing.Scenarios;

public static partial class PosixScenarios
{
    private static IEnumerable<Scenario> Xattrs()
    {
        yield return S("xattr_basic", "set, get, list and remove user attributes", c =>
        {
            c.WriteFile("f", "x");
            c.SetXattr("f", "user.one", "1");
            c.SetXattr("f", "user.two", "second value");
            c.SetXattr("f", "user.one", "replaced");
            c.GetXattr("f", "user.one");
            c.GetXattr("f", "user.two");
            c.GetXattr("f", "user.missing");
            c.ListXattr("f");
            c.RemoveXattr("f", "user.one");
            c.RemoveXattr("f", "user.one");
            c.ListXattr("f");
        });
        yield return S("xattr_flags", "XATTR_CREATE and XATTR_REPLACE", c =>
        {
            c.WriteFile("f", "x");
            c.SetXattr("f", "user.k", "v", XattrFlags.Replace);
            c.SetXattr("f", "user.k", "v", XattrFlags.Create);
            c.SetXattr("f", "user.k", "w", XattrFlags.Create);
            c.SetXattr("f", "user.k", "w", XattrFlags.Replace);
            c.SetXattr("f", "user.k", "z", XattrFlags.Create | XattrFlags.Replace);
            c.GetXattr("f", "user.k");
        });
        yield return S("xattr_size_protocol", "a zero-size buffer asks for the size; a short one is ERANGE", c =>
        {
            c.WriteFile("f", "x");
            c.SetXattr("f", "user.k", "0123456789");
            c.SetXattr("f", "user.other", "v");
            c.GetXattr("f", "user.k", 0);
            c.GetXattr("f", "user.k", 5);
            c.GetXattr("f", "user.k", 10);
            c.ListXattr("f", 0);
            c.ListXattr("f", 5);
            c.ListXattr("f", 22);
        });
        yield return S("xattr_limits", "names up to 255 bytes, values up to 64 KiB, empty values", c =>
        {
            c.WriteFile("f", "x");
            string longName = "user." + new string('n', 250);
            c.SetXattr("f", longName, "v");
            c.GetXattr("f", longName);
            c.SetXattr("f", longName + "x", "v");
            c.GetXattr("f", longName + "x");
            c.SetXattr("f", string.Empty, "v");
            c.SetXattr("f", "user.big", ScenarioContext.Pattern(65536, 1));
            c.GetXattr("f", "user.big");
            c.SetXattr("f", "user.toobig", ScenarioContext.Pattern(65537, 1));
            c.SetXattr("f", "user.empty", ReadOnlySpan<byte>.Empty);
            c.GetXattr("f", "user.empty", 0);
            c.GetXattr("f", "user.empty", 10);
            c.ListXattr("f");
        });
        yield return S("xattr_namespaces", "trusted is root's, security is writable by root only, others unsupported", c =>
        {
            c.WriteFile("f", "x", M(666));
            c.SetXattr("f", "trusted.t", "root only");
            c.SetXattr("f", "security.s", "label");
            c.SetXattr("f", "system.posix_acl_foo", "x");
            c.SetXattr("f", "other.x", "x");
            c.SetXattr("f", "user.", "x");
            c.SetXattr("f", "user.u", "x");
            c.ListXattr("f");
            using (c.As(PosixUser.Alice))
            {
                c.GetXattr("f", "trusted.t");
                c.SetXattr("f", "trusted.t2", "x");
                c.RemoveXattr("f", "trusted.t");
                c.GetXattr("f", "security.s");
                c.SetXattr("f", "security.s2", "x");
                c.GetXattr("f", "user.u");
                c.SetXattr("f", "user.alice", "x");
                c.GetXattr("f", "other.x");
                c.ListXattr("f");
            }
            c.ListXattr("f");
        });
        yield return S("xattr_file_types", "user attributes only on regular files and directories", c =>
        {
            c.WriteFile("f", "x");
            c.Mkdir("d");
            c.Symlink("f", "l");
            c.Mknod("p", ModeBits.S_IFIFO | M(666));
            c.SetXattr("d", "user.k", "dir value");
            c.GetXattr("d", "user.k");
            c.SetXattr("l", "user.k", "v");
            c.GetXattr("l", "user.k");
            c.SetXattr("l", "trusted.k", "v");
            c.GetXattr("l", "trusted.k");
            c.SetXattr("p", "user.k", "v");
            c.GetXattr("p", "user.k");
            c.SetXattr("l", "user.via-link", "v", follow: true);
            c.ListXattr("f");
            c.ListXattr("l");
        });
        yield return S("xattr_permissions", "user attributes follow the file's read and write permissions", c =>
        {
            AliceFile(c, "f", M(640));
            c.SetXattr("f", "user.k", "v");
            using (c.As(PosixUser.Bob))
            {
                c.GetXattr("f", "user.k");
                c.SetXattr("f", "user.k", "bob");
                c.RemoveXattr("f", "user.k");
                c.ListXattr("f");
            }
            using (c.As(PosixUser.Carol))
            {
                c.GetXattr("f", "user.k");
                c.ListXattr("f");
            }
            using (c.As(PosixUser.Alice))
            {
                c.Chmod("f", M(400));
                c.SetXattr("f", "user.k", "alice");
            }
        });
        yield return S("xattr_sticky_directory", "in a sticky directory only the owner writes user attributes of it", c =>
        {
            c.Mkdir("d", M(1777));
            c.Chmod("d", M(1777));
            using (c.As(PosixUser.Alice))
            {
                c.SetXattr("d", "user.k", "v");
            }
            c.SetXattr("d", "user.k", "root");
            c.Chown("d", 1000, 1000);
            using (c.As(PosixUser.Alice))
            {
                c.SetXattr("d", "user.k", "alice");
                c.GetXattr("d", "user.k");
            }
        });
        yield return S("statfs", "statfs reports the block size and the name limit", c =>
        {
            c.WriteFile("f", "x");
            c.StatFs("");
            c.StatFs("f");
            c.StatFs("missing");
        });
    }
}
