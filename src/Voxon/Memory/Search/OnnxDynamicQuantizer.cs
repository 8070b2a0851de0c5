using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Google.Protobuf;
using Onnx;
using static Voxon.Memory.Search.OnnxGraph;

namespace Voxon.Memory.Search;

/// <summary>
/// Derives an int8 dynamically quantized ONNX model from a float32 one, in process, the way onnxruntime's
/// <c>quantize_dynamic</c> does for MatMul: every MatMul whose right-hand side is a constant 2-D float matrix becomes
/// <c>DynamicQuantizeLinear</c> (the activations, to uint8 with a per-run scale, once per input tensor) →
/// <c>MatMulInteger</c> (against the weights quantized to int8) → <c>Cast</c> → <c>Mul</c> (by activation scale ×
/// weight scale). ONNX Runtime fuses that pattern into <c>DynamicQuantizeMatMul</c> / <c>MatMulIntegerToFloat</c> when it
/// loads the model. An <c>Attention</c> operator (<see cref="OnnxAttentionFuser"/>) becomes <c>DynamicQuantizeLinear</c>
/// → <c>QAttention</c> over its packed int8 projection, as <c>quantize_dynamic</c> does. Weights are quantized symmetrically per output column (zero point 0): measured on arctic-embed-xs,
/// per column keeps a cosine of about 0.998 to the float32 vectors where one scale per matrix gave about 0.99.
/// </summary>
/// <remarks>
/// The embedding tables (Gather) and the attention products of two activations stay float32. With int8 weights a query
/// reads a quarter of the bytes of the float32 model, and at a few dozen tokens that, not arithmetic, is the cost.
/// </remarks>
internal static class OnnxDynamicQuantizer
{
    /// <summary>
    /// Whether weights are kept to 7 bits on this CPU. Without VNNI, ONNX Runtime multiplies uint8 by int8 with
    /// <c>vpmaddubsw</c>, whose 16-bit pair sums saturate at full range (255 × 127 × 2 &gt; 32,767) and corrupt the
    /// product; with weights within ±63 they cannot (onnxruntime's <c>reduce_range</c>). VNNI and Arm's dot products
    /// sum in 32 bits, so there the full range is kept.
    /// </summary>
    public static bool ReducesRangeHere { get; } =
        (X86Base.IsSupported || X86Base.X64.IsSupported) && !AvxVnni.IsSupported && !Avx10v1.IsSupported;

    /// <summary>Quantizes <paramref name="float32Model"/> (a serialized ONNX model) and returns the serialized int8 model.</summary>
    /// <param name="float32Model">The serialized float32 model.</param>
    /// <param name="reduceRange">Keeps weights within ±63 (see <see cref="ReducesRangeHere"/>, the default).</param>
    /// <exception cref="InvalidDataException">The bytes are not an ONNX model, or it has no MatMul or Attention with constant weights.</exception>
    public static byte[] Quantize(byte[] float32Model, bool? reduceRange = null)
    {
        var model = Parse(float32Model);
        Quantize(model, reduceRange);
        return model.ToByteArray();
    }

