namespace ProxyFs.Core.HeadHunter;

/// <summary>What a stored record is (byte 25 of the record header).</summary>
public enum RecordKind : byte
{
    /// <summary>A leaf page: sorted keys with inline values or blob references.</summary>
    Leaf = 1,

    /// <summary>An internal page: sorted separator keys and child page addresses.</summary>
    Internal = 2,

    /// <summary>An out-of-line value.</summary>
    Blob = 3,
}
