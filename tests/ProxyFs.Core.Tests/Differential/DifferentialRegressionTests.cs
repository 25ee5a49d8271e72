using ProxyFs.Core.FileSystem.Memory;
using ProxyFs.Testing;
using ProxyFs.Testing.Differential;
using ProxyFs.Testing.Posix;

namespace ProxyFs.Core.Tests.Differential;

/// <summary>
/// Shrunk sequences on which the differential test once found the in-memory filesystem (or the VFS emulation of
/// FileSystemTarget) differing from tmpfs; each is now fixed and kept here. Operations are in
/// <see cref="DiffOp"/> text form, separated by '|'.
/// </summary>
public sealed class DifferentialRegressionTests
{
    public static TheoryData<string, string> Sequences => new()
    {
        // The walk checks search permission on the last directory before the target's parent is even walked.
        { "rename_needs_search_on_source_parent", "root Mkdir path=d1 slot=2 a=448|carol Rename path=d1/a path2=d0/a slot=2 a=1" },
        // O_NOATIME on a directory is the owner's, like on a file.
        { "noatime_directory_open", "root Mkdir path=b slot=2 a=1533|carol Open path=b slot=2 a=262144 b=511" },
        // O_DIRECTORY is checked before the O_NOFOLLOW symlink ELOOP.
        { "directory_before_nofollow", "root Symlink path=d0 path2=c slot=1|alice Open path=c slot=2 a=196736 b=1460" },
        // O_CREAT on an existing symlink of another user in a sticky world-writable directory (may_create_in_sticky).
        { "create_in_sticky", "bob Mkdir path=d1 slot=2 a=1023|alice Symlink path=d0/a path2=d1/a slot=2|carol Open path=d1/a slot=2 a=131138" },
        // chown(-1, -1) of a setuid file by a non-owner: the implied mode change needs ownership.
        { "chown_noop_kills_suid", "root Mkdir path=d1 slot=0 a=511|root Open path=d1/b slot=2 a=66 b=2541|bob Chown path=d1/b slot=1 a=-1 b=-1" },
        // A zero-length write with O_APPEND leaves the position alone.
        { "empty_append_write", "root Open path=b slot=2 a=1602 b=511|root FTruncate slot=2 a=53337|bob Append slot=2" },
        // copy_file_range of nothing into an O_APPEND file is still EBADF.
        { "copy_nothing_to_append", "alice Open path=d0 slot=2 a=1090 b=493|root CopyRange slot=2 slot2=2 a=24576" },
        // A page fallocated twice becomes data (SEEK_DATA finds it).
        { "fallocate_twice_is_data", "root Open path=d0 slot=2 a=262210 b=1517|root Fallocate slot=2 a=1 b=4096 c=20986|root Fallocate slot=2 a=0 b=17612 c=13110|carol Seek slot=2 a=3 b=20480" },
        // Opening a socket checks permissions before it fails with ENXIO.
        { "socket_open_permission", "bob Mknod path=a slot=0 a=49572|alice Open path=a slot=2 a=2 b=292" },
        // ...and O_TRUNC asks for write permission even on a socket.
        { "socket_open_trunc_permission", "root Mknod path=b slot=2 a=50612|carol Open path=b slot=1 a=512 b=292" },
    };

    [Theory]
    [MemberData(nameof(Sequences))]
    public void Shrunk_failure_stays_fixed(string name, string sequence)
    {
        using TempDirectory dir = TempDirectory.Create(name);
        using var reference = new LibcTarget(dir.Path, "tmpfs");
        using var subject = new FileSystemTarget(new MemoryFileSystem(), "memfs");
        List<DiffOp> ops = sequence.Split('|').Select(DiffOp.Parse).ToList();
        Divergence? divergence = new DifferentialTester(reference, subject).Execute(ops);
        Assert.True(divergence is null, $"{divergence?.What}\nreference: {divergence?.Reference}\nsubject:   {divergence?.Subject}");
    }
}
