using System.Globalization;

namespace ProxyFs.ObjectStore;

/// <summary>
/// A byte range of an object: the whole object (the default), from an offset to the end, an offset and a length, or the
/// last N bytes (a suffix range).
/// </summary>
public readonly record struct ByteRange
{
    private ByteRange(long offset, long length, bool suffix)
    {
        Offset = offset;
        Length = length;
        IsSuffix = suffix;
    }

    /// <summary>The whole object.</summary>
    public static ByteRange All => default;

    /// <summary>The first byte of the range (0 for a suffix range).</summary>
    public long Offset { get; }

    /// <summary>The number of bytes, or -1 for "to the end of the object". For a suffix range, the number of last bytes.</summary>
    public long Length { get; }

    /// <summary>True for "the last <see cref="Length"/> bytes".</summary>
    public bool IsSuffix { get; }

    /// <summary>True for the whole object.</summary>
    public bool IsAll => !IsSuffix && Offset == 0 && Length <= 0;

    /// <summary>From <paramref name="offset"/> to the end of the object.</summary>
    public static ByteRange From(long offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        return new ByteRange(offset, -1, false);
    }

    /// <summary><paramref name="length"/> bytes from <paramref name="offset"/> (fewer when the object ends first).</summary>
    public static ByteRange Of(long offset, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        return new ByteRange(offset, length, false);
    }

    /// <summary>The last <paramref name="length"/> bytes (the whole object when it is shorter).</summary>
    public static ByteRange Suffix(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        return new ByteRange(0, length, true);
    }

    /// <summary>The first byte and the number of bytes this range selects from an object of <paramref name="size"/> bytes.</summary>
    public (long Offset, long Length) Resolve(long size)
    {
        if (IsSuffix)
        {
            long n = Math.Min(Length, size);
            return (size - n, n);
        }
        if (Offset >= size)
        {
            return (size, 0);
        }
        long length = Length <= 0 ? size - Offset : Math.Min(Length, size - Offset);
        return (Offset, length);
    }

    /// <summary>The value of an HTTP <c>Range</c> header for this range, or null for the whole object.</summary>
    public string? ToHttpRange()
    {
        if (IsSuffix)
        {
            return string.Create(CultureInfo.InvariantCulture, $"bytes=-{Length}");
        }
        if (IsAll)
        {
            return null;
        }
        return Length < 0
            ? string.Create(CultureInfo.InvariantCulture, $"bytes={Offset}-")
            : string.Create(CultureInfo.InvariantCulture, $"bytes={Offset}-{Offset + Length - 1}");
    }

    /// <inheritdoc />
    public override string ToString() => IsAll ? "all" : ToHttpRange()!;
}
