using System.Diagnostics;
using System.Text;
using ProxyFs.ObjectStore.File;

namespace ProxyFs.ObjectStore.Tests.File;

/// <summary>What is particular to file://: processes sharing a store, the on-disk layout, damaged and foreign files.</summary>
public sealed class FileObjectStoreTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static async Task<string> RunChildAsync(params string[] args)
    {
        string dll = typeof(Program).Assembly.Location;
        var psi = new ProcessStartInfo("dotnet", ["exec", dll, .. args]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(cts.Token);
        Assert.True(process.ExitCode == 0, $"child {string.Join(' ', args)} exited {process.ExitCode}: {await stderr}");
        return (await stdout).Trim();
    }

    [Fact]
    public async Task Of_create_only_puts_from_several_processes_exactly_one_wins()
    {
        await using (new FileObjectStore(_dir.Path))
        {
            // Create the store first so that the children race on the key, not on initialising the directory.
        }
        string[] outcomes = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => RunChildAsync("create", _dir.Path, "lease", $"process {i}")));
        Assert.Equal(1, outcomes.Count(o => o == "won"));
        Assert.Equal(5, outcomes.Count(o => o == "lost"));
        await using var store = new FileObjectStore(_dir.Path);
        string holder = Encoding.ASCII.GetString(await store.GetBytesAsync("lease"));
        Assert.StartsWith("process ", holder, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compare_and_swap_from_several_processes_loses_no_update()
    {
        await using (var store = new FileObjectStore(_dir.Path))
        {
            await store.PutAsync("counter", Array.Empty<byte>(), PutCondition.IfNoneMatch);
        }
        const int processes = 3, increments = 25;
        await Task.WhenAll(Enumerable.Range(0, processes).Select(p => RunChildAsync("cas", _dir.Path, "counter", p.ToString(System.Globalization.CultureInfo.InvariantCulture), increments.ToString(System.Globalization.CultureInfo.InvariantCulture))));
        await using var check = new FileObjectStore(_dir.Path);
        string[] lines = Encoding.ASCII.GetString(await check.GetBytesAsync("counter")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(processes * increments, lines.Length);
        Assert.Equal(lines.Length, lines.Distinct().Count());
    }

    [Fact]
    public async Task Objects_live_under_objects_with_a_header_and_the_documented_names()
    {
        await using var store = new FileObjectStore(_dir.Path);
        var put = await store.PutAsync("segments/00/0000000000000001", Encoding.ASCII.GetBytes("hello"));
        string path = Path.Combine(_dir.Path, "objects", "segments@", "00@", "0000000000000001");
        Assert.True(System.IO.File.Exists(path));
        byte[] raw = await System.IO.File.ReadAllBytesAsync(path);
        Assert.Equal(FileObjectStore.HeaderSize + 5, raw.Length);
        Assert.Equal("PFSOBJ01"u8.ToArray(), raw[..8]);
        Assert.Equal(put.ETag, Convert.ToHexStringLower(raw.AsSpan(8, 16)));
        Assert.Equal("hello"u8.ToArray(), raw[FileObjectStore.HeaderSize..]);
        Assert.True(System.IO.File.Exists(Path.Combine(_dir.Path, FileObjectStore.MarkerName)));
        Assert.Empty(Directory.GetFiles(Path.Combine(_dir.Path, "tmp")));
    }

    [Fact]
    public async Task Deleting_the_last_key_of_a_directory_removes_the_directory()
    {
        await using var store = new FileObjectStore(_dir.Path);
        await store.PutAsync("a/b/c", new byte[] { 1 });
        await store.PutAsync("a/d", new byte[] { 2 });
        await store.DeleteAsync("a/b/c");
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "objects", "a@", "b@")));
        Assert.True(Directory.Exists(Path.Combine(_dir.Path, "objects", "a@")));
        await store.DeleteAsync("a/d");
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_dir.Path, "objects")));
    }

    [Fact]
    public async Task A_damaged_object_file_is_a_permanent_error_naming_the_file()
    {
        await using var store = new FileObjectStore(_dir.Path);
        await store.PutAsync("k", new byte[100]);
        string path = Path.Combine(_dir.Path, "objects", "k");
        using (var f = new FileStream(path, FileMode.Open))
        {
            f.SetLength(50);
        }
        var e = await Assert.ThrowsAsync<ObjectStoreException>(() => store.GetAsync("k"));
        Assert.Equal(ObjectStoreErrorKind.Permanent, e.Kind);
        Assert.Contains("not a valid object file", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_foreign_file_under_objects_is_reported_by_a_listing()
    {
        await using var store = new FileObjectStore(_dir.Path);
        await store.PutAsync("k", new byte[1]);
        await System.IO.File.WriteAllTextAsync(Path.Combine(_dir.Path, "objects", "%zz"), "x");
        var e = await Assert.ThrowsAsync<ObjectStoreException>(() => store.ListAsync(""));
        Assert.Equal(ObjectStoreErrorKind.Permanent, e.Kind);
        Assert.Contains("%zz", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_non_empty_directory_that_is_not_a_store_is_refused()
    {
        Directory.CreateDirectory(_dir.Path);
        System.IO.File.WriteAllText(Path.Combine(_dir.Path, "precious.txt"), "data");
        var e = Assert.Throws<ObjectStoreException>(() => new FileObjectStore(_dir.Path));
        Assert.Equal(ObjectStoreErrorKind.Permanent, e.Kind);
        Assert.Contains("not a proxyfs file store", e.Message, StringComparison.Ordinal);
        Assert.True(System.IO.File.Exists(Path.Combine(_dir.Path, "precious.txt")));
    }

    [Fact]
    public async Task A_missing_root_is_NoSuchBucket_when_creation_is_off()
    {
        var e = Assert.Throws<ObjectStoreException>(() => new FileObjectStore(_dir.Path, new FileStoreOptions { Create = false }));
        Assert.Equal(ObjectStoreErrorKind.NoSuchBucket, e.Kind);

        await using var store = new FileObjectStore(_dir.Path);
        Directory.Delete(_dir.Path, recursive: true);
        var gone = await Assert.ThrowsAsync<ObjectStoreException>(() => store.HeadAsync("k"));
        Assert.Equal(ObjectStoreErrorKind.NoSuchBucket, gone.Kind);
    }

    [Fact]
    public async Task Temporary_files_of_dead_processes_are_removed_when_the_store_opens()
    {
        await using (new FileObjectStore(_dir.Path))
        {
        }
        // PID 4194304 is above pid_max's ceiling, so no process has it; ours is alive.
        string orphan = Path.Combine(_dir.Path, "tmp", "4194304.0123456789abcdef.tmp");
        string ours = Path.Combine(_dir.Path, "tmp", $"{Environment.ProcessId}.0123456789abcdef.tmp");
        await System.IO.File.WriteAllTextAsync(orphan, "half a put");
        await System.IO.File.WriteAllTextAsync(ours, "a put in progress");
        await using (new FileObjectStore(_dir.Path))
        {
        }
        Assert.False(System.IO.File.Exists(orphan));
        Assert.True(System.IO.File.Exists(ours));
    }
}

public sealed class FileKeyMappingTests
{
    [Theory]
    [InlineData("a", new[] { "a" })]
    [InlineData("a/b", new[] { "a@", "b" })]
    [InlineData("a/", new[] { "a@", "%" })]
    [InlineData("a//b", new[] { "a@", "%@", "b" })]
    [InlineData("../x", new[] { "%2E.@", "x" })]
    [InlineData(".", new[] { "%2E" })]
    [InlineData("with space+é", new[] { "with%20space%2B%C3%A9" })]
    [InlineData("%41", new[] { "%2541" })]
    public void Keys_map_to_the_documented_path_segments(string key, string[] segments)
    {
        Assert.Equal(segments, FileKeyMapping.ToSegments(key));
    }

    [Fact]
    public void Long_components_are_cut_into_continuation_directories_that_fit_NAME_MAX()
    {
        string key = new string('é', 300) + "/" + new string('z', 600);
        var segments = FileKeyMapping.ToSegments(key);
        Assert.All(segments, s => Assert.InRange(System.Text.Encoding.UTF8.GetByteCount(s), 1, 255));
        Assert.All(segments, s => Assert.NotEqual('.', s[0]));
        Assert.EndsWith("@", segments.First(s => s.EndsWith('@')), StringComparison.Ordinal);
        Assert.Contains(segments, s => s.EndsWith('+'));

        // Decoding the segments gives the key back.
        var decoded = new System.Text.StringBuilder();
        foreach (string s in segments)
        {
            Assert.True(FileKeyMapping.TryDecodeEntry(s, out _, out string text), s);
            decoded.Append(text);
        }
        Assert.Equal(key, decoded.ToString());
    }

    [Theory]
    [InlineData(".hidden")]
    [InlineData("%41")]
    [InlineData("%2e")]
    [InlineData("a%2")]
    [InlineData("%C3")]
    [InlineData("a b")]
    public void Names_the_store_never_writes_are_not_decoded(string name)
    {
        Assert.False(FileKeyMapping.TryDecodeEntry(name, out _, out _));
    }
}
