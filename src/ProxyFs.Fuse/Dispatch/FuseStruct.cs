using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;
using ProxyFs.Fuse.Protocol;

namespace ProxyFs.Fuse.Dispatch;

/// <summary>
/// A kernel struct of the opcode table: its size, known at compile time, and its fields for the debug printer. The
/// type's public fields stay visible to reflection also in a trimmed NativeAOT build (the annotation below), but that
/// build has no marshalling data to ask for field offsets (Marshal.OffsetOf throws there), so the offsets are laid out
/// here by the C rules the kernel's header follows: each field at the next multiple of its alignment, in declaration
/// order (checked against Marshal.OffsetOf by the protocol tests).
/// </summary>
internal sealed class FuseStruct
{
    private const DynamicallyAccessedMemberTypes Fields = DynamicallyAccessedMemberTypes.PublicFields;

    /// <summary>The structs that appear as fields of others (fuse_entry_out.attr, fuse_statfs_out.st).</summary>
    private static readonly FuseStruct[] Nested = [Of<fuse_attr>(), Of<fuse_kstatfs>()];

    private FuseField[]? _layout;

    private FuseStruct([DynamicallyAccessedMembers(Fields)] Type type, int size)
    {
        Type = type;
        Size = size;
    }

    [DynamicallyAccessedMembers(Fields)]
    public Type Type { get; }

    /// <summary>sizeof, as the kernel's header has it (checked against fuse.h by the protocol tests).</summary>
    public int Size { get; }

    public string Name => Type.Name;

    /// <summary>The fields in declaration order with their offsets (built on first use: only debug output needs them).</summary>
    public IReadOnlyList<FuseField> Layout => _layout ??= BuildLayout();

    /// <summary>The largest alignment of a field: where the struct starts when nested in another.</summary>
    public int Alignment => Layout.Count == 0 ? 1 : Layout.Max(f => f.Alignment);

    public static FuseStruct Of<[DynamicallyAccessedMembers(Fields)] T>()
        where T : unmanaged => new(typeof(T), Unsafe.SizeOf<T>());

    /// <summary>The descriptor of a struct nested in another, or null for a type the table does not know.</summary>
    public static FuseStruct? FindNested(Type type) => Array.Find(Nested, s => s.Type == type);

    /// <summary>The size of a primitive field type (the kernel's structs hold only unsigned and signed integers).</summary>
    public static int ScalarSize(Type type) =>
        type == typeof(ulong) || type == typeof(long) ? 8
        : type == typeof(uint) || type == typeof(int) ? 4
        : type == typeof(ushort) || type == typeof(short) ? 2
        : 1;

    private FuseField[] BuildLayout()
    {
        var fields = new List<FuseField>();
        int offset = 0;
        foreach (FieldInfo field in Type.GetFields(BindingFlags.Public | BindingFlags.Instance))
        {
            FuseField f;
            if (field.GetCustomAttribute<FixedBufferAttribute>() is { } fixedBuffer)
            {
                f = new FuseField(field.Name, 0, fixedBuffer.ElementType, fixedBuffer.Length, null, IsArray: true);
            }
            else if (field.FieldType.IsPrimitive)
            {
                f = new FuseField(field.Name, 0, field.FieldType, 1, null, IsArray: false);
            }
            else
            {
                f = new FuseField(field.Name, 0, null, 1, FindNested(field.FieldType)
                    ?? throw new InvalidOperationException($"{Name}.{field.Name}: {field.FieldType.Name} is not a known nested struct"), IsArray: false);
            }
            offset = (offset + f.Alignment - 1) & -f.Alignment;
            fields.Add(f with { Offset = offset });
            offset += f.Size;
        }
        return [.. fields];
    }
}

/// <summary>One field of a kernel struct: a scalar, a fixed array of <paramref name="Count"/> scalars, or a nested struct.</summary>
internal sealed record FuseField(string Name, int Offset, Type? Scalar, int Count, FuseStruct? Nested, bool IsArray)
{
    public int Alignment => Nested?.Alignment ?? FuseStruct.ScalarSize(Scalar!);

    public int Size => Nested?.Size ?? (FuseStruct.ScalarSize(Scalar!) * Count);
}
