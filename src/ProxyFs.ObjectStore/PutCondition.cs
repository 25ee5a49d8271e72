namespace ProxyFs.ObjectStore;

/// <summary>The kinds of <see cref="PutCondition"/>.</summary>
public enum PutConditionKind
{
    /// <summary>Unconditional: replaces whatever is there.</summary>
    None,

    /// <summary>Create-only (<c>If-None-Match: *</c>): fails when the key exists.</summary>
    IfNoneMatch,

    /// <summary>Compare-and-swap (<c>If-Match: etag</c>): fails unless the key exists with this ETag.</summary>
    IfMatch,
}

/// <summary>The condition of a put. The default is unconditional.</summary>
public readonly record struct PutCondition
{
    private PutCondition(PutConditionKind kind, string? etag)
    {
        Kind = kind;
        ETag = etag;
    }

    /// <summary>Unconditional.</summary>
    public static PutCondition None => default;

    /// <summary>Create-only: the put fails with <see cref="ObjectStoreErrorKind.PreconditionFailed"/> when the key exists.</summary>
    public static PutCondition IfNoneMatch { get; } = new(PutConditionKind.IfNoneMatch, null);

    /// <summary>What kind of condition this is.</summary>
    public PutConditionKind Kind { get; }

    /// <summary>The expected ETag of <see cref="PutConditionKind.IfMatch"/>, without quotes.</summary>
    public string? ETag { get; }

    /// <summary>True unless unconditional.</summary>
    public bool IsConditional => Kind != PutConditionKind.None;

    /// <summary>Compare-and-swap: the put fails with <see cref="ObjectStoreErrorKind.PreconditionFailed"/> unless the object exists with <paramref name="etag"/>.</summary>
    public static PutCondition IfMatch(string etag)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(etag);
        return new PutCondition(PutConditionKind.IfMatch, ObjectKeys.UnquoteETag(etag));
    }

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        PutConditionKind.IfNoneMatch => "If-None-Match: *",
        PutConditionKind.IfMatch => $"If-Match: {ETag}",
        _ => "unconditional",
    };
}
