using System.Text.Json.Serialization;

namespace Voxon.Migration;

/// <summary>Source-generated JSON for exports: the storage conventions (snake_case, enums as strings), and strict
/// reading: unknown and duplicate properties are errors, so a damaged or foreign document is refused whole.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectRequiredConstructorParameters = true,
    RespectNullableAnnotations = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowDuplicateProperties = false,
    MaxDepth = 64)]
[JsonSerializable(typeof(SessionExportPayload))]
internal sealed partial class MigrationJsonContext : JsonSerializerContext;
