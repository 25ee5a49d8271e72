using System.Globalization;
using System.Text;

namespace ProxyFs.Host.Metrics;

/// <summary>
/// Writes the Prometheus text exposition format (version 0.0.4): a # HELP and # TYPE line once per family, then its
/// samples, with label values escaped. Every sample carries the common labels given at creation.
/// </summary>
public sealed class PrometheusWriter
{
    /// <summary>The Content-Type of the format.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly StringBuilder _text = new();
    private readonly HashSet<string> _families = new(StringComparer.Ordinal);
    private readonly (string Name, string Value)[] _common;

    public PrometheusWriter(params (string Name, string Value)[] commonLabels)
    {
        _common = commonLabels;
    }

    /// <summary>Declares a family (once; later calls for the same name do nothing).</summary>
    public PrometheusWriter Family(string name, string type, string help)
    {
        if (_families.Add(name))
        {
            _text.Append("# HELP ").Append(name).Append(' ').Append(EscapeHelp(help)).Append('\n');
            _text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        }
        return this;
    }

    /// <summary>One sample of a family declared before (histograms: name_bucket, name_sum, name_count).</summary>
    public PrometheusWriter Sample(string name, double value, params (string Name, string Value)[] labels)
    {
        _text.Append(name);
        if (_common.Length + labels.Length > 0)
        {
            _text.Append('{');
            bool first = true;
            foreach (var (n, v) in _common.Concat(labels))
            {
                if (!first)
                {
                    _text.Append(',');
                }
                first = false;
                _text.Append(n).Append("=\"").Append(EscapeLabel(v)).Append('"');
            }
            _text.Append('}');
        }
        _text.Append(' ').Append(FormatValue(value)).Append('\n');
        return this;
    }

    /// <summary>A family with a single sample.</summary>
    public PrometheusWriter Single(string name, string type, string help, double value, params (string Name, string Value)[] labels) =>
        Family(name, type, help).Sample(name, value, labels);

    public override string ToString() => _text.ToString();

    internal static string FormatValue(double value) =>
        double.IsNaN(value) ? "NaN"
        : double.IsPositiveInfinity(value) ? "+Inf"
        : double.IsNegativeInfinity(value) ? "-Inf"
        : value == Math.Floor(value) && Math.Abs(value) < 1e15 ? ((long)value).ToString(CultureInfo.InvariantCulture)
        : value.ToString("R", CultureInfo.InvariantCulture);

    internal static string EscapeLabel(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string EscapeHelp(string help) =>
        help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
