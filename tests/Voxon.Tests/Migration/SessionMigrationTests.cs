using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Voxon.Migration;
using Voxon.Storage;
using Voxon.Tests.Sharing;

namespace Voxon.Tests.Migration;

public sealed class SessionMigrationTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 1, 9, 0, 0, TimeSpan.Zero));

    public void Dispose() => _dir.Dispose();

    private static string Json(SessionDocument document) => Encoding.UTF8.GetString(SessionDocumentSerializer.Serialize(document));

    [Fact]
    public async Task Export_is_versioned_checksummed_and_holds_everything_but_tokens()
    {
        await using var voxon = FeatureKit.Client(_dir.Sub("a"), _time);
        var session = await MigrationFixture.RichSessionAsync(voxon, _time);
        var export = await session.ExportFullAsync();
        var root = JsonNode.Parse(export.ToString())!.AsObject();
        Assert.Equal("voxon.session.export", (string?)root["format"]);
        Assert.Equal(1, (int?)root["version"]);
        Assert.StartsWith("sha256:", (string?)root["checksum"], StringComparison.Ordinal);
        Assert.Equal(export.Checksum, (string?)root["checksum"]);
        var payload = root["payload"]!.AsObject();
        Assert.Equal("P-77", (string?)payload["session"]!["template"]!["context"]!["patient_ref"]);
        Assert.All(payload["session"]!["memory"]!["entries"]!.AsArray(), e => Assert.NotNull(e!["embedding"]));
        var share = Assert.Single(payload["shares"]!.AsArray())!.AsObject();
        Assert.False(share.ContainsKey("token_hash"));
        var hash = Assert.Single(await voxon.Storage.ListSharesAsync(session.SessionId)).TokenHash;
        Assert.DoesNotContain(hash, export.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_export_saved_with_a_utf8_byte_order_mark_imports()
    {
        await using var source = FeatureKit.Client(_dir.Sub("a"), _time);
        var session = await MigrationFixture.RichSessionAsync(source, _time);
        var export = await session.ExportFullAsync();
        await using var target = FeatureKit.Client(_dir.Sub("b"), _time);

        using var withBom = new MemoryStream([.. Encoding.UTF8.Preamble, .. Encoding.UTF8.GetBytes(export.ToString())]);
        var imported = await target.ImportSessionAsync(withBom);

        Assert.Equal(session.SessionId, imported.SessionId);
        Assert.Equal(session.GetMemory().Entries.Select(e => e.Content).Order(), imported.GetMemory().Entries.Select(e => e.Content).Order());
    }

    [Fact]
    public async Task Round_trip_from_file_storage_to_another_backend_is_equal_on_every_field()
    {
        await using var source = FeatureKit.Client(_dir.Sub("a"), _time);
        var session = await MigrationFixture.RichSessionAsync(source, _time);
        var stored = (await source.Storage.LoadAsync(session.SessionId))!;
        var export = await session.ExportFullAsync();

        var memory = new InMemorySessionStorage();
        await using var target = FeatureKit.Client(memory, _time);
        var imported = await target.ImportSessionAsync(export.ToString());
        var copy = (await memory.LoadAsync(session.SessionId))!;

        Assert.Equal(stored.Version + 1, copy.Version);
        Assert.Null(copy.OwnerVersion); // an import is the owner's write (the source had notes added through a share)
        copy.Version = stored.Version;
        copy.OwnerVersion = stored.OwnerVersion;
        Assert.Equal(Json(stored), Json(copy));
        Assert.Equal(session.TemplateContext, imported.TemplateContext);
        Assert.Equal(session.GetMemory().Entries.Select(e => e.Embedding.ToArray()), imported.GetMemory().Entries.Select(e => e.Embedding.ToArray()));
        var dated = Assert.Single(imported.GetMemory().Entries, e => e.Context is not null);
        Assert.Equal(MigrationFixture.OccurredAt, dated.OccurredAt);
        Assert.Equal("Doctor: any new medication?", dated.Context);
        Assert.Contains("\"occurred_at\"", export.ToString(), StringComparison.Ordinal);
        Assert.Equal(
            dated.Id,
            Assert.Single(await imported.SearchMemoryAsync("what happened on 4 November 2024", topK: 1)).Entry.Id);

        // And back to a second file folder: still the same document.
        await using var back = FeatureKit.Client(_dir.Sub("b"), _time);
        await back.ImportSessionAsync(await imported.ExportFullAsync());
        var again = (await back.Storage.LoadAsync(session.SessionId))!;
        again.Version = stored.Version;
        again.OwnerVersion = stored.OwnerVersion;
        Assert.Equal(Json(stored), Json(again));
    }

    [Fact]
    public async Task User_id_remapping_leaves_no_old_id_anywhere()
    {
        await using var source = FeatureKit.Client(_dir.Sub("a"), _time);
        var export = await (await MigrationFixture.RichSessionAsync(source, _time)).ExportFullAsync();
        Assert.Contains(MigrationFixture.Owner, export.ToString(), StringComparison.Ordinal);
        Assert.Contains(MigrationFixture.Doctor, export.ToString(), StringComparison.Ordinal);

        await using var target = FeatureKit.Client(_dir.Sub("b"), _time);
        var imported = await target.ImportSessionAsync(export, new Dictionary<string, string>
        {
            [MigrationFixture.Owner] = "new_456",
            [MigrationFixture.Doctor] = "dr_9",
        });

        Assert.Equal("new_456", imported.UserId);
        Assert.Contains(imported.GetMemory().Entries, e => e.Author == "dr_9");
        var bytes = File.ReadAllBytes(Path.Combine(_dir.Sub("b"), imported.SessionId + ".json"));
        Assert.False(Utf8Text.Contains(bytes, MigrationFixture.Owner));
        Assert.False(Utf8Text.Contains(bytes, MigrationFixture.Doctor));
        Assert.DoesNotContain(MigrationFixture.Owner, (await imported.ExportFullAsync()).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_existing_session_id_is_refused_unless_a_new_id_is_asked_for()
    {
        await using var voxon = FeatureKit.Client(_dir.Path, _time);
        var session = await MigrationFixture.RichSessionAsync(voxon, _time);
        var export = await session.ExportFullAsync();
        var before = FeatureKit.Snapshot(_dir.Path);
        var error = await Assert.ThrowsAsync<SessionImportException>(() => voxon.ImportSessionAsync(export));
        Assert.Contains("already exists", error.Message, StringComparison.Ordinal);
        Assert.Contains("`voxon sessions import --new-id`", error.Message, StringComparison.Ordinal); // the CLI's way too
        Assert.Equal(before, FeatureKit.Snapshot(_dir.Path));

        var copy = await voxon.ImportSessionAsync(export, newSessionId: true);
        Assert.NotEqual(session.SessionId, copy.SessionId);
        Assert.Equal(copy.SessionId, copy.Config.SessionId);
        Assert.Equal(session.GetMemory().Entries.Count, copy.GetMemory().Entries.Count);
    }

    [Fact]
    public async Task An_import_never_replaces_a_session_stored_after_its_existence_check()
    {
        await using var source = FeatureKit.Client(_dir.Sub("a"), _time);
        var session = await MigrationFixture.RichSessionAsync(source, _time);
        var first = (await session.ExportFullAsync()).ToString();
        var version = session.Version;
        var second = MigrationFixture.Resign(first, payload => MigrationFixture.Session(payload)["version"] = version + 1);

        // Between the check that the id is free and the write, another import of the same id lands.
        var storage = new CheckProbe(new FileSessionStorage(_dir.Sub("b")));
        await using var target = FeatureKit.Client(storage, _time);
        await using var other = FeatureKit.Client(_dir.Sub("b"), _time);
        storage.AfterLoad = async () =>
        {
            storage.AfterLoad = null;
            await other.ImportSessionAsync(first);
        };

        var error = await Assert.ThrowsAsync<SessionImportException>(() => target.ImportSessionAsync(second));
        Assert.Contains("already exists", error.Message, StringComparison.Ordinal);
        Assert.Equal(version + 1, (await other.Storage.LoadAsync(session.SessionId))!.Version);
    }

    /// <summary>Runs an action after a load returns (an import's check that the id is free).</summary>
    private sealed class CheckProbe(SessionStorage inner) : DelegatingSessionStorage(inner)
    {
        public Func<Task>? AfterLoad { get; set; }

        public override async Task<SessionDocument?> LoadAsync(string sessionId, CancellationToken cancellationToken = default)
        {
            var document = await InnerStorage.LoadAsync(sessionId, cancellationToken);
            if (AfterLoad is { } action)
            {
                await action();
            }

            return document;
        }
    }

    public static TheoryData<string> BadInputs() =>
    [
        "wrong_version", "bad_checksum", "truncated", "wrong_types", "duplicate_memory_ids", "path_trick_session_id",
        "path_trick_conversation_id", "missing_required_field", "not_an_export", "unknown_field", "bad_mapping", "cyclic_branches", "foreign_share", "huge_preference", "ambiguous_preference", "huge_metric_name", "unknown_memory_source",
    ];

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task Bad_input_gives_one_clear_error_and_writes_nothing(string kind)
    {
        string export;
        await using (var source = FeatureKit.Client(_dir.Sub("a"), _time))
        {
            export = (await (await MigrationFixture.RichSessionAsync(source, _time)).ExportFullAsync()).ToString();
        }

        IReadOnlyDictionary<string, string>? mapping = null;
        var data = kind switch
        {
            "wrong_version" => export.Replace("\"version\":1", "\"version\":2", StringComparison.Ordinal),
            "bad_checksum" => export.Replace("Allergic to penicillin", "Allergic to aspirin", StringComparison.Ordinal),
            "truncated" => export[..(export.Length / 2)],
            "wrong_types" => MigrationFixture.Resign(export, p => MigrationFixture.Session(p)["memory"]!["entries"]![0]!["importance"] = "high"),
            "duplicate_memory_ids" => MigrationFixture.Resign(export, p =>
            {
                var entries = MigrationFixture.Session(p)["memory"]!["entries"]!.AsArray();
                entries[1]!["id"] = (string?)entries[0]!["id"];
            }),
            "path_trick_session_id" => MigrationFixture.Resign(export, p =>
            {
                MigrationFixture.Session(p)["session_id"] = "../../escape";
                MigrationFixture.Session(p)["config"]!["session_id"] = "../../escape";
            }),
            "path_trick_conversation_id" => MigrationFixture.Resign(export, p => MigrationFixture.Session(p)["conversations"]![1]!["conversation_id"] = "..\\side"),
            "missing_required_field" => MigrationFixture.Resign(export, p => MigrationFixture.Session(p).Remove("user_id")),
            "not_an_export" => "[1,2,3]",
            "unknown_field" => MigrationFixture.Resign(export, p => MigrationFixture.Session(p)["surprise"] = 1),
            "bad_mapping" => export,
            "cyclic_branches" => MigrationFixture.Resign(export, p => MigrationFixture.Session(p)["conversations"]![0]!["parent_id"] = "side"),
            "foreign_share" => MigrationFixture.Resign(export, p => p["shares"]![0]!["session_id"] = "sess_other"),
            "huge_preference" => MigrationFixture.Resign(export, p => MigrationFixture.Session(p)["preferences"]!["tone"] = new string('a', 40_000)),
            "ambiguous_preference" => MigrationFixture.Resign(export, p => MigrationFixture.Session(p)["preferences"]!["Formality"] = "always_casual"),
            "huge_metric_name" => MigrationFixture.Resign(export, p => MigrationFixture.Session(p)["analytics"]!["custom_metrics"]![new string('m', 5_000)] = new System.Text.Json.Nodes.JsonObject()),
            "unknown_memory_source" => MigrationFixture.Resign(export, p => MigrationFixture.Session(p)["memory"]!["entries"]![0]!["source"] = -1),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        if (kind == "bad_mapping")
        {
            mapping = new Dictionary<string, string> { [MigrationFixture.Owner] = "../root" };
        }

        var folder = _dir.Sub("b");
        await using var target = FeatureKit.Client(folder, _time);
        var before = FeatureKit.Snapshot(folder);
        var error = await Assert.ThrowsAsync<SessionImportException>(() => target.ImportSessionAsync(data, mapping));
        Assert.StartsWith("Cannot import the session: ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Equal(before, FeatureKit.Snapshot(folder));
        Assert.Empty(await target.ListSessionsAsync());
    }

    [Fact]
    public async Task An_oversized_document_is_refused_before_it_is_parsed()
    {
        await using var source = FeatureKit.Client(_dir.Sub("a"), _time);
        var export = await (await MigrationFixture.RichSessionAsync(source, _time)).ExportFullAsync();
        var folder = _dir.Sub("b");
        await using var target = FeatureKit.Client(new FileSessionStorage(folder), _time, maxImport: 1024);
        var error = await Assert.ThrowsAsync<SessionImportException>(() => target.ImportSessionAsync(export));
        Assert.Contains("1024-byte limit", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<SessionImportException>(() => target.ImportSessionAsync(new MemoryStream(export.ToUtf8Bytes())));
        await Assert.ThrowsAsync<SessionImportException>(() => target.ImportSessionAsync(export.ToString()));
        Assert.Empty(FeatureKit.Snapshot(folder));
    }

    [Fact]
    public async Task Vectors_of_another_size_than_this_models_are_embedded_again_on_import()
    {
        string export;
        await using (var source = FeatureKit.Client(_dir.Sub("a"), _time))
        {
            export = (await (await MigrationFixture.RichSessionAsync(source, _time)).ExportFullAsync()).ToString();
        }

        // Two-dimension vectors, as another embedding model (or a forged file) would leave them.
        var foreign = Convert.ToBase64String(new byte[] { 0, 0, 128, 63, 0, 0, 0, 0 });
        var data = MigrationFixture.Resign(export, p =>
        {
            foreach (var entry in MigrationFixture.Session(p)["memory"]!["entries"]!.AsArray())
            {
                entry!["embedding"] = foreign;
            }
        });
        var folder = _dir.Sub("b");
        await using var target = FeatureKit.Client(folder, _time);

        var imported = await target.ImportSessionAsync(data);

        Assert.Contains(await imported.SearchMemoryAsync("penicillin allergy"), h => h.Entry.Content == "Allergic to penicillin");
        await imported.SaveAsync();
        await using var later = FeatureKit.Client(folder, _time);
        var reloaded = await later.LoadSessionAsync(imported.SessionId);
        Assert.Contains(await reloaded.SearchMemoryAsync("penicillin allergy"), h => h.Entry.Content == "Allergic to penicillin");
        Assert.All(reloaded.GetMemory().Entries, e => Assert.Equal(32, e.Embedding.Length));
    }

    [Fact]
    public async Task A_pretty_printed_export_still_passes_the_checksum()
    {
        await using var source = FeatureKit.Client(_dir.Sub("a"), _time);
        var export = await (await MigrationFixture.RichSessionAsync(source, _time)).ExportFullAsync();
        var pretty = JsonNode.Parse(export.ToString())!.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
        await using var target = FeatureKit.Client(_dir.Sub("b"), _time);
        Assert.Equal(export.SessionId, (await target.ImportSessionAsync(pretty)).SessionId);
    }

    [Fact]
    public async Task Derived_counts_of_an_import_are_recomputed_not_trusted()
    {
        await using var source = FeatureKit.Client(_dir.Sub("a"), _time);
        var session = await MigrationFixture.RichSessionAsync(source, _time);
        var export = MigrationFixture.Resign((await session.ExportFullAsync()).ToString(), payload =>
        {
            var document = MigrationFixture.Session(payload);
            foreach (var entry in document["memory"]!["entries"]!.AsArray())
            {
                entry!["token_count"] = int.MaxValue;
            }

            document["memory"]!["token_count"] = -5;
            document["analytics"]!["message_count"] = 1_000_000;
            document["analytics"]!["conversation_count"] = -1;
        });

        await using var target = FeatureKit.Client(_dir.Sub("b"), _time);
        var imported = await target.ImportSessionAsync(export);
        Assert.Equal(session.GetMemory().TokenCount, imported.GetMemory().TokenCount);
        Assert.InRange(imported.GetMemory().TokenCount, 1, 200);
        Assert.Equal(session.GetMemory().Entries.Select(e => e.TokenCount), imported.GetMemory().Entries.Select(e => e.TokenCount));
        Assert.Equal(session.GetAnalytics().MessageCount, imported.GetAnalytics().MessageCount);
        Assert.Equal(2, imported.GetAnalytics().ConversationCount);

        // The budget still works: a memory past max_memory_size evicts instead of the count wrapping negative.
        Assert.True(imported.GetMemory().Usage < 1);
    }

    [Theory]
    [InlineData("topic_counts")]
    [InlineData("hourly_messages")]
    [InlineData("sentiment_samples")]
    [InlineData("custom_metric")]
    [InlineData("learned_evidence")]
    public async Task Negative_counters_that_cannot_be_recomputed_are_refused(string counter)
    {
        await using var source = FeatureKit.Client(_dir.Sub("a"), _time);
        var session = await MigrationFixture.RichSessionAsync(source, _time);
        session.TrackMetric("calls", 2);
        var export = MigrationFixture.Resign((await session.ExportFullAsync()).ToString(), payload =>
        {
            var document = MigrationFixture.Session(payload);
            var analytics = document["analytics"]!.AsObject();
            switch (counter)
            {
                case "topic_counts": analytics["topic_counts"] = new JsonObject { ["jazz"] = -3 }; break;
                case "hourly_messages": analytics["hourly_messages"]![9] = -1; break;
                case "sentiment_samples": analytics["sentiment_samples"] = -2; break;
                case "custom_metric": analytics["custom_metrics"]!["calls"]!["count"] = -1; break;
                default: document["learned_preferences"]!["evidence_count"] = -4; break;
            }
        });

        await using var target = FeatureKit.Client(_dir.Sub("b"), _time);
        var error = await Assert.ThrowsAsync<SessionImportException>(() => target.ImportSessionAsync(export));
        Assert.Contains("counters", error.Message, StringComparison.Ordinal);
        Assert.Empty(await target.ListSessionsAsync());
    }

    [Theory]
    [InlineData(long.MaxValue)]
    [InlineData(SessionDocument.MaxVersion)]
    [InlineData(-1L)]
    public async Task Versions_out_of_bounds_are_refused_on_import(long version)
    {
        await using var source = FeatureKit.Client(_dir.Sub("a"), _time);
        var session = await MigrationFixture.RichSessionAsync(source, _time);
        var export = MigrationFixture.Resign((await session.ExportFullAsync()).ToString(), payload => MigrationFixture.Session(payload)["version"] = version);

        await using var target = FeatureKit.Client(_dir.Sub("b"), _time);
        var error = await Assert.ThrowsAsync<SessionImportException>(() => target.ImportSessionAsync(export));
        Assert.Contains("version", error.Message, StringComparison.Ordinal);
        Assert.Empty(await target.ListSessionsAsync());
    }

    [Fact]
    public async Task A_session_imported_just_below_the_version_bound_saves_without_overflowing()
    {
        await using var source = FeatureKit.Client(_dir.Sub("a"), _time);
        var session = await MigrationFixture.RichSessionAsync(source, _time);
        var export = MigrationFixture.Resign((await session.ExportFullAsync()).ToString(), payload => MigrationFixture.Session(payload)["version"] = SessionDocument.MaxVersion - 2);

        await using var target = FeatureKit.Client(_dir.Sub("b"), _time);
        var imported = await target.ImportSessionAsync(export);
        Assert.Equal(SessionDocument.MaxVersion - 1, imported.Version);
        await imported.AddMemoryAsync("saved at the last version", "note");
        await imported.SaveAsync();
        Assert.Equal(SessionDocument.MaxVersion, (await target.LoadSessionAsync(imported.SessionId)).Version);
        await imported.AddMemoryAsync("one save too many", "note");
        await Assert.ThrowsAsync<Voxon.Sessions.SessionStateException>(() => imported.SaveAsync());
        Assert.Equal(SessionDocument.MaxVersion, (await target.LoadSessionAsync(imported.SessionId)).Version);
    }
}
