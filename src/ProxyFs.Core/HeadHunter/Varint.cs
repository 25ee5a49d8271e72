namespace ProxyFs.Core.HeadHunter;

/// <summary>Unsigned LEB128 for lengths inside pages (7 bits a byte, low bits first, high bit = more).</summary>
internal static class Varint
{
    public static int Length(int value)
    {
        var length = 1;
        var v = (uint)value;
        while (v >= 0x80)
        {
            v >>= 7;
            length++;
        }
        return length;
    }

    public static int Write(Span<byte> destination, int value)
    {
        var v = (uint)value;
        var i = 0;
        while (v >= 0x80)
        {
            destination[i++] = (byte)(v | 0x80);
            v >>= 7;
        }
        destination[i++] = (byte)v;
        return i;
    }

    /// <summary>Reads a varint of at most 4 bytes (values below 2^28); returns false if malformed or truncated.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out int value, out int length)
    {
        uint result = 0;
        for (var i = 0; i < 4 && i < source.Length; i++)
        {
            var b = source[i];
            result |= (uint)(b & 0x7F) << (7 * i);
            if (b < 0x80)
            {
                value = (int)result;
                length = i + 1;
                return true;
            }
        }
        value = 0;
        length = 0;
        return false;
    }

    /// <summary>Reads a varint known to be well formed (the page was validated).</summary>
    public static int Read(ReadOnlySpan<byte> source, ref int position)
    {
        var b = source[position++];
        if (b < 0x80)
        {
            return b;
        }
        var result = b & 0x7F;
        var shift = 7;
        while (true)
        {
            b = source[position++];
            result |= (b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
            shift += 7;
        }
    }
}
