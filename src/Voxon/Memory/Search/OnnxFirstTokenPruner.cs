using Onnx;
using static Voxon.Memory.Search.OnnxGraph;

namespace Voxon.Memory.Search;

/// <summary>
/// For a model whose caller reads only the first token's vector (arctic-embed pools the [CLS] token), keeps only that
/// row after the last operator that mixes tokens (the last <c>Attention</c>): the last layer's output projection,
/// feed-forward and normalizations then run on one row instead of the whole sequence, and the output holds one row per
/// text, (batch, 1, hidden).
/// </summary>
/// <remarks>
/// Safe because everything after the last attention works row by row: the rewrite checks that every node there is a
/// row-wise operator (a MatMul by a constant, element-wise arithmetic, a mean over the last axis) and otherwise leaves
/// the model alone.
/// </remarks>
internal static class OnnxFirstTokenPruner
{
    private static readonly HashSet<string> ElementWise = ["Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Erf", "Cast", "Identity"];

    /// <summary>Prunes <paramref name="model"/> in place.</summary>
    /// <returns>Whether the model was pruned (false: no attention, or a node after the last one mixes rows).</returns>
    public static bool Prune(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph ?? throw new InvalidDataException("The embedding model has no graph.");
        var last = graph.Node.LastOrDefault(n => n.OpType is "Attention" or "QAttention" && n.Domain == MicrosoftDomain);
        if (last is null || graph.Output.Count != 1)
        {
            return false;
        }

        var constants = graph.Initializer.Select(t => t.Name).Concat(graph.Node.Where(n => n.OpType == "Constant").SelectMany(n => n.Output)).ToHashSet(StringComparer.Ordinal);
        var producers = new Dictionary<string, NodeProto>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            foreach (var output in node.Output)
            {
                producers[output] = node;
            }
        }

        // The nodes after the last attention, in order; the tensors they read from before it are where rows are cut.
        var after = new HashSet<string>(last.Output, StringComparer.Ordinal);
        var region = new List<NodeProto>();
        foreach (var node in graph.Node.SkipWhile(n => !ReferenceEquals(n, last)).Skip(1))
        {
            if (node.Input.Any(after.Contains))
            {
                region.Add(node);
                after.UnionWith(node.Output);
            }
        }

        if (region.Count == 0 || !after.Contains(graph.Output[0].Name) || !region.All(n => IsRowWise(n, constants)))
        {
            return false;
        }

        var cuts = region.SelectMany(n => n.Input).Where(i => !constants.Contains(i) && i.Length > 0 && (!after.Contains(i) || last.Output.Contains(i)))
            .Distinct(StringComparer.Ordinal).ToList();
        var names = new UniqueNames(graph);
        var first = names.Next("first_token_index");
        graph.Initializer.Add(Tensor(first, TensorProto.Types.DataType.Int64, BitConverter.GetBytes(0L), 1));
        var gathers = new List<NodeProto>();
        var renamed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var cut in cuts)
        {
            var row = names.Next(cut + "_first_token");
            var gather = Node("Gather", names.Next(cut + "_Gather_first_token"), [cut, first], [row]);
            gather.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
            gathers.Add(gather);
            renamed.Add(cut, row);
        }

        foreach (var node in region)
        {
            for (var i = 0; i < node.Input.Count; i++)
            {
                if (renamed.TryGetValue(node.Input[i], out var row))
                {
                    node.Input[i] = row;
                }
            }
        }

        var nodes = graph.Node.ToList();
        nodes.InsertRange(nodes.IndexOf(region[0]), gathers);
        graph.Node.Clear();
        graph.Node.AddRange(nodes);
        if (graph.Output[0].Type?.TensorType?.Shape is { Dim.Count: 3 } shape)
        {
            shape.Dim[1] = new TensorShapeProto.Types.Dimension { DimValue = 1 };
        }

        return true;
    }

    private static bool IsRowWise(NodeProto node, HashSet<string> constants) => node.Domain is "" or "ai.onnx" && node.OpType switch
    {
        "MatMul" => constants.Contains(node.Input[1]),
        "ReduceMean" => node.Attribute.FirstOrDefault(a => a.Name == "axes")?.Ints is [-1],
        "Constant" => true,
        var op => ElementWise.Contains(op),
    };
}
