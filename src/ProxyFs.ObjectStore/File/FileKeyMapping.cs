using System.Globalization;
using System.Text;

namespace ProxyFs.ObjectStore.File;

/// <summary>
/// How a key becomes a path under <c>objects/</c> and back; docs/OBJECTSTORE.md describes it. A key is split at
/// <c>/</c> into components; each component is percent-encoded (every UTF-8 byte other than <c>A-Z a-z 0-9 - _</c> and a
/// non-leading <c>.</c> becomes <c>%XX</c>; an empty component is <c>%</c>); a component whose encoding is longer than
/// <see cref="MaxPieceBytes"/> is cut (between characters) into pieces, each but the last a directory named
/// <c>piece+</c>. The last piece of a component followed by <c>/</c> is a directory named <c>piece@</c>; the last piece
/// of the last component is the object file. So no name is <c>.</c>, <c>..</c> or hidden, no name exceeds 255 bytes,
/// a key cannot climb out of the store, and a key and a longer key that extends it past a <c>/</c> never collide.
/// </summary>
internal static class FileKeyMapping
{
    /// <summary>The longest encoded piece; with its marker it stays well under NAME_MAX (255).</summary>
    public const int MaxPieceBytes = 240;

    /// <summary>The kinds of directory entries under <c>objects/</c>.</summary>
    public enum EntryKind
    {
        /// <summary>An object file: its name completes a key.</summary>
        File,

        /// <summary><c>piece@</c>: a directory whose keys continue with the decoded piece and a <c>/</c>.</summary>
        Directory,

        /// <summary><c>piece+</c>: a directory whose keys continue with the decoded piece (a long component was cut).</summary>
        Continuation,
    }

    /// <summary>The path segments (directories, then the object file) of <paramref name="key"/> under <c>objects/</c>.</summary>
    public static List<string> ToSegments(string key)
    {
        var segments = new List<string>();
        string[] components = key.Split('/');
        for (int i = 0; i < components.Length; i++)
        {
            AppendComponent(segments, components[i], last: i == components.Length - 1);
        }
        return segments;
    }

    /// <summary>The directory segments of a key prefix made of whole components, e.g. <c>a/b/</c> (empty for <c>""</c>).</summary>
    public static List<string> DirectorySegments(string completePrefix)
    {
        var segments = new List<string>();
        if (completePrefix.Length == 0)
        {
            return segments;
        }
        string[] components = completePrefix[..^1].Split('/');
        foreach (string c in components)
        {
            AppendComponent(segments, c, last: false);
        }
        return segments;
    }

    private static void AppendComponent(List<string> segments, string component, bool last)
    {
        List<string> pieces = EncodeComponent(component);
        for (int j = 0; j < pieces.Count - 1; j++)
        {
            segments.Add(pieces[j] + "+");
        }
        segments.Add(last ? pieces[^1] : pieces[^1] + "@");
    }

    /// <summary>The encoded pieces of one component (one piece unless it is long).</summary>
    public static List<string> EncodeComponent(string component)
    {
        var pieces = new List<string>(1);
        if (component.Length == 0)
        {
            pieces.Add("%");
            return pieces;
        }
        var piece = new StringBuilder();
        Span<byte> utf8 = stackalloc byte[4];
        foreach (Rune rune in component.EnumerateRunes())
        {
            int tokenLength = TokenLength(rune, piece.Length == 0);
            if (piece.Length + tokenLength > MaxPieceBytes)
            {
                pieces.Add(piece.ToString());
                piece.Clear();
            }
            AppendToken(piece, rune, piece.Length == 0, utf8);
        }
        pieces.Add(piece.ToString());
        return pieces;
    }

    private static bool IsPlain(Rune r, bool atStart) =>
        r.IsAscii && (char.IsAsciiLetterOrDigit((char)r.Value) || r.Value == '-' || r.Value == '_' || (r.Value == '.' && !atStart));

    private static int TokenLength(Rune r, bool atStart) => IsPlain(r, atStart) ? 1 : 3 * r.Utf8SequenceLength;

    private static void AppendToken(StringBuilder sb, Rune r, bool atStart, Span<byte> utf8)
    {
        if (IsPlain(r, atStart))
        {
            sb.Append((char)r.Value);
            return;
        }
        int n = r.EncodeToUtf8(utf8);
        for (int i = 0; i < n; i++)
        {
            sb.Append('%').Append(utf8[i].ToString("X2", CultureInfo.InvariantCulture));
        }
    }

    /// <summary>
    /// What a directory entry under <c>objects/</c> contributes to the keys below it: its kind and the decoded text.
    /// Returns false for names the store never writes (which the caller reports as foreign files).
    /// </summary>
    public static bool TryDecodeEntry(string name, out EntryKind kind, out string text)
    {
        kind = EntryKind.File;
        text = "";
        if (name.Length == 0 || name[0] == '.')
        {
            return false;
        }
        string piece = name;
        if (name[^1] == '@')
        {
            kind = EntryKind.Directory;
            piece = name[..^1];
        }
        else if (name[^1] == '+')
        {
            kind = EntryKind.Continuation;
            piece = name[..^1];
        }
        if (!TryDecodePiece(piece, out text))
        {
            return false;
        }
        if (kind == EntryKind.Directory)
        {
            text += "/";
        }
        if (kind == EntryKind.Continuation && (text.Length == 0 || piece.Length > MaxPieceBytes))
        {
            return false;
        }
        return true;
    }

    private static bool TryDecodePiece(string piece, out string text)
    {
        text = "";
        if (piece == "%")
        {
            return true;
        }
        if (piece.Length == 0 || piece.Length > MaxPieceBytes)
        {
            return false;
        }
        var bytes = new byte[piece.Length];
        int n = 0;
        for (int i = 0; i < piece.Length; i++)
        {
            char c = piece[i];
            if (c == '%')
            {
                if (i + 2 >= piece.Length || !byte.TryParse(piece.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte b)
                    || piece[i + 1] is >= 'a' and <= 'f' || piece[i + 2] is >= 'a' and <= 'f')
                {
                    return false;
                }
                bytes[n++] = b;
                i += 2;
            }
            else if (c < 0x80)
            {
                bytes[n++] = (byte)c;
            }
            else
            {
                return false;
            }
        }
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, 0, n);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
        // Only the canonical encoding is ours: "%41" for "A", or a plain leading ".", is not something we wrote.
        var again = EncodeComponent(text);
        return again.Count == 1 && again[0] == piece;
    }
}
