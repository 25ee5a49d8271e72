using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ProxyFs.Host.Config;
using ProxyFs.Host.Daemon;
using ProxyFs.Host.Metrics;

namespace ProxyFs.Host.Cli;

/// <summary>
/// `proxyfs status [mountpoint] [--json]`: asks the daemon serving a mount point (or every proxyfs mount) for its
/// <see cref="StatusSnapshot"/> over the control socket and prints it for people, or as the daemon's JSON.
/// </summary>
public static class StatusCommand
{
    /// <summary>How many opcodes the human form lists.</summary>
    private const int OpcodesShown = 8;

    public static Command Create()
    {
        var mountPoint = new Argument<string?>("mountpoint")
        {
            Description = "Where the volume is mounted (default: every proxyfs mount)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var json = new Option<bool>("--json") { Description = "Print the daemon's status as JSON (one object, or an array without a mount point)" };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the daemon's answer", DefaultValueFactory = _ => 10 };
        var command = new Command("status", "Show a mounted volume's state: dirty data, checkpoints, cache, store and FUSE rates, errors")
        {
            mountPoint, json, timeout,
        };
        command.SetAction(parse => Run(parse.GetValue(mountPoint), parse.GetValue(json), TimeSpan.FromSeconds(Math.Max(1, parse.GetValue(timeout))), Console.Out));
        return command;
    }

    public static int Run(string? mountPointArgument, bool json, TimeSpan timeout, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (mountPointArgument is null)
        {
            return RunAll(json, timeout, output);
        }
        string mountPoint = RunPaths.NormalizeMountPoint(mountPointArgument);
        if (!TryQuery(mountPoint, timeout, out string reply, out string error))
        {
            Console.Error.WriteLine("proxyfs: " + error);
            return ExitCodes.Failure;
        }
        if (json)
        {
            output.WriteLine(reply);
            return ExitCodes.Ok;
        }
        try
        {
            output.Write(Format(StatusSnapshot.FromJson(reply)));
            return ExitCodes.Ok;
        }
        catch (JsonException e)
        {
            Console.Error.WriteLine($"proxyfs: the daemon serving {mountPoint} answered something that is not a status ({e.Message}); is it an older proxyfs?");
            return ExitCodes.Failure;
        }
    }

    private static int RunAll(bool json, TimeSpan timeout, TextWriter output)
    {
        List<MountEntry> mounts = [.. MountTable.Read().Where(m => m.FsType == "fuse.proxyfs")];
        var replies = new List<string>();
        int failures = 0;
        foreach (MountEntry m in mounts)
        {
            if (TryQuery(m.MountPoint, timeout, out string reply, out string error))
            {
                replies.Add(reply);
            }
            else
            {
                Console.Error.WriteLine("proxyfs: " + error);
                failures++;
            }
        }
        if (json)
        {
            output.WriteLine("[" + string.Join(",", replies) + "]");
        }
        else if (mounts.Count == 0)
        {
            output.WriteLine("no proxyfs volumes are mounted");
        }
        else
        {
            foreach (string reply in replies)
            {
                output.Write(Format(StatusSnapshot.FromJson(reply)));
                output.WriteLine();
            }
        }
        return failures == 0 ? ExitCodes.Ok : ExitCodes.Failure;
    }

    /// <summary>Asks the daemon of <paramref name="mountPoint"/> for its status; the error says why there is none.</summary>
    internal static bool TryQuery(string mountPoint, TimeSpan timeout, out string reply, out string error)
    {
        error = "";
        if (ControlClient.TryRequest(RunPaths.ControlSocket(mountPoint), "status", timeout, out reply) && reply.StartsWith('{'))
        {
            return true;
        }
        MountEntry? entry = MountTable.Find(mountPoint);
        error = entry is null ? $"{mountPoint} is not mounted"
            : !MountTable.IsFuse(entry) ? $"{mountPoint} is not a proxyfs mount (it is {entry.FsType} from {entry.Source})"
            : reply.StartsWith("error ", StringComparison.Ordinal) ? $"the daemon serving {mountPoint} refused: {reply[6..]}"
            : $"no proxyfs daemon answers for {mountPoint} (it was killed or belongs to another user; a dead mount is removed with: proxyfs unmount {mountPoint})";
        return false;
    }

    /// <summary>The status for people: one line per subject, "n/a" for what the volume does not report.</summary>
    public static string Format(StatusSnapshot s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var text = new StringBuilder();
        string title = s.VolumeName is null ? s.Uri : $"{s.VolumeName} ({s.Uri})";
        text.Append(CultureInfo.InvariantCulture, $"{s.MountPoint}: {title}{(s.ReadOnly ? ", read-only" : "")}\n");
        void Line(string subject, string value) => text.Append("  ").Append(subject.PadRight(12)).Append(value).Append('\n');

        Line("daemon", string.Create(CultureInfo.InvariantCulture, $"pid {s.Pid}, up {Duration(s.UptimeSeconds)}, proxyfs {s.Version}{(s.ConfigFile is null ? "" : ", config " + s.ConfigFile)}"));
        VolumeSection v = s.Volume;
        Line("volume", v.Id is null && v.Label is null && v.StoreUri is null
            ? s.Description
            : $"id {v.Id ?? "n/a"}{(string.IsNullOrEmpty(v.Label) ? "" : $", label \"{v.Label}\"")}, store {v.StoreUri ?? "n/a"}");
        Line("dirty", v.DirtyBytes is long dirty
            ? ByteSize.Format(dirty) + (v.OpenSegments is int open ? string.Create(CultureInfo.InvariantCulture, $" in {open} open segment{(open == 1 ? "" : "s")}") : "")
            : v.OpenSegments is int openOnly ? string.Create(CultureInfo.InvariantCulture, $"n/a ({openOnly} open segments)") : "n/a");
        Line("checkpoint", v.LastCheckpointAgeSeconds is double age
            ? $"last {Duration(age)} ago" + (v.Checkpoints is long n ? string.Create(CultureInfo.InvariantCulture, $" ({n} since mount)") : "")
            : "n/a");
        Line("replay log", v.ReplayLogBytes is long replay ? ByteSize.Format(replay) : "n/a");
        if (s.Space is { } space)
        {
            Line("space", string.Create(CultureInfo.InvariantCulture,
                $"{ByteSize.Format(space.UsedBytes)} used of {ByteSize.Format(space.SizeBytes)}, {space.Files} files"));
        }
        CacheSection c = s.Cache;
        Line("read cache", c.UsedBytes is long used
            ? string.Create(CultureInfo.InvariantCulture, $"{ByteSize.Format(used)} of {ByteSize.Format(c.ShareBytes ?? c.BudgetBytes)}{(c.ShareBytes is long share && share != c.BudgetBytes ? $" (weight {c.Weight:0.##} of a {ByteSize.Format(c.BudgetBytes)} budget)" : "")}, hit ratio {(c.HitRatio ?? 0) * 100:0.0}% ({c.Hits} hits, {c.JoinedFills ?? 0} joined fills, {c.Misses} misses)")
            : $"budget {ByteSize.Format(c.BudgetBytes)} (n/a: this volume reports no cache)");
        if (c.BytesServed is long served && c.BytesFetched is long fetched)
        {
            Line("", $"served {ByteSize.Format(served)}, fetched {ByteSize.Format(fetched)}; read-ahead used {ByteSize.Format(c.ReadAheadBytesUsed ?? 0)} of {ByteSize.Format(c.ReadAheadBytesFetched ?? 0)} fetched, {ByteSize.Format(c.ReadAheadBytesWasted ?? 0)} wasted");
        }
        if (c.Disk is { } disk)
        {
            Line("disk cache", string.Create(CultureInfo.InvariantCulture,
                $"{ByteSize.Format(disk.Bytes)} of {ByteSize.Format(disk.MaxBytes)} in {disk.Files} lines; {disk.Hits} hits, {disk.Misses} misses, {disk.Corrupt} corrupt refetched, {disk.Errors} errors"));
        }
        if (s.Store is { } st)
        {
            var rates = st.Operations.Where(o => o.RequestsPerSecond > 0 || o.Requests > 0)
                .Select(o => string.Create(CultureInfo.InvariantCulture, $"{o.Operation.ToUpperInvariant()} {o.RequestsPerSecond:0.##}/s"));
            Line("store", string.Create(CultureInfo.InvariantCulture,
                $"{st.RequestsPerSecond:0.##} req/s ({string.Join(", ", rates.DefaultIfEmpty("idle"))}) over {st.RateWindowSeconds:0} s; {st.Requests} requests, {st.Errors} errors, {(st.Retries is long r ? r.ToString(CultureInfo.InvariantCulture) : "n/a")} retries"));
            Line("", $"read {ByteSize.Format(st.BytesRead)}, written {ByteSize.Format(st.BytesWritten)}");
        }
        else
        {
            Line("store", v.StoreUri is null ? "n/a (this volume has no object store)" : "n/a (this daemon does not count the store's requests)");
        }
        if (s.Segments is { } seg)
        {
            Line("segments", string.Create(CultureInfo.InvariantCulture,
                $"{seg.Written} uploaded ({ByteSize.Format(seg.DataBytes)}), {seg.UploadsInFlight} uploading, {seg.UploadRetries} retries, {seg.UploadFailures} failures"));
        }
        if (s.Fuse is { } f)
        {
            Line("fuse", string.Create(CultureInfo.InvariantCulture,
                $"{f.RequestsPerSecond:0.##} req/s, read {ByteSize.Format((long)f.ReadBytesPerSecond)}/s, written {ByteSize.Format((long)f.WrittenBytesPerSecond)}/s over {f.RateWindowSeconds:0} s"));
            Line("", string.Create(CultureInfo.InvariantCulture,
                $"{f.Requests} requests, {f.Errors} errors, read {ByteSize.Format(f.BytesRead)}, written {ByteSize.Format(f.BytesWritten)}"));
            // The busiest opcodes: by rate now, then by count since the mount.
            var busiest = f.Opcodes
                .Select(p => (Name: p.Key, Count: p.Value, Rate: f.OpcodeRates.GetValueOrDefault(p.Key)))
                .OrderByDescending(o => o.Rate).ThenByDescending(o => o.Count).ThenBy(o => o.Name, StringComparer.Ordinal)
                .Take(OpcodesShown)
                .Select(o => string.Create(CultureInfo.InvariantCulture, $"{o.Name} {o.Rate:0.##}/s ({o.Count})"));
            Line("", string.Join(", ", busiest) + (f.Opcodes.Count > OpcodesShown ? ", … (--json has all)" : ""));
        }
        Line("metrics", s.Metrics.Endpoint ?? (s.Metrics.Error is null ? "off" : "failed: " + s.Metrics.Error));
        return text.ToString();
    }

    private static string Duration(double seconds)
    {
        var t = TimeSpan.FromSeconds(Math.Max(0, seconds));
        return t.TotalSeconds < 60 ? string.Create(CultureInfo.InvariantCulture, $"{t.TotalSeconds:0} s")
            : t.TotalMinutes < 60 ? string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalMinutes}m{t.Seconds:00}s")
            : t.TotalDays < 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours}h{t.Minutes:00}m")
            : string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalDays}d{t.Hours:00}h");
    }
}
