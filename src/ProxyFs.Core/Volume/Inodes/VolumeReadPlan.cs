using ProxyFs.Core.FileSystem.Inodes;
using ProxyFs.Core.LogSegments;
using ProxyFs.ObjectStore;

namespace ProxyFs.Core.Volume.Inodes;

/// <summary>
/// The pieces of one read of a volume file, resolved from its extents under the inode's lock and read after it: runs
/// of segment bytes and holes. One per thread, reused: a plan is filled and read by the same thread, one at a time.
/// </summary>
internal sealed class VolumeReadPlan : FileReadPlan
{
    [ThreadStatic]
    private static VolumeReadPlan? _current;

    private readonly List<Piece> _pieces = [];
    private SegmentReader _reader = null!;

    /// <summary>This thread's plan, emptied, reading through <paramref name="reader"/>.</summary>
    public static VolumeReadPlan ForThisThread(SegmentReader reader)
    {
        var plan = _current ??= new VolumeReadPlan();
        plan._pieces.Clear();
        plan._reader = reader;
        return plan;
    }

    /// <summary>The next <paramref name="length"/> bytes come from the extent <paramref name="extent"/> at <paramref name="segmentOffset"/> (zeros unless it holds data).</summary>
    public void Add(ExtentValue extent, ulong segmentOffset, int length) =>
        _pieces.Add(extent.Kind == ExtentKind.Data ? new Piece(extent.Nonce, (long)segmentOffset, length) : new Piece(0, -1, length));

    /// <summary>The next <paramref name="length"/> bytes are a hole.</summary>
    public void AddHole(int length) => _pieces.Add(new Piece(0, -1, length));

    public override bool TryRead(Span<byte> destination)
    {
        try
        {
            Read(destination);
            return true;
        }
        catch (ObjectStoreException e) when (e.Kind == ObjectStoreErrorKind.NotFound)
        {
            return false; // the segment was collected after the plan was made: the caller reads again under the lock
        }
    }

    /// <summary>Fills <paramref name="destination"/> (the planned length); a segment that is gone is an error.</summary>
    public void Read(Span<byte> destination)
    {
        int position = 0;
        try
        {
            foreach (Piece piece in _pieces)
            {
                Span<byte> part = destination.Slice(position, piece.Length);
                if (piece.SegmentOffset < 0)
                {
                    part.Clear();
                }
                else
                {
                    _reader.Read(piece.Nonce, piece.SegmentOffset, part);
                }
                position += piece.Length;
            }
        }
        finally
        {
            _pieces.Clear();
        }
        if (position != destination.Length)
        {
            throw new InvalidOperationException($"a read plan of {position} bytes was read into {destination.Length}");
        }
    }

    private readonly record struct Piece(ulong Nonce, long SegmentOffset, int Length);
}
