using ProxyFs.Core.HeadHunter;
using ProxyFs.Core.Volume;
using ProxyFs.ObjectStore;
using ProxyFs.ObjectStore.Decorators;
using ProxyFs.ObjectStore.Memory;

namespace ProxyFs.Core.Tests.Volume;

public sealed class StorePageSourceTests
{
    [Fact]
    public async Task Adjacent_pages_asked_together_come_in_one_get_and_byte_exact()
    {
        var metrics = new ObjectStoreMetrics();
        var inner = new MemoryObjectStore("pages");
        var store = new MetricsObjectStore(inner, metrics);
        var source = new StorePageSource(store, VolumeLayout.MetadataSegments);
        using HeadHunterTree tree = HeadHunterTree.Create(source);
        for (int i = 0; i < 20_000; i++)
        {
            tree.Put(BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(i)), new byte[40]);
        }
        HeadHunterCheckpoint cp = tree.BeginCheckpoint(7);
        await inner.PutAsync(VolumeLayout.MetadataSegments.KeyOf(7), cp.Segment);
        tree.CompleteCheckpoint(cp);

        PageAddress[] pages = [.. cp.Written.OrderBy(a => a.Offset).Take(12)];
        long before = metrics.Get(ObjectStoreOperation.Get).Requests;
        IReadOnlyList<byte[]> read = source.ReadPages([.. pages.Reverse()]);
        Assert.Equal(1, metrics.Get(ObjectStoreOperation.Get).Requests - before);
        byte[] image = cp.Segment.ToArray();
        for (int i = 0; i < pages.Length; i++)
        {
            PageAddress a = pages[pages.Length - 1 - i];
            Assert.Equal(image.AsSpan((int)a.Offset, (int)a.Length).ToArray(), read[i]);
            Assert.Equal(read[i], source.ReadPage(a));
        }
    }
}
