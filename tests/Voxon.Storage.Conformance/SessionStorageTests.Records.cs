using System.Security.Cryptography;
using System.Text;
using Voxon.Sharing;
using Voxon.Storage.Worker;

namespace Voxon.Storage.Conformance;

/// <summary>Records beside the session: shares (deletion, id reuse, notes merged into the owner's save), key rotation
/// over every record kind, and listings that skip and report an unreadable record.</summary>
public abstract partial class SessionStorageTests<TFixture>
{
    [SkippableFact]
    public virtual async Task Rewriting_the_store_moves_sessions_shares_and_templates_to_the_new_key()
    {
        var old = Open(SessionEncryption.FromKey(Key1));
        await using var oldClient = WorkerStorage.Client(old);
        var session = await oldClient.CreateSessionAsync("user_rotate_all");
        await session.AddMemoryAsync("sealed with the first key");
        await session.SaveAsync();
        var share = await session.CreateSharedViewAsync("user_rotate_reader", [SharePermissions.Read], TimeSpan.FromDays(1));
        var template = "tpl_rotate_" + Guid.NewGuid().ToString("N")[..6];
        await old.SaveTemplateAsync(new TemplateDocument { Name = template, BaseConfig = new Sessions.SessionConfig { Instructions = "Be brief" } });

        var rotating = Open(SessionEncryption.FromKey(Key2, Key1));
        await using var rotatingClient = WorkerStorage.Client(rotating);
        var open = await rotatingClient.LoadSessionAsync(session.SessionId);
        var result = await rotating.RewriteAllAsync();
        Assert.True(result.Sessions >= 1 && result.Shares >= 1 && result.Templates >= 1, result.ToString());

        // The first key is dropped: everything still reads.
        var newOnly = Open(SessionEncryption.FromKey(Key2));
        await using var client = WorkerStorage.Client(newOnly);
        Assert.Equal("sealed with the first key", Assert.Single((await newOnly.LoadAsync(session.SessionId))!.Memory.Entries).Content);
        Assert.Single(await newOnly.ListSharesAsync(session.SessionId));
        Assert.Equal("Be brief", (await newOnly.LoadTemplateAsync(template))!.BaseConfig.Instructions);
        var loaded = await client.LoadSessionAsync(session.SessionId);
        Assert.Contains(share.Info.ShareId, (await loaded.ExportFullAsync()).ToString(), StringComparison.Ordinal);
        Assert.Single((await client.AccessSharedSessionAsync(share.Token, "user_rotate_reader")).GetMemory());

        // A session open during the rewrite saves on after it (same content, new version).
        await open.AddMemoryAsync("saved after the rotation");
        await open.SaveAsync();
        Assert.Equal(2, (await newOnly.LoadAsync(session.SessionId))!.Memory.Entries.Count);
    }

    [SkippableFact]
    public virtual async Task Json_transcript_records_of_older_versions_load_beside_binary_ones_and_the_store_rewrite_migrates_them()
    {
        var storage = Open();
        await using var client = WorkerStorage.Client(storage);
        var session = await client.CreateSessionAsync("user_transcript_" + Guid.NewGuid().ToString("N")[..6]);
        await session.AddMemoryAsync("User's name is Zoë");
        var conversation = await session.StartConversationAsync();
        SessionRecords.WriteLegacyTranscripts.Value = true;
        try
        {
            await conversation.SendMessageAsync("Written as JSON — ça va?");
            await session.SaveAsync();
        }
        finally
        {
            SessionRecords.WriteLegacyTranscripts.Value = false;
        }

        // Mixed: the first turns (and, on file, the snapshot's conversation header) in JSON, the later ones binary.
        await conversation.SendMessageAsync("Written as binary 你好");
        await session.SaveAsync();
        var expected = session.GetTranscript(conversation.ConversationId).Select(t => (t.Role, t.Content, t.Timestamp, t.InjectedMemoryIds?.Count)).ToList();
        Assert.Equal(4, expected.Count);
        Assert.Contains("\"role\":\"user\"", Encoding.UTF8.GetString((await Fixture.CopySessionAsync(session.SessionId)).Bytes), StringComparison.Ordinal);

        var fresh = Open();
        await using (var reader = WorkerStorage.Client(fresh))
        {
            var mixed = await reader.LoadSessionAsync(session.SessionId);
            Assert.Equal(expected, mixed.GetTranscript(conversation.ConversationId).Select(t => (t.Role, t.Content, t.Timestamp, t.InjectedMemoryIds?.Count)));
            Assert.Equal(session.Conversations.Select(c => (c.ConversationId, c.TurnCount)), mixed.Conversations.Select(c => (c.ConversationId, c.TurnCount)));
        }

        // `voxon store migrate`: every record in the binary format, the same transcript.
        Assert.True((await fresh.RewriteAllAsync()).Sessions >= 1);
        Assert.DoesNotContain("\"role\":", Encoding.UTF8.GetString((await Fixture.CopySessionAsync(session.SessionId)).Bytes), StringComparison.Ordinal);
        await using var after = WorkerStorage.Client(Open());
        var migrated = await after.LoadSessionAsync(session.SessionId);
        Assert.Equal(expected, migrated.GetTranscript(conversation.ConversationId).Select(t => (t.Role, t.Content, t.Timestamp, t.InjectedMemoryIds?.Count)));
    }

