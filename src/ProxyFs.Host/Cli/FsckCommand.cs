using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ProxyFs.Core.HeadHunter;
using ProxyFs.Core.Volume;
using ProxyFs.Core.Volume.Maintenance;
using ProxyFs.ObjectStore;

namespace ProxyFs.Host.Cli;

/// <summary>
/// `proxyfs fsck &lt;uri&gt; [--repair] [--force] [--quick] [--grace D]`: checks every reference of an unmounted volume
/// (<see cref="VolumeChecker"/>), prints one line per problem, and exits as fsck(8) does: 0 clean, 1 errors corrected,
/// 4 errors left, 8 operational error (the store cannot be read, the volume is mounted). A progress line goes to stderr
/// when it is a terminal.
/// </summary>
public static class FsckCommand
{
    public static Command Create()
    {
        var uri = new Argument<string>("uri") { Description = "The volume's store: file:///path or s3://bucket/prefix (unmounted)" };
        var repair = new Option<bool>("--repair") { Description = "Make the safe repairs: live counts, nlink, directory records, unreachable inodes, orphan objects" };
        var force = new Option<bool>("--force") { Description = "Check a volume whose root pointer says it is mounted (or whose last mount crashed)" };
        var quick = new Option<bool>("--quick") { Description = "Read only the footers of data segments, not every block" };
        var grace = new Option<string>("--grace") { Description = "Orphan objects younger than this are left alone (default 10m)" };
        var command = new Command("fsck", "Check (and repair) an unmounted volume: tree pages, extents, segments, live bytes, nlink, the directory tree") { uri, repair, force, quick, grace };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!GcCommand.TryParseGrace(parse.GetValue(grace), out TimeSpan graceValue))
            {
                return ExitCodes.Usage;
            }
            var options = new FsckOptions
            {
                Repair = parse.GetValue(repair),
                Force = parse.GetValue(force),
                CheckData = !parse.GetValue(quick),
                Grace = graceValue,
                Progress = Console.IsErrorRedirected ? null : new ProgressLine(),
            };
            return await RunAsync(parse.GetValue(uri)!, options, Console.Out, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    public static async Task<int> RunAsync(string uri, FsckOptions options, TextWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        IObjectStore store;
        try
        {
            store = ObjectStores.Open(uri);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or ObjectStoreException)
        {
            Console.Error.WriteLine("proxyfs: " + e.Message);
            return FsckReport.OperationalError;
        }
        await using (store.ConfigureAwait(false))
        {
            FsckReport report;
            try
            {
                report = await VolumeChecker.CheckAsync(store, options, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is VolumeFormatException or ObjectStoreException or InvalidOperationException or IOException or HeadHunterCorruptionException)
            {
                (options.Progress as ProgressLine)?.Clear();
                Console.Error.WriteLine("proxyfs: " + e.Message);
                return FsckReport.OperationalError;
            }
            (options.Progress as ProgressLine)?.Clear();
            foreach (FsckProblem p in report.Problems)
            {
                output.WriteLine(p.ToString());
            }
            int errors = report.Errors.Count(), left = report.Errors.Count(p => !p.Repaired);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{store.Location}: {report.Inodes} inodes, {report.DirectoryEntries} entries, {report.Extents} extents, {report.TreeRecords} tree records in {report.Generations} generations, " +
                $"{report.DataSegments} data and {report.MetadataSegments} metadata segments: {(errors == 0 ? "clean" : left == 0 ? $"{errors} errors, all repaired" : $"{errors} errors, {left} not repaired")}" +
                $"{(report.Problems.Count > errors ? $", {report.Problems.Count - errors} warnings" : "")}"));
            if (left > 0 && !options.Repair && report.Errors.Any(p => p.Repairable))
            {
                output.WriteLine("run again with --repair to make the safe repairs");
            }
            return report.ExitCode;
        }
    }

    /// <summary>One line on stderr, rewritten in place at most ten times a second.</summary>
    private sealed class ProgressLine : IProgress<FsckProgress>
    {
        private readonly Stopwatch _since = Stopwatch.StartNew();
        private long _last = -1000;
        private bool _shown;

        public void Report(FsckProgress value)
        {
            if (_since.ElapsedMilliseconds - _last < 100)
            {
                return;
            }
            _last = _since.ElapsedMilliseconds;
            string line = value.Total > 0
                ? string.Create(CultureInfo.InvariantCulture, $"fsck: {value.Phase} [{new string('#', (int)(20 * value.Done / value.Total)),-20}] {value.Done}/{value.Total}")
                : string.Create(CultureInfo.InvariantCulture, $"fsck: {value.Phase} {value.Done}");
            Console.Error.Write("\r" + line.PadRight(60));
            _shown = true;
        }

        public void Clear()
        {
            if (_shown)
            {
                Console.Error.Write("\r" + new string(' ', 60) + "\r");
            }
        }
    }
}
