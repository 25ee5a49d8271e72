using System.CommandLine;
using System.Globalization;
using System.Text;
using ProxyFs.Core.FileSystem.Posix;
using ProxyFs.Core.Volume;
using ProxyFs.Core.Volume.Inodes;
using ProxyFs.Core.Volume.Maintenance;
using ProxyFs.Host.Config;
using ProxyFs.Host.Daemon;
using ProxyFs.ObjectStore;

namespace ProxyFs.Host.Cli;

/// <summary>
/// `proxyfs gc &lt;uri|mountpoint&gt; [--dry-run] [--json] [--grace D] [--keep-checkpoints N] [--force]`: reports the space a
/// volume could give back and runs a reclamation pass. On a mount point the daemon serving it runs the pass (with its
/// configured gc.grace and kept generations); on a URI the volume is opened for the pass, which a mounted volume refuses.
/// </summary>
public static class GcCommand
{
    public static Command Create()
    {
        var target = new Argument<string>("target") { Description = "A mount point served by proxyfs, or a store URI (file:///path, s3://bucket/prefix) of an unmounted volume" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Only report: delete nothing" };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON" };
        var grace = new Option<string>("--grace") { Description = "URI only: how long dead segments and orphan objects stay (default gc.grace, 10m)" };
        var keep = new Option<int?>("--keep-checkpoints") { Description = "URI only: earlier checkpoint generations to keep mountable; fewer frees more (default 8)" };
        var force = new Option<bool>("--force") { Description = "URI only: run on a volume whose root pointer says it is mounted (its last mount crashed)" };
        var timeout = new Option<int>("--timeout") { Description = "Mount point only: seconds to wait for the daemon's pass", DefaultValueFactory = _ => 600 };
        var command = new Command("gc", "Report reclaimable space of a volume and delete what it no longer needs")
        {
            target, dryRun, json, grace, keep, force, timeout,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string t = parse.GetValue(target)!;
            if (!TryParseGrace(parse.GetValue(grace), out TimeSpan graceValue))
            {
                return ExitCodes.Usage;
            }
            if (!t.Contains("://", StringComparison.Ordinal))
            {
                if (parse.GetValue(grace) is not null || parse.GetValue(keep) is not null || parse.GetValue(force))
                {
                    Console.Error.WriteLine("proxyfs: --grace, --keep-checkpoints and --force apply to a URI; a mounted volume uses its daemon's gc settings");
                    return ExitCodes.Usage;
                }
                return OnMount(t, parse.GetValue(dryRun), parse.GetValue(json), TimeSpan.FromSeconds(Math.Max(1, parse.GetValue(timeout))));
            }
            return await OfflineAsync(t, new ReclaimOptions { Grace = graceValue, DryRun = parse.GetValue(dryRun) }, parse.GetValue(keep),
                parse.GetValue(force), parse.GetValue(json), cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static int OnMount(string mountPointArgument, bool dryRun, bool json, TimeSpan timeout)
    {
        string mountPoint = RunPaths.NormalizeMountPoint(mountPointArgument);
        if (!ControlClient.TryRequest(RunPaths.ControlSocket(mountPoint), dryRun ? "gc dry-run" : "gc", timeout, out string reply) || !reply.StartsWith('{'))
        {
            string why = reply.StartsWith("error ", StringComparison.Ordinal) ? $"the daemon serving {mountPoint} failed: {reply[6..]}"
                : StatusCommand.TryQuery(mountPoint, TimeSpan.FromSeconds(5), out _, out string error) ? $"the daemon serving {mountPoint} did not answer within {timeout.TotalSeconds:0} s"
                : error;
            Console.Error.WriteLine("proxyfs: " + why);
            return ExitCodes.Failure;
        }
        ReclaimReport report = VolumeGc.FromJson(reply);
        Console.Write(json ? reply + "\n" : Format(report));
        return ExitCodes.Ok;
    }

    private static async Task<int> OfflineAsync(string uri, ReclaimOptions options, int? keep, bool force, bool json, CancellationToken cancellationToken)
    {
        IObjectStore store;
        try
        {
            store = ObjectStores.Open(uri);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or ObjectStoreException)
        {
            Console.Error.WriteLine("proxyfs: " + e.Message);
            return ExitCodes.Usage;
        }
        await using (store.ConfigureAwait(false))
        {
            try
            {
                RootPointer root = await new RootPointerStore(store).ReadAsync(cancellationToken).ConfigureAwait(false);
                if (!root.CleanUnmount && !force)
                {
                    Console.Error.WriteLine($"proxyfs: {store.Location} is mounted, or its last mount crashed (no clean-unmount mark): run proxyfs gc on its mount point, or mount and unmount it once; --force runs anyway");
                    return ExitCodes.Failure;
                }
                var volumeOptions = new VolumeOptions
                {
                    CheckpointInterval = TimeSpan.Zero,
                    KeepCheckpoints = keep ?? new VolumeOptions().KeepCheckpoints,
                    ReadOnly = options.DryRun,
                };
                VolumeFileSystem fs = await VolumeFileSystem.OpenAsync(store, volumeOptions, new VolumeInodeStoreOptions(), new PosixFileSystemOptions(),
                    cancellationToken: cancellationToken).ConfigureAwait(false);
                ReclaimReport report;
                await using (fs.ConfigureAwait(false))
                {
                    report = await VolumeReclaimer.RunAsync(fs.VolumeStore, options, cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                Console.Write(json ? VolumeGc.ToJson(report) + "\n" : Format(report));
                return ExitCodes.Ok;
            }
            catch (Exception e) when (e is VolumeFormatException or VolumeFencedException or ObjectStoreException or InvalidOperationException or IOException)
            {
                Console.Error.WriteLine("proxyfs: " + e.Message);
                return ExitCodes.Failure;
            }
        }
    }

    /// <summary>A --grace value (default gc.grace's); false, with the reason on stderr, when it is not a duration.</summary>
    internal static bool TryParseGrace(string? text, out TimeSpan grace)
    {
        grace = GcConfig.DefaultGrace;
        try
        {
            grace = text is null ? grace : ConfigSchema.ParseDuration(text, allowOff: false);
            return true;
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine("proxyfs: --grace: " + e.Message);
            return false;
        }
    }

    /// <summary>The report for people.</summary>
    public static string Format(ReclaimReport r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var s = new StringBuilder();
        IFormatProvider c = CultureInfo.InvariantCulture;
        s.AppendLine(c, $"stored:      {r.DataSegments} data segments ({ByteSize.Format(r.DataSegmentBytes)}), {r.MetadataSegments} metadata segments ({ByteSize.Format(r.MetadataSegmentBytes)})");
        s.AppendLine(c, $"live:        {ByteSize.Format(r.LiveBytes)} of file data, {ByteSize.Format(r.ReachableMetadataBytes)} of reachable metadata; dead ratio {r.DeadRatio * 100:0.0}%");
        s.AppendLine(c, $"reclaimable: {r.DeadSegments} dead data segments ({ByteSize.Format(r.DeadBytes)}), {r.OrphanObjects} orphan objects ({ByteSize.Format(r.OrphanBytes)})");
        if (r.WaitingSegments > 0)
        {
            s.AppendLine(c, $"waiting:     {r.WaitingSegments} dead segments ({ByteSize.Format(r.WaitingBytes)}) still reachable from a kept checkpoint generation or within the grace period");
        }
        if (r.CompactedSegments > 0)
        {
            s.AppendLine(c, $"compacted:   {r.CompactedSegments} mostly dead data segments ({ByteSize.Format(r.CompactedBytes)} of live data moved; a later pass deletes them)");
        }
        s.AppendLine(r.DryRun ? "deleted:     nothing (dry run)" : string.Create(c, $"deleted:     {r.DeletedObjects} objects ({ByteSize.Format(r.DeletedBytes)})"));
        return s.ToString();
    }
}
