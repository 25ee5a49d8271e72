namespace ProxyFs.Core.FileSystem.Memory;

/// <summary>
/// Compares directory entry names as raw bytes. It also compares a stored <c>byte[]</c> with a
/// <see cref="ReadOnlySpan{T}"/> so that a directory can be searched by the span the kernel sent, without
/// allocating (<see cref="Dictionary{TKey, TValue}.GetAlternateLookup{TAlternateKey}"/>).
/// </summary>
internal sealed class NameComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    public static readonly NameComparer Instance = new();

    public bool Equals(byte[]? x, byte[]? y) =>
        ReferenceEquals(x, y) || (x is not null && y is not null && x.AsSpan().SequenceEqual(y));

    public int GetHashCode(byte[] obj) => Hash(obj);

    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

    public int GetHashCode(ReadOnlySpan<byte> alternate) => Hash(alternate);

    public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();

    private static int Hash(ReadOnlySpan<byte> name)
    {
        var hash = default(HashCode);
        hash.AddBytes(name);
        return hash.ToHashCode();
    }
}
