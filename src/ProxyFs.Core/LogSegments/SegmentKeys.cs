using System.Globalization;
using ProxyFs.ObjectStore;

namespace ProxyFs.Core.LogSegments;

/// <summary>
/// Object keys of segments: <c>{prefix}{low byte of the nonce, 2 hex digits}/{nonce, 16 hex digits}</c>, e.g.
/// <c>segments/bc/0000000000000abc</c>. The two-digit level spreads consecutive nonces over 256 directories, so a
/// <c>file://</c> store keeps thousands, not millions, of files per directory (docs/OBJECTSTORE.md, listing).
/// </summary>
public sealed class SegmentKeys
{
    /// <summary>The default prefix.</summary>
    public const string DefaultPrefix = "segments/";

    /// <summary>Keys under <paramref name="prefix"/> (empty, or ending with <c>/</c>).</summary>
    public SegmentKeys(string prefix = DefaultPrefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (prefix.Length > 0 && !prefix.EndsWith('/'))
        {
            throw new ArgumentException($"a segment key prefix is empty or ends with '/', not '{prefix}'", nameof(prefix));
        }
        if (prefix.Length > 0)
        {
            ObjectKeys.Validate(prefix + "00/0000000000000000");
        }
        Prefix = prefix;
    }

    /// <summary>The prefix of every segment key.</summary>
    public string Prefix { get; }

    /// <summary>The key of segment <paramref name="nonce"/>.</summary>
    public string KeyOf(ulong nonce) => string.Create(CultureInfo.InvariantCulture, $"{Prefix}{nonce & 0xFF:x2}/{nonce:x16}");

    /// <summary>The nonce named by <paramref name="key"/>, or false when it is not a segment key of this prefix (as listing for GC needs).</summary>
    public bool TryParse(string key, out ulong nonce)
    {
        ArgumentNullException.ThrowIfNull(key);
        nonce = 0;
        if (key.Length != Prefix.Length + 19 || !key.StartsWith(Prefix, StringComparison.Ordinal) || key[Prefix.Length + 2] != '/')
        {
            return false;
        }
        var digits = key.AsSpan(Prefix.Length + 3);
        foreach (char c in digits)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }
        nonce = ulong.Parse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        return key.AsSpan(Prefix.Length, 2).SequenceEqual(string.Create(CultureInfo.InvariantCulture, $"{nonce & 0xFF:x2}"));
    }
}
