using ProxyFs.Core.HeadHunter;
using Xunit.Abstractions;

namespace ProxyFs.Core.Tests.HeadHunter;

/// <summary>
/// Random operations on the tree and on a SortedDictionary, compared after every step, with checkpoints and
/// simulated reboots (reopen from the last root, empty cache, a store holding only what checkpoints wrote).
/// PROXYFS_SOAK=1 runs many more seeds and operations.
/// </summary>
public sealed class DifferentialTests(ITestOutputHelper output)
{
    private static readonly bool Soak = Environment.GetEnvironmentVariable("PROXYFS_SOAK") == "1";

    public static TheoryData<int> Seeds()
    {
        var data = new TheoryData<int>();
        var count = Soak ? 64 : 6;
        for (var seed = 1; seed <= count; seed++)
        {
            data.Add(seed * 7919);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Tree_matches_a_sorted_dictionary(int seed)
    {
        var operations = Soak ? 60_000 : 6_000;
        var step = 0;
        try
        {
            new Run(seed, output).Execute(operations, ref step);
        }
        catch (Exception ex)
        {
            throw new Xunit.Sdk.XunitException($"differential run failed: seed {seed}, operation {step}: {ex}");
        }
    }

    private sealed class Run(int seed, ITestOutputHelper output)
    {
        private readonly Random _random = new(seed);
        private static readonly byte[] SmallestKey = [0];
        private static readonly byte[] LargestKey = Enumerable.Repeat((byte)0xFF, HeadHunterTree.MaxKeyLength).ToArray();
        private readonly SortedDictionary<byte[], byte[]> _model = new(ByteArrayComparer.Instance);
        private readonly SortedSet<byte[]> _keys = new(ByteArrayComparer.Instance);
        private readonly MemoryPageStore _store = new();
        private readonly SpaceLedger _ledger = new();
        private HeadHunterTree _tree = null!;
        private HeadHunterOptions _options = null!;

        public void Execute(int operations, ref int step)
        {
            _options = new HeadHunterOptions
            {
                PageSize = _random.Next(2) == 0 ? 4096 : 8192,
                CacheBudgetBytes = _random.Next(3) switch { 0 => 0, 1 => 64 * 1024, _ => 16L * 1024 * 1024 },
            };
            _tree = HeadHunterTree.Create(_store, _options);
            int reboots = 0, checkpoints = 0;
            for (step = 0; step < operations; step++)
            {
                var roll = _random.Next(1000);
                if (roll < 450)
                {
                    Put();
                }
                else if (roll < 700)
                {
                    Delete();
                }
                else if (roll < 850)
                {
                    CheckGet();
                }
                else if (roll < 930)
                {
                    CheckFloorAndCeiling();
                }
                else if (roll < 970)
                {
                    CheckScan();
                }
                else if (roll < 985)
                {
                    Checkpoint();
                    checkpoints++;
                }
                else if (roll < 990)
                {
                    Burst();
                }
                else if (roll < 993)
                {
                    DeleteRange();
                }
                else
                {
                    Reboot();
                    reboots++;
                }
            }
            Reboot();
            Assert.Equal(TreeTestKit.Hex(_model.Select(e => (e.Key, e.Value))), TreeTestKit.Hex(TreeTestKit.All(_tree)));
            Assert.Equal(0, _tree.DirtyCountDrifts);
            output.WriteLine($"seed {seed}: {operations} ops, {checkpoints} checkpoints, {reboots} reboots, {_model.Count} keys, shape {_tree.Verify()}");
            _tree.Dispose();
        }

        private byte[] RandomKey()
        {
            // Mostly short keys over a small alphabet (many shared prefixes), sometimes long or maximal.
            var length = _random.Next(100) switch
            {
                < 2 => HeadHunterTree.MaxKeyLength,
                < 10 => _random.Next(1, HeadHunterTree.MaxKeyLength),
                _ => _random.Next(1, 12),
            };
            var key = new byte[length];
            for (var i = 0; i < length; i++)
            {
                key[i] = (byte)"\0aby\xff"[_random.Next(5)];
            }
            return key;
        }

        private byte[] ExistingOrRandomKey()
        {
            var probe = RandomKey();
            if (_keys.Count > 0 && _random.Next(3) != 0)
            {
                return _keys.GetViewBetween(probe, LargestKey).Min ?? _keys.Max!;
            }
            return probe;
        }

        private void Put()
        {
            var key = _random.Next(4) == 0 ? ExistingOrRandomKey() : RandomKey();
            var length = _random.Next(100) switch
            {
                < 5 => _random.Next(_tree.MaxInlineValueLength + 1, 70_000),
                < 10 => _tree.MaxInlineValueLength + _random.Next(-1, 2),
                _ => _random.Next(0, 120),
            };
            var value = new byte[length];
            _random.NextBytes(value);
            _tree.Put(key, value);
            _model[key] = value;
            _keys.Add(key);
        }

        /// <summary>Many small entries under one random prefix: grows the tree by levels.</summary>
        private void Burst()
        {
            // A long shared prefix makes long separators, so internal pages fill and the tree gains levels.
            var prefix = RandomKey().AsSpan(0, 1).ToArray().Concat(Enumerable.Repeat((byte)'p', _random.Next(0, 400))).ToArray();
            var count = _random.Next(100, 600);
            for (var i = 0; i < count; i++)
            {
                var key = prefix.Concat(RandomKey().Take(16)).ToArray();
                var value = new byte[_random.Next(0, 60)];
                _random.NextBytes(value);
                _tree.Put(key, value);
                _model[key] = value;
                _keys.Add(key);
            }
        }

        /// <summary>Deletes a run of consecutive keys: empties whole leaves and merges internal nodes.</summary>
        private void DeleteRange()
        {
            var start = RandomKey();
            var victims = _keys.GetViewBetween(start, LargestKey).Take(_random.Next(50, 800)).ToList();
            foreach (var key in victims)
            {
                Assert.True(_tree.Delete(key));
                _model.Remove(key);
                _keys.Remove(key);
            }
        }

        private void Delete()
        {
            var key = ExistingOrRandomKey();
            _keys.Remove(key);
            Assert.Equal(_model.Remove(key), _tree.Delete(key));
        }

        private void CheckGet()
        {
            var key = ExistingOrRandomKey();
            Assert.Equal(_model.GetValueOrDefault(key), _tree.Get(key));
        }

        private void CheckFloorAndCeiling()
        {
            var key = RandomKey();
            var floor = _keys.GetViewBetween(SmallestKey, key).Max;
            Assert.Equal(floor is not null, _tree.TryGetFloor(key, out var floorKey, out var floorValue));
            Assert.Equal(floor, floorKey);
            Assert.Equal(floor is null ? null : _model[floor], floorValue);
            var ceiling = _keys.GetViewBetween(key, LargestKey).Min;
            Assert.Equal(ceiling is not null, _tree.TryGetCeiling(key, out var ceilingKey, out var ceilingValue));
            Assert.Equal(ceiling, ceilingKey);
            Assert.Equal(ceiling is null ? null : _model[ceiling], ceilingValue);
        }

        private void CheckScan()
        {
            var from = _random.Next(4) == 0 ? [] : RandomKey();
            var after = _random.Next(2) == 0;
            var limit = _random.Next(1, 200);
            var expected = _keys.GetViewBetween(from.Length == 0 ? SmallestKey : from, LargestKey)
                .Where(k => !after || ByteArrayComparer.Instance.Compare(k, from) > 0)
                .Take(limit)
                .Select(k => (k, _model[k]))
                .ToList();
            var actual = new List<(byte[] Key, byte[] Value)>();
            _tree.Scan(from, (key, value) =>
            {
                actual.Add((key.ToArray(), value.ToArray()));
                return actual.Count < limit;
            }, after);
            Assert.Equal(TreeTestKit.Hex(expected), TreeTestKit.Hex(actual));
        }

        private void Checkpoint()
        {
            var checkpoint = _store.Checkpoint(_tree);
            _ledger.Apply(checkpoint);
            if (_random.Next(4) == 0)
            {
                _ledger.AssertMatches(_tree);
            }
        }

        private void Reboot()
        {
            Checkpoint();
            _ledger.AssertMatches(_tree);
            var root = _tree.RootAddress;
            _tree.Dispose();
            _tree = HeadHunterTree.Open(_store, root, _options);
        }
    }
}
