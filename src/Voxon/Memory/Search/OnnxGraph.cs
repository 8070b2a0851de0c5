using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace Voxon.Memory.Search;

/// <summary>Small helpers to read and build ONNX graph parts, shared by the graph rewrites done when a model loads.</summary>
internal static class OnnxGraph
{
    /// <summary>The domain of ONNX Runtime's contrib operators (Attention, QAttention...).</summary>
    public const string MicrosoftDomain = "com.microsoft";

    /// <summary>Reads a serialized model.</summary>
    /// <exception cref="InvalidDataException">The bytes are not an ONNX model.</exception>
    public static ModelProto Parse(byte[] model)
    {
        ArgumentNullException.ThrowIfNull(model);
        try
        {
            return ModelProto.Parser.ParseFrom(model);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new InvalidDataException("The embedding model is not a readable ONNX model.", ex);
        }
    }

    public static NodeProto Node(string opType, string name, string[] inputs, string[] outputs, string domain = "")
    {
        var node = new NodeProto { OpType = opType, Name = name, Domain = domain };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        return node;
    }

    public static TensorProto Tensor(string name, TensorProto.Types.DataType type, ReadOnlySpan<byte> data, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(data) };
        tensor.Dims.AddRange(dims);
        return tensor;
    }

    public static TensorProto FloatTensor(string name, float[] values, params long[] dims) =>
        Tensor(name, TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes<float>(values), dims);

    /// <summary>The values of a float tensor, stored raw or as repeated floats.</summary>
    public static ReadOnlySpan<float> Floats(TensorProto tensor) =>
        tensor.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(tensor.RawData.Span) : (ReadOnlySpan<float>)tensor.FloatData.ToArray();

    /// <summary>The values of an int64 tensor, stored raw or as repeated int64s.</summary>
    public static ReadOnlySpan<long> Int64s(TensorProto tensor) =>
        tensor.RawData.Length > 0 ? MemoryMarshal.Cast<byte, long>(tensor.RawData.Span) : (ReadOnlySpan<long>)tensor.Int64Data.ToArray();

    /// <summary>Names for new nodes and tensors that no existing node, tensor or value uses.</summary>
    public sealed class UniqueNames
    {
        private readonly HashSet<string> _taken = new(StringComparer.Ordinal);

        public UniqueNames(GraphProto graph)
        {
            foreach (var node in graph.Node)
            {
                _taken.Add(node.Name);
                _taken.UnionWith(node.Input);
                _taken.UnionWith(node.Output);
            }

            _taken.UnionWith(graph.Initializer.Select(t => t.Name));
            _taken.UnionWith(graph.Input.Select(v => v.Name));
            _taken.UnionWith(graph.Output.Select(v => v.Name));
        }

        public string Next(string wanted)
        {
            var name = wanted;
            for (var i = 1; !_taken.Add(name); i++)
            {
                name = wanted + "_" + i;
            }

            return name;
        }
    }
}
