namespace ProxyFs.Core.HeadHunter;

/// <summary>
/// Receives one entry of a scan, under the tree's shared lock; the spans are valid only during the call. Return
/// true to continue, false to stop.
/// </summary>
public delegate bool EntryVisitor(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value);

/// <summary>Receives one key of a key-only scan (values, even blobs, are not read). Return false to stop.</summary>
public delegate bool KeyVisitor(ReadOnlySpan<byte> key);
