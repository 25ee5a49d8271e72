using System.Runtime.ExceptionServices;

namespace ProxyFs.Testing.Posix;

/// <summary>
/// A dedicated thread for <see cref="LibcTarget"/>: it has its own umask and working-directory state (unshare
/// CLONE_FS) and may take on another user's credentials (raw setresuid/setresgid/setgroups affect only the calling
/// thread), so tests running in parallel never see each other's identity or umask. Credentials are put back to
/// root before the thread ends.
/// </summary>
public static class PosixThread
{
    [ThreadStatic]
    private static PosixUser? _current;

    [ThreadStatic]
    private static uint _umask;

    /// <summary>True on a thread started by <see cref="Run"/>.</summary>
    public static bool IsCurrent => _current is not null;

    /// <summary>Runs <paramref name="action"/> on a new posix thread and waits for it; rethrows its exception.</summary>
    public static void Run(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (IsCurrent)
        {
            action();
            return;
        }
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                if (Native.Syscall(Native.SysUnshare, Native.CloneFs, 0, 0) != 0)
                {
                    throw new InvalidOperationException($"unshare(CLONE_FS) failed: errno {Native.Errno}");
                }
                _umask = 0;
                Native.Umask(0);
                _current = PosixUser.Root;
                try
                {
                    action();
                }
                finally
                {
                    BecomeRoot();
                    _current = null;
                }
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        }, maxStackSize: 16 * 1024 * 1024)
        {
            Name = "posix",
            IsBackground = true,
        };
        thread.Start();
        thread.Join();
        failure?.Throw();
    }

    /// <summary>Sets this posix thread's identity and umask (only what differs from the current ones).</summary>
    internal static void Apply(PosixUser user, uint umask)
    {
        if (_current is null)
        {
            throw new InvalidOperationException("LibcTarget operations must run inside PosixThread.Run (or ScenarioRunner / DifferentialTester, which use it).");
        }
        if (umask != _umask)
        {
            Native.Umask(umask);
            _umask = umask;
        }
        if (user.Equals(_current))
        {
            return;
        }
        BecomeRoot();
        if (!user.IsRoot)
        {
            uint[] groups = [user.Gid, .. user.Groups];
            unsafe
            {
                fixed (uint* list = groups)
                {
                    Check(Native.Syscall(Native.SysSetgroups, groups.Length, (long)list, 0), "setgroups");
                }
            }
            Check(Native.Syscall(Native.SysSetresgid, user.Gid, user.Gid, 0), "setresgid");
            // The saved uid stays 0 so the thread can come back; with real and effective uid not 0 the thread has
            // no effective capabilities, exactly like a process of that user.
            Check(Native.Syscall(Native.SysSetresuid, user.Uid, user.Uid, 0), "setresuid");
        }
        _current = user;
    }

    /// <summary>
    /// Runs <paramref name="action"/> with root's credentials on this thread (a posix thread may be acting as another
    /// user), then takes the user back: for what the process does for itself, such as mounting a filesystem again.
    /// </summary>
    public static T AsRoot<T>(Func<T> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        PosixUser? user = _current;
        BecomeRoot();
        try
        {
            return action();
        }
        finally
        {
            if (user is not null && !user.IsRoot)
            {
                Apply(user, _umask);
            }
        }
    }

    private static void BecomeRoot()
    {
        if (_current is null || _current.IsRoot)
        {
            return;
        }
        Check(Native.Syscall(Native.SysSetresuid, 0, 0, 0), "setresuid");
        Check(Native.Syscall(Native.SysSetresgid, 0, 0, 0), "setresgid");
        uint root = 0;
        unsafe
        {
            Check(Native.Syscall(Native.SysSetgroups, 1, (long)&root, 0), "setgroups");
        }
        _current = PosixUser.Root;
    }

    private static void Check(long result, string call)
    {
        if (result != 0)
        {
            throw new InvalidOperationException($"{call} failed: errno {Native.Errno}");
        }
    }
}
