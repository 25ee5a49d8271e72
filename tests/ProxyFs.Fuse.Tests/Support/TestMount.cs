using System.Runtime.CompilerServices;
using ProxyFs.Fuse.Mounting;
using ProxyFs.Fuse.Native;

namespace ProxyFs.Fuse.Tests.Support;

/// <summary>
/// A real mount of a test filesystem under /tmp/proxyfs-test-* (the prefix CI cleans up). Every operation on the mount
/// runs with a timeout that aborts the mount if it expires, so a broken server fails the test instead of hanging it;
/// Dispose unmounts (lazily if it must) and removes the directory.
/// </summary>
internal sealed class TestMount : IDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    private TestMount(string path, FuseSession session, List<string> log)
    {
        Path = path;
        Session = session;
        LogLines = log;
    }

    public string Path { get; }

    public FuseSession Session { get; }

    public List<string> LogLines { get; }

    public string this[string name] => System.IO.Path.Combine(Path, name);

    /// <summary>A new empty directory /tmp/proxyfs-test-&lt;test&gt;-&lt;random&gt;.</summary>
    public static string NewMountPoint([CallerMemberName] string test = "")
    {
        string name = new(test.Where(char.IsAsciiLetterOrDigit).Take(40).ToArray());
        string path = $"/tmp/proxyfs-test-{name}-{Guid.NewGuid():N}"[..^20];
        Directory.CreateDirectory(path);
        return path;
    }

    public static TestMount Start(IFuseOperations fs, FuseMountOptions? options = null, [CallerMemberName] string test = "")
    {
        string path = NewMountPoint(test);
        var log = new List<string>();
        var source = options ?? new FuseMountOptions();
        var effective = new FuseMountOptions
        {
            FsName = source.FsName,
            Subtype = source.Subtype,
            AllowOther = source.AllowOther,
            DefaultPermissions = source.DefaultPermissions,
            ReadOnly = source.ReadOnly,
            WritebackCache = source.WritebackCache,
            ReaderThreads = source.ReaderThreads,
            ReaderHandoff = source.ReaderHandoff,
            Debug = source.Debug,
            ReadAheadKb = source.ReadAheadKb,
            ForceFusermount = source.ForceFusermount,
            ExtraOptions = source.ExtraOptions,
            InitTimeout = TimeSpan.FromSeconds(15),
            Log = (level, line) =>
            {
                lock (log)
                {
                    log.Add($"{level}: {line}");
                }
                source.Log?.Invoke(level, line);
            },
        };
        try
        {
            return new TestMount(path, FuseSession.Mount(path, fs, effective), log);
        }
        catch
        {
            Cleanup(path);
            throw;
        }
    }

    /// <summary>Runs <paramref name="action"/> against the mount; on timeout aborts the mount and throws.</summary>
    public T Io<T>(Func<T> action, TimeSpan? timeout = null) => Bounded(Path, action, timeout ?? DefaultTimeout);

    public void Io(Action action, TimeSpan? timeout = null) => Bounded(Path, () =>
    {
        action();
        return true;
    }, timeout ?? DefaultTimeout);

    public static T Bounded<T>(string mountPoint, Func<T> action, TimeSpan timeout)
    {
        var task = Task.Run(action);
        bool done;
        try
        {
            done = task.Wait(timeout);
        }
        catch (AggregateException ex) when (ex.InnerExceptions.Count == 1)
        {
            throw ex.InnerExceptions[0];
        }
        if (!done)
        {
            // Abort the connection so the stuck syscall returns, then fail the test.
            Libc.Umount2(mountPoint, Libc.MNT_FORCE | Libc.MNT_DETACH);
            throw new TimeoutException($"operation on {mountPoint} did not finish within {timeout.TotalSeconds} s; the mount was aborted");
        }
        return task.Result;
    }

    /// <summary>Lines of the mount line in /proc/mounts for this mount point, if any.</summary>
    public static string? ProcMountsLine(string path) =>
        File.ReadAllLines("/proc/mounts").LastOrDefault(l => l.Split(' ') is { Length: > 2 } f && MountInfo.Unescape(f[1]) == path);

    public void Dispose()
    {
        try
        {
            Session.Dispose();
        }
        finally
        {
            Cleanup(Path);
        }
    }

    /// <summary>Detaches whatever is still mounted at <paramref name="path"/> and removes the directory.</summary>
    public static void Cleanup(string path)
    {
        for (int i = 0; i < 5 && MountInfo.Find(path) is not null; i++)
        {
            Libc.Umount2(path, Libc.MNT_DETACH);
        }
        if (MountInfo.Find(path) is null && Directory.Exists(path))
        {
            Directory.Delete(path, recursive: false);
        }
    }
}
