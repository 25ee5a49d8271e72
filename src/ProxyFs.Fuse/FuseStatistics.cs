using System.Globalization;
using System.Text;
using ProxyFs.Fuse.Protocol;

namespace ProxyFs.Fuse;

/// <summary>A snapshot of a session's counters.</summary>
public sealed class FuseStatistics
{
    internal FuseStatistics(Dictionary<fuse_opcode, long> requests, long errors, long bytesRead, long bytesWritten,
        long interrupts, long repliesToInterrupted, long replyWriteFailures, long notificationsSent,
        long notificationsNotFound, long notificationsFailed, long readerHandoffs)
    {
        ReaderHandoffs = readerHandoffs;
        RequestsByOpcode = requests;
        Requests = requests.Values.Sum();
        Errors = errors;
        BytesRead = bytesRead;
        BytesWritten = bytesWritten;
        Interrupts = interrupts;
        RepliesToInterrupted = repliesToInterrupted;
        ReplyWriteFailures = replyWriteFailures;
        NotificationsSent = notificationsSent;
        NotificationsNotFound = notificationsNotFound;
        NotificationsFailed = notificationsFailed;
    }

    /// <summary>Requests received per opcode (only opcodes seen; unknown opcodes by their number).</summary>
    public IReadOnlyDictionary<fuse_opcode, long> RequestsByOpcode { get; }

    /// <summary>All requests received.</summary>
    public long Requests { get; }

    /// <summary>Replies carrying an error (ENOENT of LOOKUP and ENOSYS included).</summary>
    public long Errors { get; }

    /// <summary>Bytes returned by READ.</summary>
    public long BytesRead { get; }

    /// <summary>Bytes accepted by WRITE.</summary>
    public long BytesWritten { get; }

    /// <summary>INTERRUPT requests received (ignored: the interrupted request completes normally).</summary>
    public long Interrupts { get; }

    /// <summary>Replies the kernel refused with ENOENT because their request had been interrupted.</summary>
    public long RepliesToInterrupted { get; }

    /// <summary>Replies that failed to be written (other than for interrupted requests) or were written short.</summary>
    public long ReplyWriteFailures { get; }

    public long NotificationsSent { get; }

    /// <summary>Notifications the kernel answered with ENOENT: nothing was cached for them.</summary>
    public long NotificationsNotFound { get; }

    public long NotificationsFailed { get; }

    /// <summary>Times a parked reader was woken to listen because the listening one was held by a slow request.</summary>
    public long ReaderHandoffs { get; }

    public long RequestCount(fuse_opcode opcode) => RequestsByOpcode.TryGetValue(opcode, out long n) ? n : 0;

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"requests={Requests} errors={Errors} read={BytesRead} written={BytesWritten} interrupts={Interrupts} " +
            $"interrupted-replies={RepliesToInterrupted} reply-failures={ReplyWriteFailures} notifications={NotificationsSent} handoffs={ReaderHandoffs}");
        foreach (var (opcode, count) in RequestsByOpcode.OrderBy(p => p.Key))
        {
            text.Append(CultureInfo.InvariantCulture, $" {FuseOpcodeNames.Name((uint)opcode)}={count}");
        }
        return text.ToString();
    }
}

/// <summary>
/// Counters of one reader thread, written by that thread only (plain increments, no contention) and summed
/// into a <see cref="FuseStatistics"/> on demand.
/// </summary>
internal sealed class FuseCounters
{
    public const int OpcodeSlots = 64;

    public readonly long[] Requests = new long[OpcodeSlots];
    public long Errors;
    public long BytesRead;
    public long BytesWritten;
    public long Interrupts;
    public long RepliesToInterrupted;
    public long ReplyWriteFailures;

    public void CountRequest(uint opcode) => Requests[opcode < OpcodeSlots ? opcode : 0]++;
}

internal static class FuseOpcodeNames
{
    private static readonly string[] Names = BuildNames();

    /// <summary>The opcode's name without FUSE_ (LOOKUP), or its number when unknown.</summary>
    public static string Name(uint opcode) =>
        opcode < Names.Length && Names[opcode] is { } name ? name : "OPCODE_" + opcode.ToString(CultureInfo.InvariantCulture);

    private static string[] BuildNames()
    {
        var names = new string[64];
        foreach (fuse_opcode op in Enum.GetValues<fuse_opcode>())
        {
            names[(uint)op] = op.ToString()["FUSE_".Length..];
        }
        return names;
    }
}
