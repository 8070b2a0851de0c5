using System.Text.Json;
using Voxon.Events;
using Voxon.Memory;
using Voxon.Sessions;

namespace Voxon.Tests.Memory;

public sealed class MemoryApiTests
{
    [Fact]
    public void Token_counting_hands_the_tokenizer_bounded_pieces_and_stays_exact_for_ordinary_text()
    {
        // Work is bounded per piece (byte-pair merging is quadratic only within a piece), so the whole count is linear.
        var repeated = new string('a', 80_000);
        var pieces = TokenCounter.Pieces(repeated).ToList();
        Assert.All(pieces, p => Assert.InRange(p.Length, 1, TokenCounter.MaxPiece));
        Assert.Equal(repeated.Length, pieces.Sum(p => p.Length));
        Assert.InRange(TokenCounter.Count(repeated), 80_000 / 64, 80_000);

        var tokenizer = Microsoft.ML.Tokenizers.TiktokenTokenizer.CreateForEncoding("o200k_base");
        var prose = string.Join(' ', Enumerable.Range(0, 400).Select(i => $"Sentence {i}: the user's  cat, Zoë 🐱, likes\ntea at {i % 24}:00."));
        Assert.Equal(tokenizer.CountTokens(prose), TokenCounter.Count(prose));
        Assert.True(TokenCounter.Pieces(prose).Count() > 10);
    }

    [Theory]
    [InlineData(".\n")]
    [InlineData("?\r\n")]
    [InlineData(":\n\n")]
    [InlineData("!)\n")]
    public void Token_counting_cuts_only_where_the_tokenizer_splits_so_punctuation_keeps_its_line_break(string end)
    {
        // The last line break of the first 256 characters follows punctuation, which the tokenizer joins to the break
        // (".\n" is one piece, often one token): a cut there would count a token more than the whole text has.
        var tokenizer = Microsoft.ML.Tokenizers.TiktokenTokenizer.CreateForEncoding("o200k_base");
        var line = string.Join(' ', Enumerable.Repeat("word", 50));
        var text = line[..(TokenCounter.MaxPiece - 10)] + end + new string('b', 20) + " and more words after it" + end + line;

        Assert.Equal(tokenizer.CountTokens(text), TokenCounter.Count(text));
    }

    [Fact]
    public void Token_counting_still_cuts_before_a_space_that_follows_punctuation()
    {
        // A space after punctuation is still a place to cut, so text without letters is not cut inside its pieces.
        var tokenizer = Microsoft.ML.Tokenizers.TiktokenTokenizer.CreateForEncoding("o200k_base");
        var marks = string.Concat(Enumerable.Repeat("?! ...", 100));
        Assert.Equal(tokenizer.CountTokens(marks), TokenCounter.Count(marks));
        Assert.All(TokenCounter.Pieces(marks).SkipLast(1), p => Assert.Equal(' ', marks[p.Start + p.Length]));
    }

    [Fact]
    public void A_search_filter_judges_the_latest_version_of_a_memory()
    {
        var now = new DateTimeOffset(2024, 3, 1, 9, 0, 0, TimeSpan.Zero);
        var entry = new MemoryEntry { Id = "mem_1", Content = "User's locker code is 4512", Category = "general", CreatedAt = now, UpdatedAt = now, TokenCount = 8 };
        foreach (var loaded in new[] { false, true })
        {
            var store = new MemoryStore(100_000);
            if (loaded)
            {
                store.LoadStored([entry]);
            }
            else
            {
                store.Put(entry);
            }

            Assert.Single(store.Search("locker code", ReadOnlyMemory<float>.Empty, 5, e => !e.Sensitive, 0, now));
            // The same memory, now marked sensitive: a filter that leaves sensitive memories out must see the new version.
            store.Put(entry with { Sensitive = true, UpdatedAt = now.AddMinutes(1) });
            Assert.Empty(store.Search("locker code", ReadOnlyMemory<float>.Empty, 5, e => !e.Sensitive, 0, now));
            Assert.Single(store.Search("locker code", ReadOnlyMemory<float>.Empty, 5, e => e.Sensitive, 0, now));
        }
    }

