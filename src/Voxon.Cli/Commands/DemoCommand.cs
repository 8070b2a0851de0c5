using System.CommandLine;
using System.Globalization;
using Voxon.Memory;
using Voxon.Sessions;

namespace Voxon.Cli.Commands;

/// <summary><c>voxon demo</c>: the spec's walkthrough, offline, printed step by step.</summary>
internal static class DemoCommand
{
    public static Command Create(CliIO io)
    {
        var keep = new Option<bool>("--keep") { Description = "Keep the demo's session folder instead of deleting it" };
        var command = new Command("demo", "Run the spec's walkthrough: create, converse, save, load in a new instance, converse again, show memory.");
        command.Options.Add(keep);
        command.SetAction((result, cancellationToken) => io.GuardAsync(() =>
        {
            var store = result.GetResult(VoxonCommand.Store) is { Implicit: false }
                ? result.GetValue(VoxonCommand.Store)!
                : Path.Combine(Path.GetTempPath(), "voxon-demo-" + Guid.NewGuid().ToString("N")[..8]);
            return RunAsync(io.Output, store, result.GetValue(keep), cancellationToken);
        }));
        return command;
    }

    private static async Task<int> RunAsync(TextWriter output, string store, bool keep, CancellationToken cancellationToken)
    {
        string sessionId;
        try
        {
            await using (var voxon = CliIO.Client(store))
            {
                await output.WriteLineAsync($"Voxon demo - {CliIO.EngineName(voxon)}, sessions in {Path.GetFullPath(store)}");
                await output.WriteLineAsync();
                var config = SessionPresets.Educational;
                config.Instructions = "You are a friendly tutor";
                config.MemoryMode = MemoryMode.Persistent;
                var session = await voxon.CreateSessionAsync("user_123", config, cancellationToken);
                sessionId = session.SessionId;
                await output.WriteLineAsync($"1. Created session {session.SessionId} for user {session.UserId} (memory: persistent)");

                await output.WriteLineAsync("2. First conversation");
                await using (var conversation = await session.StartConversationAsync(cancellationToken: cancellationToken))
                {
                    foreach (var line in (string[])["Hello!", "My name is Alice", "I'm interested in quantum physics"])
                    {
                        await SayAsync(output, conversation, line, cancellationToken);
                    }
                }

                await session.SaveAsync(cancellationToken);
                await output.WriteLineAsync($"3. Saved the session (version {session.Version}) and closed this Voxon instance");
                await session.CloseAsync(cancellationToken);
            }

            await using (var voxon = CliIO.Client(store))
            {
                var session = await voxon.LoadSessionAsync(sessionId, cancellationToken);
                await output.WriteLineAsync($"4. Loaded session {session.SessionId} in a new Voxon instance");
                await output.WriteLineAsync("5. Second conversation (memory restored)");
                await using (var conversation = await session.StartConversationAsync(cancellationToken: cancellationToken))
                {
                    await SayAsync(output, conversation, "What's my name and interest?", cancellationToken);
                }

                await session.AddMemoryAsync("User prefers formal language", "preference", 0.9, cancellationToken: cancellationToken);
                var found = await session.SearchMemoryAsync("language preference", topK: 1, cancellationToken: cancellationToken);
                await output.WriteLineAsync("6. Added a memory and searched \"language preference\":");
                foreach (var hit in found)
                {
                    await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"     {hit.Entry.Content}  (score {hit.Score:F2})"));
                }

                await output.WriteLineAsync("7. Memory");
                await WriteMemoryAsync(output, session.GetMemory());
                var analytics = session.GetAnalytics();
                var learned = session.GetLearnedPreferences();
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"8. Analytics: {analytics.ConversationCount} conversations, {analytics.MessageCount} messages, topics [{string.Join(", ", analytics.Topics)}], satisfaction {analytics.SatisfactionScore:F1}/5"));
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"   Learned: formality {learned.FormalityScore:F2}, technical level {learned.TechnicalLevel:F2}, verbosity {learned.Verbosity:F2}, avg message {learned.AvgMessageLength:F1} words"));
                await VoiceTurnsAsync(output, session, cancellationToken);
                await session.DisposeAsync();
                await output.WriteLineAsync("11. Saved and closed.");
            }
        }
        finally
        {
            if (!keep && Directory.Exists(store) && Path.GetFileName(store).StartsWith("voxon-demo-", StringComparison.Ordinal))
            {
                Directory.Delete(store, recursive: true);
            }
        }

        return 0;
    }

    private static async Task SayAsync(TextWriter output, Conversations.Conversation conversation, string text, CancellationToken cancellationToken)
    {
        await output.WriteLineAsync($"     You:       {text}");
        var reply = await conversation.SendMessageAsync(text, cancellationToken);
        await output.WriteLineAsync($"     Assistant: {reply}");
    }

    /// <summary>Steps 9 and 10: a streamed turn with its time to first token, and a barge-in stored as heard.</summary>
    private static async Task VoiceTurnsAsync(TextWriter output, Session session, CancellationToken cancellationToken)
    {
        await using var conversation = await session.StartConversationAsync(cancellationToken: cancellationToken);
        const string question = "What's my name and interest?";
        await output.WriteLineAsync("9. A streamed turn (chunks printed as they arrive)");
        await output.WriteLineAsync($"     You:       {question}");
        await output.WriteAsync("     Assistant: ");
        await foreach (var chunk in conversation.StreamMessageAsync(question, cancellationToken))
        {
            await output.WriteAsync(chunk);
            await output.FlushAsync(cancellationToken);
        }

        await output.WriteLineAsync();
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"     first token after {conversation.Transcript[^1].TimeToFirstTokenMs:F1} ms"));

        // Speech is slower than text: the whole reply has arrived while its audio is still playing when the user cuts in.
        await output.WriteLineAsync("10. Barge-in: the user interrupts 1.2 s into the spoken reply");
        await output.WriteLineAsync("     You:       Tell me again");
        var reply = new System.Text.StringBuilder();
        await foreach (var chunk in conversation.StreamMessageAsync("Tell me again, what's my name and interest?", cancellationToken))
        {
            reply.Append(chunk);
        }

        var words = reply.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        var audio = TimeSpan.FromSeconds(words * 0.4); // about 150 words a minute
        conversation.Interrupt(TimeSpan.FromSeconds(1.2), audio);
        var stored = conversation.Transcript[^1];
        await output.WriteLineAsync($"     Generated: {stored.GeneratedContent}");
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"     Stored as heard ({1.2:F1} s of {audio.TotalSeconds:F1} s): \"{stored.Content}\"; interruptions: {conversation.GetAnalytics().InterruptionCount}"));
    }

    internal static async Task WriteMemoryAsync(TextWriter output, SessionMemory memory)
    {
        foreach (var entry in memory.Entries)
        {
            var content = entry.Sensitive ? Security.Redaction.Marker : entry.Content;
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"     [{entry.Category,-10}] {entry.Importance:F1}  {content}"));
        }

        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"     {memory.Entries.Count} entries, {memory.TokenCount}/{memory.MaxTokens} tokens (o200k_base)"));
    }
}
