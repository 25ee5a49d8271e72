namespace ProxyFs.Core.HeadHunter;

/// <summary>A stored page, blob or segment failed validation (checksum, magic, version, length or structure).</summary>
public sealed class HeadHunterCorruptionException : Exception
{
    public HeadHunterCorruptionException(PageAddress address, string problem)
        : base($"HeadHunter record at {address} is corrupt: {problem}")
    {
        Address = address;
        Problem = problem;
    }

    public HeadHunterCorruptionException(string message)
        : base(message)
    {
        Problem = message;
    }

    public HeadHunterCorruptionException()
        : base("HeadHunter record is corrupt")
    {
        Problem = Message;
    }

    public HeadHunterCorruptionException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problem = message;
    }

    /// <summary>The address of the bad record (<see cref="PageAddress.None"/> when it is a whole segment).</summary>
    public PageAddress Address { get; }

    /// <summary>What was wrong, without the address.</summary>
    public string Problem { get; }
}
