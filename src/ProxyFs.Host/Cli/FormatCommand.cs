using System.CommandLine;
using System.Globalization;
using ProxyFs.Core.Volume;
using ProxyFs.Host.Daemon;
using ProxyFs.ObjectStore;

namespace ProxyFs.Host.Cli;

/// <summary>
/// `proxyfs format &lt;store-uri&gt; [--label L] [--mode 0755] [--owner uid:gid] [--force]`: creates a volume
/// (descriptor, empty root directory, first root pointer). Refuses a store that already holds one unless --force.
/// </summary>
public static class FormatCommand
{
    public static Command Create()
    {
        var uri = new Argument<string>("uri") { Description = "Where the volume goes: file:///path or s3://bucket/prefix?endpoint=…" };
        var label = new Option<string>("--label") { Description = "A name for the volume (shown by status)", DefaultValueFactory = _ => "" };
        var mode = new Option<string>("--mode") { Description = "Permissions of the root directory, octal", DefaultValueFactory = _ => "0755" };
        var owner = new Option<string>("--owner") { Description = "Owner of the root directory, uid:gid", DefaultValueFactory = _ => "0:0" };
        var force = new Option<bool>("--force") { Description = "Replace an existing volume, destroying its data" };
        var command = new Command("format", "Create a volume in an object store") { uri, label, mode, owner, force };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!TryParseMode(parse.GetValue(mode)!, out uint m) || !TryParseOwner(parse.GetValue(owner)!, out uint uid, out uint gid))
            {
                Console.Error.WriteLine("proxyfs: --mode takes octal permissions (e.g. 0755, 1777) and --owner uid:gid (numbers)");
                return ExitCodes.Usage;
            }
            IObjectStore store;
            try
            {
                store = ObjectStores.Open(parse.GetValue(uri)!);
            }
            catch (Exception e) when (e is ArgumentException or FormatException or ObjectStoreException)
            {
                Console.Error.WriteLine("proxyfs: " + StoreErrors.Describe(e));
                return ExitCodes.Usage;
            }
            await using (store.ConfigureAwait(false))
            {
                try
                {
                    VolumeDescriptor d = await VolumeFormatter.FormatAsync(store,
                        new VolumeFormatOptions { Label = parse.GetValue(label)!, Force = parse.GetValue(force) },
                        new RootDirectoryOptions(m, uid, gid), cancellationToken: cancellationToken).ConfigureAwait(false);
                    Console.WriteLine($"proxyfs: formatted {store.Location}: volume {d.VolumeId}{(d.Label.Length > 0 ? " (" + d.Label + ")" : "")}");
                    return ExitCodes.Ok;
                }
                catch (Exception e) when (e is InvalidOperationException or ObjectStoreException or ArgumentException)
                {
                    Console.Error.WriteLine("proxyfs: " + StoreErrors.Describe(e));
                    return ExitCodes.Failure;
                }
            }
        });
        return command;
    }

    private static bool TryParseMode(string s, out uint mode)
    {
        mode = 0;
        if (s.Length is 0 or > 5 || s.Any(c => c is < '0' or > '7'))
        {
            return false;
        }
        mode = Convert.ToUInt32(s, 8);
        return mode <= 0xFFF;
    }

    private static bool TryParseOwner(string s, out uint uid, out uint gid)
    {
        gid = 0;
        string[] parts = s.Split(':');
        return uint.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out uid)
            && parts.Length == 2 && uint.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out gid);
    }
}
