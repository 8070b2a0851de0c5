using Onnx;
using static Voxon.Memory.Search.OnnxGraph;

namespace Voxon.Memory.Search;

/// <summary>
/// Rewrites each self-attention block of a BERT-style ONNX export (as PyTorch writes it at opset 11: query, key and value
/// MatMul + Add, Reshape and Transpose to heads, scaled scores plus the padding mask, Softmax, the weighted sum,
/// Transpose and Reshape back) into one ONNX Runtime <c>Attention</c> operator with the three projections packed into
/// one weight. ONNX Runtime's own attention fusion does not match this export, so without the rewrite a query runs some
/// forty small nodes per layer; with it, one. <see cref="OnnxDynamicQuantizer"/> then turns the packed projection into
/// int8 (<c>QAttention</c>).
/// </summary>
/// <remarks>
/// The rewrite only replaces what it recognizes: a block that differs in any checked detail (head layout, a scale
/// other than 1/√head size, a mask not derived from one graph input) is left as it is, so the model computes the
/// same function either way. Nodes left without a consumer are then removed. The residual Add + layer normalization
/// that follows is not rewritten into <c>SkipLayerNormalization</c> (which ONNX Runtime fuses only at a fixed sequence
/// length): tried, its vectors fell to a cosine of 0.9989 to the exported graph's, with no gain in speed.
/// </remarks>
internal static class OnnxAttentionFuser
{
    /// <summary>Fuses the attention blocks of <paramref name="model"/> in place.</summary>
    /// <returns>How many blocks were fused.</returns>
    /// <exception cref="InvalidDataException">The model has no graph.</exception>
    public static int Fuse(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph ?? throw new InvalidDataException("The embedding model has no graph.");
        var matcher = new Matcher(graph);
        var names = new UniqueNames(graph);
        var replacements = new Dictionary<NodeProto, NodeProto>(ReferenceEqualityComparer.Instance);
        var masks = new Dictionary<string, string>(StringComparer.Ordinal);
        var casts = new List<NodeProto>();
        foreach (var softmax in graph.Node.Where(n => n.OpType == "Softmax" && IsOnnx(n)).ToList())
        {
            if (matcher.Match(softmax) is not { } block)
            {
                continue;
            }

            if (!masks.TryGetValue(block.Mask, out var mask))
            {
                // Attention takes the raw 0/1 padding mask, (batch, sequence), as int32.
                mask = names.Next(block.Mask + "_int32");
                var cast = Node("Cast", names.Next(block.Mask + "_Cast_int32"), [block.Mask], [mask]);
                cast.Attribute.Add(new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = (long)TensorProto.Types.DataType.Int32 });
                casts.Add(cast);
                masks.Add(block.Mask, mask);
            }

            var prefix = block.Output.Name.TrimEnd('/') + "_";
            var weight = FloatTensor(names.Next(prefix + "qkv_weight"), PackColumns(block.Query.Weight, block.Key.Weight, block.Value.Weight), block.Query.Weight.Dims[0], 3 * block.Query.Weight.Dims[1]);
            var bias = FloatTensor(names.Next(prefix + "qkv_bias"), [.. Floats(block.Query.Bias), .. Floats(block.Key.Bias), .. Floats(block.Value.Bias)], 3 * block.Query.Bias.Dims[0]);
            graph.Initializer.Add(weight);
            graph.Initializer.Add(bias);
            var attention = Node("Attention", names.Next(prefix + "Attention"), [block.Query.Input, weight.Name, bias.Name, mask], [block.Output.Output[0]], MicrosoftDomain);
            attention.Attribute.Add(new AttributeProto { Name = "num_heads", Type = AttributeProto.Types.AttributeType.Int, I = block.Heads });
            replacements.Add(block.Output, attention);
        }

        if (replacements.Count == 0)
        {
            return 0;
        }

