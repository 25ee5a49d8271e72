using System.Text;

namespace ProxyFs.ObjectStore;

/// <summary>Rules for keys shared by every store, and the order in which stores list them.</summary>
public static class ObjectKeys
{
    /// <summary>The longest key in UTF-8 bytes, S3's limit (a store's own prefix counts against it on S3).</summary>
    public const int MaxKeyBytes = 1024;

    /// <summary>
    /// Orders strings by their UTF-8 bytes, which is the order of Unicode code points and the order S3 lists keys in
    /// (plain <see cref="string.CompareOrdinal(string, string)"/> differs for characters above U+FFFF).
    /// </summary>
    public static IComparer<string> Comparer { get; } = new Utf8Comparer();

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="key"/> is a valid key.</summary>
    public static void Validate(string key, string paramName = "key")
    {
        ArgumentNullException.ThrowIfNull(key, paramName);
        if (key.Length == 0)
        {
            throw new ArgumentException("an object key must not be empty", paramName);
        }
        ValidateChars(key, paramName, "key");
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="prefix"/> is a valid listing prefix (which may be empty).</summary>
    public static void ValidatePrefix(string prefix, string paramName = "prefix")
    {
        ArgumentNullException.ThrowIfNull(prefix, paramName);
        ValidateChars(prefix, paramName, "prefix");
    }

    private static void ValidateChars(string value, string paramName, string what)
    {
        int bytes = 0;
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (c < 0x20 || c == 0x7F)
            {
                throw new ArgumentException($"the {what} '{Printable(value)}' holds the control character U+{(int)c:X4} at index {i}; control characters are not portable to S3 servers", paramName);
            }
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                bytes += 4;
                i++;
                continue;
            }
            if (char.IsSurrogate(c))
            {
                throw new ArgumentException($"the {what} '{Printable(value)}' holds a lone surrogate at index {i}; keys must be valid Unicode", paramName);
            }
            bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
        }
        if (bytes > MaxKeyBytes)
        {
            throw new ArgumentException($"the {what} is {bytes} UTF-8 bytes long; the limit is {MaxKeyBytes}", paramName);
        }
    }

    /// <summary>The ETag without surrounding double quotes (S3 servers send them quoted; this interface never quotes).</summary>
    public static string UnquoteETag(string etag)
    {
        ArgumentNullException.ThrowIfNull(etag);
        return etag.Length >= 2 && etag[0] == '"' && etag[^1] == '"' ? etag[1..^1] : etag;
    }

    /// <summary>Compares two strings by the UTF-8 bytes they encode to, without encoding them.</summary>
    public static int CompareUtf8(string? a, string? b)
    {
        if (ReferenceEquals(a, b))
        {
            return 0;
        }
        if (a is null)
        {
            return -1;
        }
        if (b is null)
        {
            return 1;
        }
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++)
        {
            char x = a[i], y = b[i];
            if (x != y)
            {
                return Fixup(x) - Fixup(y);
            }
        }
        return a.Length - b.Length;
    }

    // UTF-16 code units in code point order: surrogates (which encode code points above U+FFFF) must sort after
    // U+E000..U+FFFF. Moving the surrogate block above them does it.
    private static int Fixup(char c) => c >= 0xE000 ? c - 0x800 : c >= 0xD800 ? c + 0x2000 : c;

    internal static string Printable(string value)
    {
        var sb = new StringBuilder(Math.Min(value.Length, 200));
        foreach (char c in value)
        {
            if (sb.Length >= 200)
            {
                sb.Append('…');
                break;
            }
            sb.Append(c < 0x20 || c == 0x7F || char.IsSurrogate(c) ? '?' : c);
        }
        return sb.ToString();
    }

    private sealed class Utf8Comparer : IComparer<string>
    {
        public int Compare(string? x, string? y) => CompareUtf8(x, y);
    }
}
