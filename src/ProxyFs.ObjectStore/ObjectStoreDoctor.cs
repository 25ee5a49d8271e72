using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace ProxyFs.ObjectStore;

/// <summary>One check of <see cref="ObjectStoreDoctor"/>.</summary>
/// <param name="Name">What was checked.</param>
/// <param name="Passed">True when the store behaved as proxyfs needs.</param>
/// <param name="Detail">What happened, in words a person can act on.</param>
/// <param name="Elapsed">How long the check took.</param>
public sealed record DoctorCheck(string Name, bool Passed, string Detail, TimeSpan Elapsed);

/// <summary>The result of <see cref="ObjectStoreDoctor.RunAsync"/>.</summary>
/// <param name="Location">The store checked.</param>
/// <param name="Checks">Every check, in order.</param>
public sealed record DoctorReport(string Location, IReadOnlyList<DoctorCheck> Checks)
{
    /// <summary>True when every check passed: proxyfs can use this store safely.</summary>
    public bool Ok => Checks.All(c => c.Passed);

    /// <summary>One line per check (<c>ok</c> or <c>FAIL</c>), then a verdict.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append("doctor ").AppendLine(Location);
        foreach (var c in Checks)
        {
            sb.Append(c.Passed ? "  ok    " : "  FAIL  ").Append(c.Name).Append(": ").Append(c.Detail)
              .Append(" (").Append(c.Elapsed.TotalMilliseconds.ToString("0", System.Globalization.CultureInfo.InvariantCulture)).AppendLine(" ms)");
        }
        sb.AppendLine(Ok
            ? "verdict: this store does everything proxyfs needs, conditional writes included"
            : "verdict: proxyfs cannot use this store safely; see the FAIL lines");
        return sb.ToString();
    }
}

