using System.Diagnostics;
using ProxyFs.Integration.Tests.Support;
using ProxyFs.Testing;
using Xunit.Abstractions;

namespace ProxyFs.Integration.Tests;

/// <summary>
/// SQLite on a file:// volume — a database that relies on fsync, and on creating, renaming and deleting its journal —
/// with the daemon killed (kill -9) in the middle of its transactions: after each remount the database passes its
/// integrity check and holds every transaction whose COMMIT had returned.
/// </summary>
public sealed class DatabaseCrashTests(ITestOutputHelper output)
{
    private const int RowsPerTransaction = 20;
    private const int Cycles = 3;

    [Theory]
    [InlineData("wal")]
    [InlineData("delete")]
    public async Task Sqlite_keeps_every_committed_transaction_across_kill_9_of_the_daemon(string journalMode)
    {
        string sqlite = Sqlite;
        using var volume = new FileVolume();
        using var mountPoint = new TestMountPoint();
        using TempDirectory logs = TempDirectory.Create();
        string options = $"replay_log={Path.Combine(logs.Path, "log")}";
        string db = Path.Combine(mountPoint.Path, "db.sqlite");
        var random = new Random(journalMode.Length);
        long committed = 0;
        for (int cycle = 0; cycle <= Cycles; cycle++)
        {
            DaemonProcess daemon = DaemonProcess.Start(volume.Uri, mountPoint, options);
            try
            {
                if (cycle == 0)
                {
                    Sql(sqlite, db, $"PRAGMA journal_mode={journalMode}; CREATE TABLE t(id INTEGER PRIMARY KEY, cycle INTEGER, v BLOB);");
                }
                else
                {
                    // A transaction cut by the kill may have committed or not; one whose COMMIT returned must be there.
                    long found = Check(sqlite, db);
                    Assert.True(found >= committed && found <= committed + RowsPerTransaction,
                        $"cycle {cycle}: {found} rows after the crash, {committed} committed before it\n{daemon.Output}");
                    output.WriteLine($"cycle {cycle}: {committed} rows committed before the kill, {found} found after it");
                    committed = found;
                }
                if (cycle == Cycles)
                {
                    break;
                }
                string transaction = $"PRAGMA synchronous={Synchronous(journalMode)}; BEGIN; " +
                    $"INSERT INTO t(cycle, v) SELECT {cycle}, randomblob(300) FROM " +
                    $"(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {RowsPerTransaction}) SELECT x FROM c); COMMIT;";
                // One transaction commits before the kill is armed: a loaded machine may take longer than the shortest
                // delay to start sqlite3 and run its first commit's fsyncs.
                Sql(sqlite, db, transaction);
                committed += RowsPerTransaction;
                TimeSpan killAt = TimeSpan.FromMilliseconds(300 + random.Next(1500));
                var killer = Task.Run(async () =>
                {
                    await Task.Delay(killAt);
                    daemon.Kill9();
                });
                while (!killer.IsCompleted)
                {
                    if (Run(sqlite, db, transaction).ExitCode != 0)
                    {
                        break; // The daemon is gone: the mount answers with an error.
                    }
                    committed += RowsPerTransaction;
                }
                await killer.WaitAsync(TimeSpan.FromSeconds(60));
            }
            finally
            {
                daemon.Dispose();
            }
        }
        Assert.True(committed > 0);
    }

    /// <summary>
    /// What SQLite needs to keep a commit across a power loss on any filesystem: FULL in WAL mode (the commit is an
    /// fsync of the WAL); EXTRA in rollback-journal mode, where the commit is the unlink of the journal and only EXTRA
    /// fsyncs the directory after it (with FULL a crash may bring the journal back and roll the last commit back, on
    /// ext4 as here).
    /// </summary>
    private static string Synchronous(string journalMode) => journalMode == "wal" ? "FULL" : "EXTRA";

    /// <summary>PRAGMA integrity_check must say ok; returns the number of rows.</summary>
    private static long Check(string sqlite, string db)
    {
        string[] lines = Sql(sqlite, db, "PRAGMA integrity_check; SELECT count(*) FROM t;").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 2 && lines[0] == "ok", $"integrity check: {string.Join(" | ", lines)}");
        return long.Parse(lines[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string Sql(string sqlite, string db, string sql)
    {
        CommandResult r = Run(sqlite, db, sql);
        Assert.True(r.ExitCode == 0, r.ToString());
        return r.Stdout;
    }

    private static CommandResult Run(string sqlite, string db, string sql)
    {
        var psi = new ProcessStartInfo(sqlite) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { "-bail", db, sql })
        {
            psi.ArgumentList.Add(a);
        }
        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            p.Kill();
            p.WaitForExit();
            throw new TimeoutException($"sqlite3 did not finish within 60 s: {sql}");
        }
        return new CommandResult(p.ExitCode, stdout.Result, stderr.Result);
    }

    private static string Sqlite =>
        new[] { "/usr/bin/sqlite3", "/usr/local/bin/sqlite3" }.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("sqlite3 is missing: scripts/install-deps.sh installs it (apt package sqlite3)");
}
