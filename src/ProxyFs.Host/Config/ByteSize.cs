using System.Globalization;

namespace ProxyFs.Host.Config;

/// <summary>
/// Sizes as written in the configuration file and mount options: a number of bytes, or a number with a unit
/// (KiB, MiB, GiB, TiB, powers of 1024; K, M, G, T and KB, MB, GB, TB mean the same; B for bytes). Fractions are
/// allowed with a unit (1.5GiB).
/// </summary>
public static class ByteSize
{
    private static readonly (string Suffix, long Factor)[] Units =
    [
        ("kib", 1L << 10), ("mib", 1L << 20), ("gib", 1L << 30), ("tib", 1L << 40),
        ("kb", 1L << 10), ("mb", 1L << 20), ("gb", 1L << 30), ("tb", 1L << 40),
        ("k", 1L << 10), ("m", 1L << 20), ("g", 1L << 30), ("t", 1L << 40), ("b", 1),
    ];

    /// <summary>Parses <paramref name="text"/>; false when it is not a size.</summary>
    public static bool TryParse(string? text, out long bytes)
    {
        bytes = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }
        string v = text.Trim();
        long factor = 1;
        foreach ((string suffix, long f) in Units)
        {
            if (v.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                factor = f;
                v = v[..^suffix.Length].TrimEnd();
                break;
            }
        }
        if (v.Length == 0 || !double.TryParse(v, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double n)
            || double.IsNaN(n) || n < 0 || (factor == 1 && n != Math.Floor(n)))
        {
            return false;
        }
        double total = Math.Round(n * factor);
        if (total > long.MaxValue / 2)
        {
            return false;
        }
        bytes = (long)total;
        return true;
    }

    /// <summary>A size for people: 1.5 GiB, 12 MiB, 512 B.</summary>
    public static string Format(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        double v = bytes;
        int u = 0;
        while (Math.Abs(v) >= 1024 && u < units.Length - 1)
        {
            v /= 1024;
            u++;
        }
        return u == 0
            ? bytes.ToString(CultureInfo.InvariantCulture) + " B"
            : v.ToString(v >= 100 ? "0" : v >= 10 ? "0.#" : "0.##", CultureInfo.InvariantCulture) + " " + units[u];
    }
}