/// <summary>
/// Proves, on a live store, what proxyfs relies on: round trips, ranged reads (suffix ranges too), listing, idempotent
/// deletes, and above all that conditional puts are enforced (a second create-only put and a put with a stale ETag
/// must answer 412; a store that accepts them cannot fence a second writer). It writes a few small objects under
/// <c>.proxyfs-doctor/&lt;random&gt;/</c> and deletes them. <c>proxyfs doctor &lt;uri&gt;</c> prints the report.
/// </summary>
public static class ObjectStoreDoctor
{
    /// <summary>Runs every check and returns the report; it throws only on cancellation.</summary>
    public static async Task<DoctorReport> RunAsync(IObjectStore store, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        string dir = $".proxyfs-doctor/{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}/";
        string key = dir + "probe";
        byte[] first = Encoding.ASCII.GetBytes("proxyfs doctor probe 1: 0123456789abcdefghijklmnopqrstuvwxyz");
        byte[] second = Encoding.ASCII.GetBytes("proxyfs doctor probe 2: ABCDEFGHIJKLMNOPQRSTUVWXYZ9876543210");
        var checks = new List<DoctorCheck>();
        string? etag1 = null, etag2 = null;

        async Task<bool> Check(string name, Func<Task<string>> body)
        {
            long start = Stopwatch.GetTimestamp();
            try
            {
                string detail = await body().ConfigureAwait(false);
                checks.Add(new DoctorCheck(name, true, detail, Stopwatch.GetElapsedTime(start)));
                return true;
            }
            catch (DoctorFailure f)
            {
                checks.Add(new DoctorCheck(name, false, f.Message, Stopwatch.GetElapsedTime(start)));
            }
            catch (ObjectStoreException e)
            {
                checks.Add(new DoctorCheck(name, false, $"{e.Kind}: {e.Detail}", Stopwatch.GetElapsedTime(start)));
            }
            return false;
        }

        bool reachable = await Check("create-only put of a new object", async () =>
        {
            etag1 = (await store.PutAsync(key, first, PutCondition.IfNoneMatch, cancellationToken).ConfigureAwait(false)).ETag;
            return $"stored {first.Length} bytes, ETag {etag1}";
        }).ConfigureAwait(false);
        if (!reachable)
        {
            return new DoctorReport(store.Location, checks);
        }

        await Check("read back", async () =>
        {
            byte[] read = await store.GetBytesAsync(key, ByteRange.All, cancellationToken).ConfigureAwait(false);
            var head = await store.HeadAsync(key, cancellationToken).ConfigureAwait(false);
            Expect(read.AsSpan().SequenceEqual(first), $"GET returned {read.Length} bytes that differ from the {first.Length} put");
            Expect(head.Size == first.Length && head.ETag == etag1, $"HEAD says size {head.Size}, ETag {head.ETag}; expected {first.Length}, {etag1}");
            return "GET and HEAD match the put";
        }).ConfigureAwait(false);

        await Check("ranged reads", async () =>
        {
            byte[] middle = await store.GetBytesAsync(key, ByteRange.Of(5, 10), cancellationToken).ConfigureAwait(false);
            Expect(middle.AsSpan().SequenceEqual(first.AsSpan(5, 10)), "bytes=5-14 returned the wrong bytes");
            byte[] suffix = await store.GetBytesAsync(key, ByteRange.Suffix(7), cancellationToken).ConfigureAwait(false);
            Expect(suffix.AsSpan().SequenceEqual(first.AsSpan(first.Length - 7)),
                $"the suffix range bytes=-7 returned {suffix.Length} wrong bytes (the server does not implement suffix ranges)");
            return "offset and suffix ranges are right";
        }).ConfigureAwait(false);

        await Check("create-only put refused on an existing object", async () =>
        {
            try
            {
                await store.PutAsync(key, second, PutCondition.IfNoneMatch, cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectStoreException e) when (e.Kind == ObjectStoreErrorKind.PreconditionFailed)
            {
                return $"refused with {(e.HttpStatus == 0 ? "PreconditionFailed" : "HTTP " + e.HttpStatus)}";
            }
            throw new DoctorFailure("a second PUT with If-None-Match: * SUCCEEDED and overwrote the object: this store does not enforce create-only writes, so proxyfs cannot fence a second writer on it");
        }).ConfigureAwait(false);

        await Check("compare-and-swap with the current ETag", async () =>
        {
            var current = await store.HeadAsync(key, cancellationToken).ConfigureAwait(false);
            etag2 = (await store.PutAsync(key, second, PutCondition.IfMatch(current.ETag), cancellationToken).ConfigureAwait(false)).ETag;
            Expect(etag2 != current.ETag, $"the new ETag equals the old one ({etag2})");
            return $"accepted, new ETag {etag2}";
        }).ConfigureAwait(false);

        await Check("compare-and-swap with a stale ETag refused", async () =>
        {
            string stale = etag1 ?? "00000000000000000000000000000000";
            try
            {
                await store.PutAsync(key, first, PutCondition.IfMatch(stale), cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectStoreException e) when (e.Kind == ObjectStoreErrorKind.PreconditionFailed)
            {
                return $"refused with {(e.HttpStatus == 0 ? "PreconditionFailed" : "HTTP " + e.HttpStatus)}";
            }
            throw new DoctorFailure($"a PUT with If-Match: {stale} (a stale ETag) SUCCEEDED: this store does not enforce compare-and-swap, so the checkpoint root pointer cannot be protected on it");
        }).ConfigureAwait(false);

        await Check("listing", async () =>
        {
            var page = await store.ListAsync(dir, null, 10, cancellationToken).ConfigureAwait(false);
            Expect(page.Objects.Count == 1 && page.Objects[0].Key == key, $"listing '{dir}' gave [{string.Join(", ", page.Objects.Select(o => o.Key))}], expected [{key}]");
            return "the probe is listed";
        }).ConfigureAwait(false);

        await Check("delete, twice", async () =>
        {
            await store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
            await store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
            var gone = await store.TryHeadAsync(key, cancellationToken).ConfigureAwait(false);
            Expect(gone is null, "the object is still there after DELETE");
            return "deleted; deleting again succeeds";
        }).ConfigureAwait(false);

        return new DoctorReport(store.Location, checks);
    }

    private static void Expect(bool condition, string failure)
    {
        if (!condition)
        {
            throw new DoctorFailure(failure);
        }
    }

    private sealed class DoctorFailure(string message) : Exception(message);
}