    [Fact]
    public void A_loaded_store_builds_its_search_index_on_first_use_and_searches_like_one_built_entry_by_entry()
    {
        var now = new DateTimeOffset(2024, 3, 1, 9, 0, 0, TimeSpan.Zero);
        var random = new Random(7);
        float[] Vector() => [.. Enumerable.Range(0, 16).Select(_ => (float)random.NextDouble() - 0.5f)];
        var entries = Enumerable.Range(0, 40).Select(i => new MemoryEntry
        {
            Id = $"mem_{i:D2}",
            Content = $"User talked about {(i % 3 == 0 ? "hiking" : i % 3 == 1 ? "jazz records" : "the trip to Lisbon")} on day {i}",
            Category = i % 5 == 0 ? "identity" : "general",
            CreatedAt = now.AddMinutes(i),
            OccurredAt = now.AddDays(-i),
            UpdatedAt = now.AddMinutes(i),
            TokenCount = 8,
            SupersededBy = i == 4 ? "mem_05" : null,
            Embedding = Vector(),
        }).ToList();
        var query = Vector();
        var added = entries[0] with { Id = "mem_new", Content = "User started learning jazz piano", Embedding = Vector() };

        var eager = new MemoryStore(100_000);
        var lazy = new MemoryStore(100_000);
        lazy.LoadStored(entries);
        Assert.False(lazy.SearchIndexBuilt);
        entries.ForEach(eager.Put);

        // Changes made before the first search land on the built index, as they do on an eager one.
        foreach (var store in new[] { eager, lazy })
        {
            store.Remove("mem_07");
            store.Put(added);
        }

        Assert.True(lazy.SearchIndexBuilt);
        foreach (var words in new[] { "jazz", "what did I say about Lisbon last week", "hiking day 12" })
        {
            Assert.Equal(
                eager.Search(words, query, 10, null, 0, now).Select(r => (r.Entry.Id, r.Score)),
                lazy.Search(words, query, 10, null, 0, now).Select(r => (r.Entry.Id, r.Score)));
        }

        var untouched = new MemoryStore(100_000);
        untouched.LoadStored(entries);
        Assert.NotEmpty(untouched.Search("jazz", query, 5, null, 0, now));
        Assert.True(untouched.SearchIndexBuilt);
        // Sized once for what the load put back to be searched (the superseded entry is not), rather than doubled from
        // 16 (each large array a possible full collection).
        Assert.Equal(entries.Count(e => e.SupersededBy is null), untouched.SearchIndexCapacity);
    }

