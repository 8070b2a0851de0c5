using System.Text.Json.Serialization;

namespace Voxon.Storage;

/// <summary>Source-generated JSON for stored documents: the spec's snake_case keys, enums as strings.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectRequiredConstructorParameters = true,
    RespectNullableAnnotations = true)]
[JsonSerializable(typeof(SessionDocument))]
[JsonSerializable(typeof(MemoryExportDocument))]
[JsonSerializable(typeof(ShareRecord))]
[JsonSerializable(typeof(TemplateDocument))]
[JsonSerializable(typeof(Memory.MemoryEntry))]
[JsonSerializable(typeof(ConversationDocument))]
[JsonSerializable(typeof(Conversations.ConversationTurn))]
[JsonSerializable(typeof(FileSessionState))]
[JsonSerializable(typeof(KeyRingParameters))]
[JsonSerializable(typeof(ErasureMarker))]
internal sealed partial class VoxonJsonContext : JsonSerializerContext;