        var nodes = casts.Concat(graph.Node.Select(n => replacements.GetValueOrDefault(n, n))).ToList();
        graph.Node.Clear();
        graph.Node.AddRange(nodes);
        RemoveUnused(graph);
        if (!model.OpsetImport.Any(o => o.Domain == MicrosoftDomain))
        {
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = MicrosoftDomain, Version = 1 });
        }

        return replacements.Count;
    }

    private static bool IsOnnx(NodeProto node) => node.Domain is "" or "ai.onnx";

    /// <summary>Three (rows × columns) matrices side by side: (rows × 3·columns), the layout Attention's weight has.</summary>
    private static float[] PackColumns(TensorProto first, TensorProto second, TensorProto third)
    {
        int rows = checked((int)first.Dims[0]), columns = checked((int)first.Dims[1]);
        var packed = new float[rows * columns * 3];
        var parts = new[] { first, second, third };
        for (var p = 0; p < 3; p++)
        {
            var values = Floats(parts[p]);
            for (var r = 0; r < rows; r++)
            {
                values.Slice(r * columns, columns).CopyTo(packed.AsSpan((r * columns * 3) + (p * columns), columns));
            }
        }

        return packed;
    }

    /// <summary>Drops the nodes no graph output depends on, then the initializers nothing reads.</summary>
    private static void RemoveUnused(GraphProto graph)
    {
        var live = graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var kept = new List<NodeProto>(graph.Node.Count);
        for (var i = graph.Node.Count - 1; i >= 0; i--)
        {
            var node = graph.Node[i];
            if (node.Output.Any(live.Contains))
            {
                kept.Add(node);
                live.UnionWith(node.Input);
            }
        }

        kept.Reverse();
        graph.Node.Clear();
        graph.Node.AddRange(kept);
        var removed = graph.Initializer.Where(t => !live.Contains(t.Name)).Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var initializers = graph.Initializer.Where(t => !removed.Contains(t.Name)).ToList();
        graph.Initializer.Clear();
        graph.Initializer.AddRange(initializers);
        // Older exports list initializers among the inputs too; a removed one must not become a required input.
        var inputs = graph.Input.Where(i => !removed.Contains(i.Name)).ToList();
        graph.Input.Clear();
        graph.Input.AddRange(inputs);
    }

    private sealed record Projection(string Input, TensorProto Weight, TensorProto Bias);

    private sealed record Block(Projection Query, Projection Key, Projection Value, string Mask, long Heads, NodeProto Output);

    /// <summary>Walks from a Softmax through the export's attention pattern, checking each step.</summary>
    private sealed class Matcher
    {
        private static readonly long[] ToHeads = [0, 2, 1, 3];
        private static readonly long[] ToHeadsTransposed = [0, 2, 3, 1];

        private readonly Dictionary<string, NodeProto> _producers = new(StringComparer.Ordinal);
        private readonly ILookup<string, NodeProto> _consumers;
        private readonly Dictionary<string, TensorProto> _constants;
        private readonly HashSet<string> _inputs;

        public Matcher(GraphProto graph)
        {
            foreach (var node in graph.Node)
            {
                foreach (var output in node.Output)
                {
                    _producers[output] = node;
                }
            }

            _consumers = graph.Node.SelectMany(n => n.Input.Select(i => (Input: i, Node: n))).ToLookup(p => p.Input, p => p.Node, StringComparer.Ordinal);
            _inputs = graph.Input.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
            // A weight that is also a graph input can be overridden at run time, so it is not a constant.
            _constants = graph.Initializer.Where(t => !_inputs.Contains(t.Name)).ToDictionary(t => t.Name, StringComparer.Ordinal);
            foreach (var node in graph.Node.Where(n => n.OpType == "Constant" && IsOnnx(n) && n.Output.Count == 1))
            {
                if (node.Attribute.FirstOrDefault(a => a.Name == "value")?.T is { } value)
                {
                    _constants[node.Output[0]] = value;
                }
            }
        }

        public Block? Match(NodeProto softmax)
        {
            if (Axis(softmax) is not (3 or -1) || From(softmax.Input[0], "Add") is not { } masked)
            {
                return null;
            }

            for (var side = 0; side < 2; side++)
            {
                if (Scores(masked.Input[side]) is { } scores && MaskInput(masked.Input[1 - side]) is { } mask)
                {
                    return Match(softmax, scores.Product, scores.Scale, mask);
                }
            }

            return null;
        }

        private Block? Match(NodeProto softmax, NodeProto scores, float scale, string mask)
        {
            if (Heads(From(scores.Input[0], "Transpose"), ToHeads) is not { } query
                || Heads(From(scores.Input[1], "Transpose"), ToHeadsTransposed) is not { } key
                || OnlyConsumer(softmax.Output[0], "MatMul") is not { } context || context.Input[0] != softmax.Output[0]
                || Heads(From(context.Input[1], "Transpose"), ToHeads) is not { } value
                || OnlyConsumer(context.Output[0], "Transpose") is not { } back || !HasPerm(back, ToHeads)
                || OnlyConsumer(back.Output[0], "Reshape") is not { } output)
            {
                return null;
            }

            var (heads, headSize) = (query.Heads, query.HeadSize);
            var width = heads * headSize;
            var projections = new[] { query.Projection, key.Projection, value.Projection };
            var sameShape = (key.Heads, key.HeadSize) == (heads, headSize) && (value.Heads, value.HeadSize) == (heads, headSize)
                && projections.All(p => p.Input == query.Projection.Input && p.Weight.Dims[0] == query.Projection.Weight.Dims[0] && p.Weight.Dims[1] == width);
            // Attention scales scores by 1/√head size; a block scaled otherwise stays as it is.
            return sameShape && MathF.Abs((scale * MathF.Sqrt(headSize)) - 1f) < 1e-4f
                ? new Block(query.Projection, key.Projection, value.Projection, mask, heads, output)
                : null;
        }

        /// <summary>(Q·Kᵀ) divided by, or multiplied with, a scalar constant.</summary>
        private (NodeProto Product, float Scale)? Scores(string name)
        {
            if (!_producers.TryGetValue(name, out var node) || !IsOnnx(node) || node.OpType is not ("Div" or "Mul"))
            {
                return null;
            }

            for (var side = 0; side < (node.OpType == "Mul" ? 2 : 1); side++)
            {
                if (Scalar(node.Input[1 - side]) is float c && c != 0 && From(node.Input[side], "MatMul") is { } product)
                {
                    return (product, node.OpType == "Div" ? 1 / c : c);
                }
            }

            return null;
        }

        /// <summary>A projection (MatMul + bias) reshaped to (batch, sequence, heads, head size) and transposed by <paramref name="perm"/>.</summary>
        private (Projection Projection, long Heads, long HeadSize)? Heads(NodeProto? transpose, long[] perm)
        {
            if (transpose is null || !HasPerm(transpose, perm) || From(transpose.Input[0], "Reshape") is not { } reshape
                || Linear(reshape.Input[0]) is not { } projection)
            {
                return null;
            }

            // The target shape is (0 or batch, 0 or sequence, heads, head size): a constant, or a Concat ending in two.
            long[]? shape = _constants.TryGetValue(reshape.Input[1], out var constant) ? Int64s(constant).ToArray()
                : From(reshape.Input[1], "Concat") is { Input.Count: 4 } concat && Scalar64(concat.Input[2]) is long h && Scalar64(concat.Input[3]) is long s ? [0, 0, h, s]
                : null;
            return shape is [_, _, > 0 and var heads, > 0 and var size] ? (projection, heads, size) : null;
        }

        /// <summary>Add(bias, MatMul(x, weight)) with a constant 2-D float weight and a matching 1-D bias.</summary>
        private Projection? Linear(string name)
        {
            if (From(name, "Add") is not { } add)
            {
                return null;
            }

            for (var side = 0; side < 2; side++)
            {
                if (_constants.TryGetValue(add.Input[side], out var bias) && From(add.Input[1 - side], "MatMul") is { } product
                    && _constants.TryGetValue(product.Input[1], out var weight) && IsFloat(weight) && IsFloat(bias)
                    && weight.Dims.Count == 2 && bias.Dims.Count == 1 && bias.Dims[0] == weight.Dims[1])
                {
                    return new Projection(product.Input[0], weight, bias);
                }
            }

            return null;
        }

        /// <summary>The graph input an additive padding mask is computed from with element-wise steps only, if there is exactly one.</summary>
        private string? MaskInput(string name)
        {
            var found = new HashSet<string>(StringComparer.Ordinal);
            var pending = new Stack<string>([name]);
            while (pending.TryPop(out var value))
            {
                if (_inputs.Contains(value))
                {
                    found.Add(value);
                }
                else if (_producers.TryGetValue(value, out var node) && IsOnnx(node) && node.OpType is "Unsqueeze" or "Cast" or "Sub" or "Mul")
                {
                    foreach (var input in node.Input)
                    {
                        pending.Push(input);
                    }
                }
                else if (!_constants.ContainsKey(value))
                {
                    return null;
                }
            }

            return found.Count == 1 ? found.Single() : null;
        }

        private NodeProto? From(string name, string opType) =>
            _producers.TryGetValue(name, out var node) && node.OpType == opType && IsOnnx(node) ? node : null;

        /// <summary>The one node of <paramref name="opType"/> that reads <paramref name="name"/>, besides nodes that read only its shape.</summary>
        private NodeProto? OnlyConsumer(string name, string opType) =>
            _consumers[name].Where(n => n.OpType != "Shape").ToList() is [var node] && node.OpType == opType && IsOnnx(node) ? node : null;

        private float? Scalar(string name) =>
            _constants.TryGetValue(name, out var t) && t.DataType == (int)TensorProto.Types.DataType.Float && Floats(t) is [var value] ? value : null;

        private long? Scalar64(string name) =>
            _constants.TryGetValue(name, out var t) && t.DataType == (int)TensorProto.Types.DataType.Int64 && Int64s(t) is [var value] ? value : null;

        private static bool IsFloat(TensorProto tensor) => tensor.DataType == (int)TensorProto.Types.DataType.Float;

        private static bool HasPerm(NodeProto transpose, long[] perm) =>
            transpose.Attribute.FirstOrDefault(a => a.Name == "perm")?.Ints.SequenceEqual(perm) == true;

        private static long? Axis(NodeProto softmax) => softmax.Attribute.FirstOrDefault(a => a.Name == "axis")?.I;
    }
}