    [Fact]
    public void A_loaded_store_dedupes_and_supersedes_like_one_built_entry_by_entry()
    {
        // A load leaves the content and slot keys unbuilt until a memory is added; changes made before that must count.
        var now = new DateTimeOffset(2024, 3, 1, 9, 0, 0, TimeSpan.Zero);
        MemoryEntry Entry(string id, string content, string? slot = null, string? scope = null, string? supersededBy = null) => new()
        {
            Id = id,
            Content = content,
            Category = "general",
            Importance = 0.5,
            CreatedAt = now,
            UpdatedAt = now,
            TokenCount = 5,
            Slot = slot,
            Scope = scope,
            SupersededBy = supersededBy,
        };
        List<MemoryEntry> entries =
        [
            Entry("mem_a", "User likes jazz"),
            Entry("mem_b", "User lives in Lisbon", slot: "location.home"),
            Entry("mem_c", "User lives in Porto", slot: "location.home", supersededBy: "mem_b"),
            Entry("mem_d", "User plays chess"),
            Entry("mem_e", "User likes jazz", scope: "what_if"),
            Entry("mem_f", "User works at Contoso", slot: "work.employer"),
        ];

        var eager = new MemoryStore(100_000);
        entries.ForEach(eager.Put);
        var loaded = new MemoryStore(100_000);
        loaded.LoadStored(entries);
        foreach (var store in new[] { eager, loaded })
        {
            // Before any add: one memory removed, one changed to say something else, one made history.
            store.Remove("mem_d");
            store.Put(entries[0] with { Content = "User likes blues" });
            store.Put(entries[5] with { SupersededBy = "mem_x" });
        }

        var adds = new[]
        {
            Entry("mem_1", "USER LIKES BLUES"),                  // restates the changed memory: refreshed
            Entry("mem_2", "User likes jazz"),                   // its old content: new
            Entry("mem_3", "User plays chess"),                  // the removed memory's content: new
            Entry("mem_4", "user likes jazz", scope: "what_if"), // restates the branch's own: refreshed
            Entry("mem_5", "User lives in Faro", slot: "location.home"), // supersedes mem_b
            Entry("mem_6", "User works at Fabrikam", slot: "work.employer"), // the slot's holder is history: nothing superseded
        };
        foreach (var add in adds)
        {
            var expected = eager.Add(add, now);
            var actual = loaded.Add(add, now);
            Assert.Equal((expected.Entry.Id, expected.Duplicate, expected.Superseded?.Id), (actual.Entry.Id, actual.Duplicate, actual.Superseded?.Id));
        }

        Assert.Equal(
            ["mem_2", "mem_3", "mem_5", "mem_6", "mem_a", "mem_b", "mem_c", "mem_e", "mem_f"],
            loaded.All.Select(e => e.Id).Order(StringComparer.Ordinal));
        Assert.Equal("mem_5", loaded.Find("mem_b")!.SupersededBy);
        Assert.Equal(eager.All.OrderBy(e => e.Id, StringComparer.Ordinal), loaded.All.OrderBy(e => e.Id, StringComparer.Ordinal));
    }
    [Fact]
    public async Task A_loaded_session_builds_its_search_index_in_the_background_once_a_conversation_starts()
    {
        await using var host = new MemoryTestHost();
        await using var client = host.NewClient();
        string id;
        await using (var session = await client.CreateSessionAsync("user_index"))
        {
            id = session.SessionId;
            await session.AddMemoryAsync("The user keeps bees on the roof");
            await session.AddMemoryAsync("The user's sister lives in Porto");
            await session.SaveAsync();
        }

        // A load alone (export, listing) leaves the index unbuilt; starting or resuming a conversation builds it before
        // anything searches, so the call's first turn does not wait for it.
        foreach (var start in new Func<Session, Task>[] { s => s.StartConversationAsync(), s => s.ResumeConversationAsync() })
        {
            await using var loaded = await client.LoadSessionAsync(id);
            Assert.False(loaded.SearchIndexBuilt);
            await start(loaded);
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (!loaded.SearchIndexBuilt && waited.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(10);
            }

            Assert.True(loaded.SearchIndexBuilt);
            Assert.Contains(loaded.SearchMemory("bees"), r => r.Entry.Content.Contains("bees", StringComparison.Ordinal));
            await loaded.SaveAsync();
        }
    }

    [Fact]
    public void Weaving_an_opening_with_no_words_does_not_wait_for_the_search_index()
    {
        var now = new DateTimeOffset(2026, 1, 5, 9, 0, 0, TimeSpan.Zero);
        var store = new MemoryStore(100_000);
        store.LoadStored(
        [
            new MemoryEntry { Id = "mem_name", Content = "User's name is Alice", Category = "identity", CreatedAt = now, UpdatedAt = now, TokenCount = 5 },
            new MemoryEntry { Id = "mem_bees", Content = "The user keeps bees", Category = "general", CreatedAt = now, UpdatedAt = now, TokenCount = 4 },
        ]);
        var weaver = new Voxon.Context.ContextWeaver(new Voxon.Context.ContextWeaverOptions());
        var opening = weaver.Weave(new Voxon.Context.WeaveRequest(store, string.Empty, default, _ => Voxon.Context.ScopeRelation.Own, 2_000, now));

        Assert.Equal(["mem_name"], opening.Injected.Select(i => i.MemoryId));   // the profile, which needs no search
        Assert.False(store.SearchIndexBuilt);
        var turn = weaver.Weave(new Voxon.Context.WeaveRequest(store, "tell me about the bees", default, _ => Voxon.Context.ScopeRelation.Own, 2_000, now));
        Assert.Contains("mem_bees", turn.Injected.Select(i => i.MemoryId));
        Assert.True(store.SearchIndexBuilt);
    }

