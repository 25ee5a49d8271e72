namespace ProxyFs.Core.Cache;

/// <summary>
/// A buffer holder shared between readers and an owner without a lock: the owner holds one reference from creation;
/// a reader copies only between a successful <see cref="TryAcquire"/> and <see cref="Release"/>; when the last
/// reference goes, <see cref="OnReleased"/> returns the memory to its pool. Once the count has reached zero it never
/// rises again, so a buffer is never reused under a reader.
/// </summary>
internal abstract class RefCounted
{
    private int _references = 1;

    /// <summary>True while the owner's reference is held (the object is still in its cache or map).</summary>
    public bool IsAlive => Volatile.Read(ref _references) > 0;

    /// <summary>Takes a reference, or returns false when the object has already been released.</summary>
    public bool TryAcquire()
    {
        int current = Volatile.Read(ref _references);
        while (current > 0)
        {
            int seen = Interlocked.CompareExchange(ref _references, current + 1, current);
            if (seen == current)
            {
                return true;
            }
            current = seen;
        }
        return false;
    }

    /// <summary>Drops a reference; the last one calls <see cref="OnReleased"/>.</summary>
    public void Release()
    {
        int left = Interlocked.Decrement(ref _references);
        if (left == 0)
        {
            OnReleased();
        }
        else if (left < 0)
        {
            throw new InvalidOperationException("a reference was released twice");
        }
    }

    /// <summary>Called once, when the last reference is released.</summary>
    protected abstract void OnReleased();
}
