using System.Buffers.Binary;
using System.Text;
using ProxyFs.Core.HeadHunter;

namespace ProxyFs.Core.Tests.HeadHunter;

/// <summary>Small helpers shared by the HeadHunter tests.</summary>
internal static class TreeTestKit
{
    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    public static string Text(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);

    /// <summary>A key that sorts like the number: "k" + 8-byte big-endian.</summary>
    public static byte[] NumberKey(long n, string prefix = "k")
    {
        var key = new byte[prefix.Length + 8];
        Encoding.ASCII.GetBytes(prefix, key);
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(prefix.Length), n);
        return key;
    }

    public static byte[] Value(long n, int length)
    {
        var value = new byte[length];
        var state = (ulong)n * 0x9E3779B97F4A7C15UL + 1;
        for (var i = 0; i < length; i++)
        {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            value[i] = (byte)state;
        }
        return value;
    }

    public static List<(byte[] Key, byte[] Value)> All(HeadHunterTree tree) =>
        tree.Enumerate().Select(e => (e.Key, e.Value)).ToList();

    /// <summary>Entries as "KEYHEX=VALUEHEX" strings, so collections compare by content.</summary>
    public static List<string> Hex(IEnumerable<(byte[] Key, byte[] Value)> entries) =>
        entries.Select(e => Convert.ToHexString(e.Key) + "=" + Convert.ToHexString(e.Value)).ToList();

    public static HeadHunterOptions SmallPages(long cacheBudget = 64L * 1024 * 1024) =>
        new() { PageSize = 4096, CacheBudgetBytes = cacheBudget };
}

/// <summary>Orders byte arrays like the tree (unsigned lexicographic).</summary>
internal sealed class ByteArrayComparer : IComparer<byte[]>
{
    public static ByteArrayComparer Instance { get; } = new();

    public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
}