    [Fact]
    public async Task SetPreference_refuses_long_values_and_malformed_names_with_a_clear_message()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        var error = Assert.Throws<ArgumentException>(() => session.SetPreference("tone", new string('x', Session.MaxPreferenceValueLength + 1)));
        Assert.Contains($"at most {Session.MaxPreferenceValueLength} characters", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => session.SetPreference(new string('n', 65), "warm"));
        Assert.Throws<ArgumentException>(() => session.SetPreference("bad name", "warm"));
        session.SetPreference("tone", new string('x', Session.MaxPreferenceValueLength));
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.01)]
    [InlineData(double.NaN)]
    public async Task AddMemory_rejects_importance_outside_0_to_1(double importance)
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => session.AddMemory("User likes tea", "preference", importance));
        Assert.Contains("Importance", error.Message, StringComparison.Ordinal);
        Assert.Empty(session.GetMemory().Entries);
    }

    [Theory]
    [InlineData("", "general")]
    [InlineData("   ", "general")]
    [InlineData("User likes tea", "")]
    [InlineData("User likes tea", "two words")]
    [InlineData("User likes tea", "../etc")]
    public async Task AddMemory_rejects_empty_content_and_malformed_categories(string content, string category)
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        Assert.ThrowsAny<ArgumentException>(() => session.AddMemory(content, category));
        Assert.Empty(session.GetMemory().Entries);
    }

    [Fact]
    public async Task A_background_index_build_waits_for_a_lazy_load_and_indexes_every_loaded_memory()
    {
        // As a lazily loaded session: loaded empty from its metadata, then its first use loading the memories while a
        // conversation starts, which builds the search index in the background. That build used to take the memories
        // loaded so far and drop those that arrived while it ran (or fail the load with a NullReferenceException when
        // it came at its start); it must wait for the load. The load is held halfway to show it.
        var now = new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);
        var entries = Enumerable.Range(0, 10_000).Select(i => new MemoryEntry
        {
            Id = $"mem_{i}", Content = $"User fact {i} about topic{i}", Category = "general", Importance = 0.5,
            CreatedAt = now, OccurredAt = now, UpdatedAt = now, TokenCount = 6,
        }).ToList();
        var store = new MemoryStore(1_000_000);
        store.LoadStored([]);
        using var halfway = new ManualResetEventSlim();
        using var goOn = new ManualResetEventSlim();
        IEnumerable<MemoryEntry> Arriving()
        {
            for (var i = 0; i < entries.Count; i++)
            {
                if (i == entries.Count / 2)
                {
                    halfway.Set();
                    goOn.Wait();
                }

                yield return entries[i];
            }
        }

        var loading = Task.Run(() => store.LoadStored(Arriving()));
        halfway.Wait();
        store.IndexInBackground();
        var builtHalfway = false;
        for (var waited = 0; waited < 40 && !builtHalfway; waited++)
        {
            await Task.Delay(10);
            builtHalfway = store.SearchIndexBuilt;
        }

        goOn.Set();
        await loading;

        Assert.False(builtHalfway);
        Assert.Equal(entries.Count, store.Search("user fact", default, entries.Count, null, 0, now).Count);
    }

    [Fact]
    public async Task AddMemory_rejects_oversized_content_and_non_positive_lifetimes()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        Assert.Throws<ArgumentException>(() => session.AddMemory(new string('x', Session.MaxMemoryContentLength + 1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => session.AddMemory("User likes tea", expiresAfter: TimeSpan.Zero));
        var endless = Assert.Throws<ArgumentOutOfRangeException>(() => session.AddMemory("User likes tea", expiresAfter: TimeSpan.MaxValue));
        Assert.Contains("at most 36500 days (null for none)", endless.Message, StringComparison.Ordinal);
        Assert.Empty(session.GetMemory().Entries);
    }

    [Fact]
    public async Task Text_cut_inside_a_character_is_refused_where_it_would_be_stored_and_whole_ones_round_trip()
    {
        // Storage holds UTF-8, which cannot hold half a surrogate pair: such text came back from a reload as U+FFFD.
        const string Emoji = "\U0001F431";
        var cut = "User's cat is " + Emoji[..1];
        await using var host = new MemoryTestHost();
        await using var voxon = host.NewClient();
        var session = await voxon.CreateSessionAsync("user_1");
        var conversation = await session.StartConversationAsync("c1");

        var refused = new List<Exception>
        {
            Assert.Throws<ArgumentException>(() => session.AddMemory(cut)),
            Assert.Throws<ArgumentException>(() => session.AddMemory("User has a cat", context: Emoji[1..] + " the cat")),
            await Assert.ThrowsAsync<ArgumentException>(() => conversation.SendMessageAsync(cut)),
            Assert.Throws<ArgumentException>(() => session.SetPreference("pet", cut)),
            await Assert.ThrowsAsync<VoxonConfigurationException>(() => voxon.CreateSessionAsync("user_2", new SessionConfig { Instructions = "Be brief " + Emoji[..1] })),
        };
        await session.SaveAsync();
        var share = await session.CreateSharedViewAsync("vet_1", ["add_notes"], TimeSpan.FromDays(1));
        var view = await voxon.AccessSharedSessionAsync(share.Token, "vet_1");
        refused.Add(await Assert.ThrowsAsync<ArgumentException>(() => view.AddNoteAsync(cut)));
        Assert.All(refused, e => Assert.Contains("unpaired UTF-16 surrogate at character", e.Message, StringComparison.Ordinal));
        Assert.Contains("at character 14", refused[0].Message, StringComparison.Ordinal);
        Assert.Empty(session.GetMemory().Entries);
        Assert.Empty(conversation.Transcript);

        // Whole characters beyond U+FFFF are stored as they are.
        session.AddMemory("User's cat is " + Emoji, context: Emoji + Emoji);
        await conversation.SendMessageAsync("My cat " + Emoji + " sleeps");
        await session.SaveAsync();
        await using var reloaded = await host.NewClient().LoadSessionAsync(session.SessionId);
        Assert.Single(reloaded.GetMemory().Entries, e => e.Content == "User's cat is " + Emoji && e.Context == Emoji + Emoji);
        Assert.Equal("My cat " + Emoji + " sleeps", reloaded.GetTranscript("c1")[0].Content);
        Assert.Equal(-1, WellFormedText.FirstUnpairedSurrogate("a" + Emoji + Emoji + "b"));
        Assert.Equal(3, WellFormedText.FirstUnpairedSurrogate("a" + Emoji + Emoji[1..] + Emoji));
        Assert.Equal("ab", WellFormedText.Cut("ab" + Emoji, 3));
        Assert.Equal("ab" + Emoji, WellFormedText.Cut("ab" + Emoji, 4));
    }

    [Fact]
    public async Task Memory_is_searchable_as_soon_as_AddMemory_returns()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        session.AddMemory("User prefers morning appointments", "scheduling", 0.6);
        var hit = Assert.Single(session.SearchMemory("morning appointments", topK: 1));
        Assert.Equal("User prefers morning appointments", hit.Entry.Content);
    }

    [Fact]
    public async Task Language_preference_finds_formal_language_among_other_memories()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        session.AddMemory("User's name is Alice", "identity", 0.9);
        session.AddMemory("User lives in Lisbon", "location", 0.7);
        session.AddMemory("User prefers formal language", "preference", 0.9);
        session.AddMemory("User has a dentist appointment on Friday", "scheduling", 0.5);
        session.AddMemory("User is interested in quantum physics", "interest", 0.7);

        var results = session.SearchMemory("language preference", topK: 3);

        Assert.Equal("User prefers formal language", results[0].Entry.Content);
    }

    [Fact]
    public async Task GetMemory_reports_entries_tokens_budget_and_usage()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync(new SessionConfig { MaxMemorySize = 1000 });
        session.AddMemory("User prefers formal language", "preference", 0.9);
        session.AddMemory("User lives in Lisbon", "location", 0.7);

        var memory = session.GetMemory();

        Assert.Equal(2, memory.Entries.Count);
        Assert.Equal(memory.Entries.Sum(e => TokenCounter.Count(e.Content)), memory.TokenCount);
        Assert.Equal(1000, memory.MaxTokens);
        Assert.Equal(memory.TokenCount / 1000.0, session.MemoryUsage, 6);
    }

    [Fact]
    public async Task Expired_memory_disappears_from_memory_search_export_and_model_context()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        session.AddMemory("User's parking spot is B12", "note", 0.8, expiresAfter: TimeSpan.FromDays(1));
        Assert.Single(session.SearchMemory("parking spot"));

        host.Time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));

        Assert.Empty(session.GetMemory().Entries);
        Assert.Empty(session.SearchMemory("parking spot"));
        Assert.DoesNotContain("B12", session.ExportMemory(), StringComparison.Ordinal);
        var conversation = await session.StartConversationAsync();
        await conversation.SendMessageAsync("Where is my parking spot?");
        Assert.DoesNotContain("B12", host.Chat.LastSystemText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClearMemory_removes_one_category_or_everything_and_raises_an_event()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        var cleared = new List<int>();
        session.Events.On(SessionEventNames.MemoryCleared, e => cleared.Add(e.DataAs<int>()));
        session.AddMemory("Temporary note one", "temporary", 0.2);
        session.AddMemory("Temporary note two", "temporary", 0.2);
        session.AddMemory("User lives in Lisbon", "location", 0.7);

        Assert.Equal(2, session.ClearMemory("temporary"));
        Assert.Equal(["location"], session.GetMemory().Entries.Select(e => e.Category));
        Assert.Equal(1, session.ClearMemory());
        Assert.Empty(session.GetMemory().Entries);
        Assert.Equal([2, 1], cleared);
    }

    [Fact]
    public async Task ExportMemory_has_the_spec_shape_and_redacts_sensitive_entries_unless_asked()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        session.AddMemory("User prefers formal language", "preference", 0.9);
        session.AddMemory("User phone is 555-0199", "contact", 0.8, sensitive: true);

        using var export = JsonDocument.Parse(session.ExportMemory());
        var root = export.RootElement;
        Assert.Equal(session.SessionId, root.GetProperty("session_id").GetString());
        Assert.True(root.GetProperty("token_count").GetInt32() > 0);
        var entries = root.GetProperty("entries").EnumerateArray().ToList();
        Assert.Equal(2, entries.Count);
        foreach (var entry in entries)
        {
            Assert.True(entry.TryGetProperty("content", out _));
            Assert.True(entry.TryGetProperty("timestamp", out _));
            Assert.True(entry.TryGetProperty("importance", out _));
            Assert.True(entry.TryGetProperty("category", out _));
            Assert.False(entry.TryGetProperty("embedding", out _));
        }

        Assert.DoesNotContain("555-0199", root.GetRawText(), StringComparison.Ordinal);
        Assert.Contains("[REDACTED]", root.GetRawText(), StringComparison.Ordinal);
        Assert.Contains("555-0199", session.ExportMemory(includeSensitive: true), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Embeddings_are_stored_and_reused_on_load()
    {
        await using var host = new MemoryTestHost();
        var session = await host.NewSessionAsync();
        var added = session.AddMemory("User prefers formal language", "preference", 0.9);
        await session.SaveAsync();

        var loaded = await host.NewClient().LoadSessionAsync(session.SessionId);
        var entry = Assert.Single(loaded.GetMemory().Entries);

        Assert.Equal(added.Embedding.ToArray(), entry.Embedding.ToArray());
        Assert.Equal(384, entry.Embedding.Length);
    }
}
