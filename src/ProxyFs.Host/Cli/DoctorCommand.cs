using System.CommandLine;
using ProxyFs.Host.Daemon;
using ProxyFs.ObjectStore;

namespace ProxyFs.Host.Cli;

/// <summary>
/// `proxyfs doctor &lt;store-uri&gt;`: proves on a live store what proxyfs relies on (round trips, ranges, listing,
/// and that conditional writes answer 412), prints one line per check and exits 1 when the store is unfit.
/// </summary>
public static class DoctorCommand
{
    public static Command Create()
    {
        var uri = new Argument<string>("uri") { Description = "The store: file:///path or s3://bucket/prefix?endpoint=…" };
        var command = new Command("doctor", "Check that an object store does what proxyfs needs, conditional writes included") { uri };
        command.SetAction(async (parse, cancellationToken) =>
        {
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
                DoctorReport report = await ObjectStoreDoctor.RunAsync(store, cancellationToken).ConfigureAwait(false);
                Console.Write(report.ToString());
                return report.Ok ? ExitCodes.Ok : ExitCodes.Failure;
            }
        });
        return command;
    }
}