    /// <summary>Quantizes <paramref name="model"/> in place; see <see cref="Quantize(byte[], bool?)"/>.</summary>
    /// <param name="model">The float32 model, possibly with attention fused by <see cref="OnnxAttentionFuser"/>.</param>
    /// <param name="reduceRange">Keeps weights within ±63 (see <see cref="ReducesRangeHere"/>, the default).</param>
    /// <exception cref="InvalidDataException">The model has no graph, or no MatMul or Attention with constant weights.</exception>
    public static void Quantize(ModelProto model, bool? reduceRange = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var weightMax = (reduceRange ?? ReducesRangeHere) ? 63f : 127f;
        var graph = model.Graph ?? throw new InvalidDataException("The embedding model has no graph.");
        // A weight that is also a graph input can be overridden at run time, so it is not a constant.
        var graphInputs = graph.Input.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        var weights = graph.Initializer
            .Where(t => t.DataType == (int)TensorProto.Types.DataType.Float && t.Dims.Count == 2 && !graphInputs.Contains(t.Name))
            .ToDictionary(t => t.Name, StringComparer.Ordinal);
        var names = new UniqueNames(graph);

        var nodes = new List<NodeProto>(graph.Node.Count * 2);
        var quantizedInputs = new Dictionary<string, (string Value, string Scale, string ZeroPoint)>(StringComparer.Ordinal);
        var quantizedWeights = new Dictionary<string, (string Value, string Scale, string ZeroPoint)>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            var isMatMul = node.OpType == "MatMul" && node.Domain is ("" or "ai.onnx") && node.Input.Count == 2;
            var isAttention = node.OpType == "Attention" && node.Domain == MicrosoftDomain && node.Input.Count >= 3;
            if (!(isMatMul || isAttention) || !weights.TryGetValue(node.Input[1], out var weight))
            {
                nodes.Add(node);
                continue;
            }

            if (!quantizedWeights.TryGetValue(weight.Name, out var w))
            {
                w = QuantizeWeight(weight, weightMax, names, graph);
                quantizedWeights.Add(weight.Name, w);
            }

            var input = node.Input[0];
            if (!quantizedInputs.TryGetValue(input, out var x))
            {
                x = (names.Next(input + "_quantized"), names.Next(input + "_scale"), names.Next(input + "_zero_point"));
                nodes.Add(Node("DynamicQuantizeLinear", names.Next(input + "_QuantizeLinear"), [input], [x.Value, x.Scale, x.ZeroPoint]));
                quantizedInputs.Add(input, x);
            }

            if (isAttention)
            {
                // QAttention: the packed projection in int8 (per-column scales, zero points 0, so left out), then
                // the same attention in float32. Inputs: x, W, bias, x scale, W scale, mask, x zero point.
                var mask = node.Input.Count > 3 ? node.Input[3] : "";
                var attention = Node("QAttention", names.Next(node.Name + "_quant"), [x.Value, w.Value, node.Input[2], x.Scale, w.Scale, mask, x.ZeroPoint], [.. node.Output], MicrosoftDomain);
                attention.Attribute.AddRange(node.Attribute);
                nodes.Add(attention);
                continue;
            }

            var output = node.Output[0];
            var product = names.Next(output + "_output_quantized");
            var productAsFloat = names.Next(output + "_output_quantized_cast");
            var scale = names.Next(output + "_scales_mul");
            nodes.Add(Node("MatMulInteger", names.Next(node.Name + "_quant"), [x.Value, w.Value, x.ZeroPoint, w.ZeroPoint], [product]));
            var cast = Node("Cast", names.Next(node.Name + "_cast"), [product], [productAsFloat]);
            cast.Attribute.Add(new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = (long)TensorProto.Types.DataType.Float });
            nodes.Add(cast);
            nodes.Add(Node("Mul", names.Next(node.Name + "_scales_mul"), [x.Scale, w.Scale], [scale]));
            nodes.Add(Node("Mul", names.Next(node.Name + "_output_scale_mul"), [productAsFloat, scale], [output]));
        }

        if (quantizedWeights.Count == 0)
        {
            throw new InvalidDataException("The embedding model has no MatMul or Attention with constant weights to quantize.");
        }

        graph.Node.Clear();
        graph.Node.AddRange(nodes);
        // The float weights and zero points that no node reads any more.
        var read = graph.Node.SelectMany(n => n.Input).ToHashSet(StringComparer.Ordinal);
        var unused = quantizedWeights.SelectMany(w => new[] { w.Key, w.Value.ZeroPoint }).Where(name => !read.Contains(name)).ToHashSet(StringComparer.Ordinal);
        var kept = graph.Initializer.Where(t => !unused.Contains(t.Name)).ToList();
        graph.Initializer.Clear();
        graph.Initializer.AddRange(kept);
    }

    /// <summary>Adds the int8 weights, their per-column scales and zero points as initializers and returns their names.</summary>
    private static (string Value, string Scale, string ZeroPoint) QuantizeWeight(TensorProto weight, float weightMax, UniqueNames names, GraphProto graph)
    {
        int rows = checked((int)weight.Dims[0]), columns = checked((int)weight.Dims[1]);
        var values = Floats(weight);
        if (values.Length != rows * columns)
        {
            throw new InvalidDataException($"Weight '{weight.Name}' holds {values.Length} values for a {rows}x{columns} matrix.");
        }

        var scales = new float[columns];
        for (var r = 0; r < rows; r++)
        {
            var row = values.Slice(r * columns, columns);
            for (var c = 0; c < columns; c++)
            {
                scales[c] = MathF.Max(scales[c], MathF.Abs(row[c]));
            }
        }

        for (var c = 0; c < columns; c++)
        {
            scales[c] = scales[c] > 0 ? scales[c] / weightMax : 1f;
        }

        var quantized = new sbyte[rows * columns];
        for (var r = 0; r < rows; r++)
        {
            var row = values.Slice(r * columns, columns);
            var target = quantized.AsSpan(r * columns, columns);
            for (var c = 0; c < columns; c++)
            {
                target[c] = (sbyte)Math.Clamp(MathF.Round(row[c] / scales[c], MidpointRounding.ToEven), -weightMax, weightMax);
            }
        }

        var value = Tensor(names.Next(weight.Name + "_quantized"), TensorProto.Types.DataType.Int8, MemoryMarshal.AsBytes<sbyte>(quantized), rows, columns);
        var scale = Tensor(names.Next(weight.Name + "_scale"), TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes<float>(scales), columns);
        var zeroPoint = Tensor(names.Next(weight.Name + "_zero_point"), TensorProto.Types.DataType.Int8, new byte[columns], columns);
        graph.Initializer.Add(value);
        graph.Initializer.Add(scale);
        graph.Initializer.Add(zeroPoint);
        return (value.Name, scale.Name, zeroPoint.Name);
    }
}