    [SkippableFact]
    public virtual async Task Listings_skip_and_report_an_unreadable_record_instead_of_failing()
    {
        var storage = Open();
        await using var client = WorkerStorage.Client(storage);
        var user = "user_listing_" + Guid.NewGuid().ToString("N")[..6];
        var broken = await client.CreateSessionAsync(user);
        await broken.SaveAsync();
        var fine = await client.CreateSessionAsync(user);
        await fine.SaveAsync();
        var bad = await fine.CreateSharedViewAsync("user_listing_reader", [SharePermissions.Read], TimeSpan.FromDays(1));
        var good = await fine.CreateSharedViewAsync("user_listing_other", [SharePermissions.Read], TimeSpan.FromDays(1));
        var skipped = new List<SessionCorruptException>();
        storage.RecordSkipped += (_, e) => skipped.Add(e);

        var badHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(bad.Token)));
        await Fixture.TamperShareAsync(badHash);
        Assert.Equal([good.Info.ShareId], (await storage.ListSharesAsync(fine.SessionId)).Select(s => s.ShareId));

        // Other tests' records in the shared space (other keys) may be reported too: look for ours.
        Assert.Contains(skipped, e => e.Message.Contains(badHash, StringComparison.Ordinal));

        if (await Fixture.BreakSummaryAsync(broken.SessionId))
        {
            Assert.Equal([fine.SessionId], (await storage.ListAsync(user)).Select(s => s.SessionId));
            Assert.Contains(skipped, e => e.SessionId == broken.SessionId);
        }
    }

    [SkippableFact]
    public virtual async Task Deleting_a_session_deletes_its_shares_and_an_old_token_never_opens_a_reused_id()
    {
        var storage = Open();
        await using var client = WorkerStorage.Client(storage);
        var session = await client.CreateSessionAsync("user_share_owner");
        await session.AddMemoryAsync("owner's private fact");
        await session.SaveAsync();
        var share = await session.CreateSharedViewAsync("user_share_friend", [SharePermissions.Read, SharePermissions.AddNotes], TimeSpan.FromDays(1));
        var export = await session.ExportFullAsync();
        await session.CloseAsync();

        Assert.True(await client.DeleteSessionAsync(session.SessionId));
        Assert.Empty(await storage.ListSharesAsync(session.SessionId));
        Assert.Null(await storage.FindShareAsync(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(share.Token)))));

        // Another owner's session under the same id: the old token opens nothing, for reading or writing.
        await client.ImportSessionAsync(export, new Dictionary<string, string> { ["user_share_owner"] = "user_new_owner" });
        await Assert.ThrowsAsync<InvalidShareTokenException>(() => client.AccessSharedSessionAsync(share.Token, "user_share_friend"));
        Assert.Empty(await storage.ListSharesAsync(session.SessionId));
    }

    [SkippableFact]
    public virtual async Task A_share_whose_owner_no_longer_owns_the_session_is_refused()
    {
        var storage = Open();
        await using var client = WorkerStorage.Client(storage);
        var session = await client.CreateSessionAsync("user_owner_check");
        await session.SaveAsync();
        var share = await session.CreateSharedViewAsync("user_reader", [SharePermissions.Read], TimeSpan.FromDays(1));
        var view = await client.AccessSharedSessionAsync(share.Token, "user_reader");
        Assert.Equal(session.SessionId, view.SessionId);

        // A share record left behind for the id (written by an older version, or restored from a backup).
        var record = (await storage.ListSharesAsync(session.SessionId)).Single();
        record.OwnerUserId = "user_somebody_else";
        await storage.SaveShareAsync(record);

        await Assert.ThrowsAsync<InvalidShareTokenException>(() => client.AccessSharedSessionAsync(share.Token, "user_reader"));
    }

    [SkippableFact]
    public virtual async Task Notes_added_through_a_share_are_merged_by_the_owners_next_save()
    {
        var storage = Open();
        await using var client = WorkerStorage.Client(storage);
        var owner = await client.CreateSessionAsync("user_notes_owner");
        var conversation = await owner.StartConversationAsync();
        await conversation.SendMessageAsync("first message");
        await owner.SaveAsync();
        var stale = await client.LoadSessionAsync(owner.SessionId);
        var share = await owner.CreateSharedViewAsync("user_notes_friend", [SharePermissions.AddNotes], TimeSpan.FromDays(1));
        var view = await client.AccessSharedSessionAsync(share.Token, "user_notes_friend");

        var first = await view.AddNoteAsync("note one from the friend");
        await owner.AddMemoryAsync("owner's fact added meanwhile");
        await conversation.SendMessageAsync("second message");
        await owner.SaveAsync(); // merges the note instead of throwing SessionConcurrencyException
        Assert.Contains(owner.GetMemory().Entries, e => e.Id == first.Id);

        var second = await view.AddNoteAsync("note two from the friend");
        owner.SetPreference("tone", "warm");
        await owner.SaveAsync();

        var loaded = await client.LoadSessionAsync(owner.SessionId);
        Assert.Equal(owner.Version, loaded.Version);
        var contents = loaded.GetMemory().Entries.Select(e => e.Content).ToList();
        Assert.Contains("note one from the friend", contents);
        Assert.Contains("note two from the friend", contents);
        Assert.Contains("owner's fact added meanwhile", contents);
        Assert.Equal(4, loaded.GetTranscript(conversation.ConversationId).Count);
        Assert.Equal("user_notes_friend", loaded.GetMemory().Entries.Single(e => e.Id == second.Id).Author);

        // A copy that missed the owner's own saves still conflicts: only notes are merged.
        await stale.AddMemoryAsync("written from a stale copy");
        await Assert.ThrowsAsync<SessionConcurrencyException>(() => stale.SaveAsync());
    }
}
