using System.Text.Json;
using System.Text.Json.Serialization;
using ProxyFs.Core.Volume.Maintenance;

namespace ProxyFs.Host.Metrics;

/// <summary>
/// Every type the daemon and the command line write or read as JSON (the status reply, the gc report), with its
/// serializer generated at build time: the JSON form is camelCase on one line, and a NativeAOT daemon, which cannot
/// reflect over a type to serialize it, uses the same code as the JIT build.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never, WriteIndented = false)]
[JsonSerializable(typeof(StatusSnapshot))]
[JsonSerializable(typeof(ReclaimReport))]
internal sealed partial class HostJsonContext : JsonSerializerContext;
