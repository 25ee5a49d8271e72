using ProxyFs.Core.FileSystem.Inodes;

namespace ProxyFs.Core.FileSystem.Posix;

/// <summary>
/// The inode locks a namespace operation holds from its first change to its commit (as lock_rename and
/// lock_two_nondirectories do): up to four inodes, each once, entered in inode-number order so that two operations
/// never wait on each other. Taken under the namespace write lock; the <c>lock</c> statements of the changes
/// re-enter them (<see cref="Lock"/> is reentrant). An inode created by the operation has the highest number yet,
/// so it is locked after these, with a plain <c>lock</c>.
/// </summary>
internal readonly ref struct InodeLocks
{
    private readonly Inode? _first;
    private readonly Inode? _second;
    private readonly Inode? _third;
    private readonly Inode? _fourth;

    /// <summary>Locks the given inodes (nulls and repeats ignored) in inode-number order.</summary>
    public InodeLocks(Inode a, Inode? b = null, Inode? c = null, Inode? d = null)
    {
        Span<Inode?> all = [a, b, c, d];
        for (int i = 1; i < all.Length; i++)
        {
            for (int j = i; j > 0 && Before(all[j], all[j - 1]); j--)
            {
                (all[j], all[j - 1]) = (all[j - 1], all[j]);
            }
        }
        int count = 0;
        for (int i = 0; i < all.Length; i++)
        {
            if (all[i] is not null && (count == 0 || !ReferenceEquals(all[i], all[count - 1])))
            {
                all[count++] = all[i];
            }
        }
        all[count..].Clear();
        _first = all[0];
        _second = all[1];
        _third = all[2];
        _fourth = all[3];
        _first!.Sync.Enter();
        _second?.Sync.Enter();
        _third?.Sync.Enter();
        _fourth?.Sync.Enter();
    }

    public void Dispose()
    {
        _fourth?.Sync.Exit();
        _third?.Sync.Exit();
        _second?.Sync.Exit();
        _first?.Sync.Exit();
    }

    /// <summary>Nulls last, then by inode number.</summary>
    private static bool Before(Inode? x, Inode? y) => x is not null && (y is null || x.Ino < y.Ino);
}
