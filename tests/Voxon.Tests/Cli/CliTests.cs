using System.Reflection;
using Voxon.Tests.TestSupport;

namespace Voxon.Tests.Cli;

/// <summary>The <c>voxon</c> command run as a real process.</summary>
public class CliTests
{
    [Fact]
    public async Task Demo_runs_the_walkthrough_offline()
    {
        using var folder = new TempFolder();

        var result = await CliProcess.RunAsync(folder.Path, null, "demo");

        Assert.True(result.ExitCode == 0, result.Error);
        var answer = result.Output.Split('\n').SkipWhile(l => !l.Contains("What's my name and interest?", StringComparison.Ordinal)).Skip(1).First();
        Alice.AssertRemembered(answer);
        Assert.Empty(result.Error);
        Assert.Matches(@"first token after \d+\.\d ms", result.Output);
        var heard = result.Output.Split('\n').Single(l => l.Contains("Stored as heard", StringComparison.Ordinal));
        Assert.Contains("\"Your name is\"", heard, StringComparison.Ordinal); // 1.2 s of about 4 s: three words
        Assert.Contains("interruptions: 1", heard, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_prints_the_one_version_the_tool_and_library_are_built_with()
    {
        using var folder = new TempFolder();

        var result = await CliProcess.RunAsync(folder.Path, null, "--version");

        Assert.True(result.ExitCode == 0, result.Error);
        var library = typeof(VoxonClient).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.Matches(@"^\d+\.\d+\.\d+", library);
        Assert.Equal(library, result.Output.Trim());
    }

    [Fact]
    public async Task Sessions_repair_restores_the_last_consistent_version_of_a_damaged_session()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync();
        await session.SaveAsync();
        foreach (var fact in new[] { "User keeps bees", "User sings in a choir", "User rows on Sundays" })
        {
            await session.AddMemoryAsync(fact);
            await session.SaveAsync();
        }

        var journal = Path.Combine(voxon.StorageFolder, session.SessionId + ".journal");
        var bytes = await File.ReadAllBytesAsync(journal);
        // A 16-byte header whose first uint32 is the length of the rest (its top bit flags a frame with sections).
        var secondFrame = 16 + (int)(System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes) & 0x7FFF_FFFF);
        bytes[secondFrame + 20] ^= 0x40;
        await File.WriteAllBytesAsync(journal, bytes);

        var broken = await CliProcess.RunAsync(voxon.Root, null, "sessions", "show", session.SessionId, "--store", voxon.StorageFolder);
        var repair = await CliProcess.RunAsync(voxon.Root, null, "sessions", "repair", session.SessionId, "--store", voxon.StorageFolder);
        var show = await CliProcess.RunAsync(voxon.Root, null, "sessions", "show", session.SessionId, "--store", voxon.StorageFolder);

        Assert.NotEqual(0, broken.ExitCode);
        Assert.Contains("corrupt", broken.Error, StringComparison.Ordinal);
        Assert.Contains($"sessions repair {session.SessionId}", broken.Error, StringComparison.Ordinal);
        Assert.True(repair.ExitCode == 0, repair.Error);
        Assert.Contains("restored to version 2 (version 4 had been saved)", repair.Output, StringComparison.Ordinal);
        Assert.True(show.ExitCode == 0, show.Error);
        Assert.Contains("User keeps bees", show.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("User rows on Sundays", show.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_does_not_say_a_mistyped_command_to_the_assistant()
    {
        using var folder = new TempFolder();

        var chat = await CliProcess.RunAsync(folder.Path, "/memroy\nMy name is Alice\n/quit\n", "chat", "--user", "alice", "--store", folder.Combine("store"));

        Assert.True(chat.ExitCode == 0, chat.Error);
        Assert.Equal("Unknown command /memroy: /memory shows memory, /quit (or /exit) stops.", Assert.Single(chat.ErrorLines));
        Assert.Single(chat.Output.Split('\n'), l => l.StartsWith("assistant>", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Two_chat_runs_share_memory_and_sessions_commands_show_it()
    {
        using var folder = new TempFolder();
        var store = folder.Combine("store");
        string[] chat = ["chat", "--user", "alice", "--session", "s1", "--store", store];

        var first = await CliProcess.RunAsync(folder.Path, string.Join('\n', Alice.Introduction) + "\n", chat);
        var second = await CliProcess.RunAsync(folder.Path, Alice.Question + "\n", [.. chat, "--stream"]);
        var list = await CliProcess.RunAsync(folder.Path, null, "sessions", "list", "--user", "alice", "--store", store);
        var show = await CliProcess.RunAsync(folder.Path, null, "sessions", "show", "s1", "--store", store);

        foreach (var result in new[] { first, second, list, show })
        {
            Assert.True(result.ExitCode == 0, result.Error);
            Assert.Empty(result.Error);
        }

        Assert.Contains("New session s1", first.Output, StringComparison.Ordinal);
        Assert.Contains("Continuing session s1", second.Output, StringComparison.Ordinal);
        Alice.AssertRemembered(second.Output.Split('\n').Single(l => l.StartsWith("assistant>", StringComparison.Ordinal)));
        var row = list.Output.Split('\n').Single(l => l.StartsWith("s1 ", StringComparison.Ordinal));
        Assert.Contains("alice", row, StringComparison.Ordinal);
        Assert.Contains("User's name is Alice", show.Output, StringComparison.Ordinal);
        Assert.Contains("User is interested in quantum physics", show.Output, StringComparison.Ordinal);
        Assert.Contains(Alice.Question, show.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stored_control_characters_reach_a_terminal_as_text_and_a_pipe_as_they_are()
    {
        // A message can hold escape sequences (an API client, an import): shown raw, a terminal would run them.
        using var folder = new TempFolder();
        var store = folder.Combine("store");
        const string Words = "I love \u001b[31mred\u001b]0;owned\u0007 things \u009b2J";
        var chat = await CliProcess.RunAsync(folder.Path, Words + "\n", "chat", "--user", "alice", "--session", "s1", "--store", store);
        Assert.True(chat.ExitCode == 0, chat.Error);

        // On a terminal (script gives the command one): the escapes as text.
        var command = string.Join(' ', new[] { Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", CliProcess.CliPath, "sessions", "show", "s1", "--store", store }.Select(a => "'" + a + "'"));
        var start = new System.Diagnostics.ProcessStartInfo("script") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var argument in (string[])["-qec", command, "/dev/null"])
        {
            start.ArgumentList.Add(argument);
        }

        using var terminal = System.Diagnostics.Process.Start(start)!;
        terminal.StandardInput.Close();
        var shown = await terminal.StandardOutput.ReadToEndAsync();
        await terminal.WaitForExitAsync();
        Assert.True(terminal.ExitCode == 0, shown + await terminal.StandardError.ReadToEndAsync());
        // (The runtime itself sets the terminal's keypad mode with an escape of its own; the message's line has none.)
        var line = Assert.Single(shown.Split('\n'), l => l.Contains("user> I love", StringComparison.Ordinal));
        Assert.Equal("user> I love ^[[31mred^[]0;owned^G things \\u009B2J", line.Trim());

        // Into a pipe: exact.
        var piped = await CliProcess.RunAsync(folder.Path, null, "sessions", "show", "s1", "--store", store);
        Assert.Contains("user> " + Words, piped.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_redoes_a_turn_whose_save_lost_to_another_writer_and_keeps_both()
    {
        using var folder = new TempFolder();
        var store = folder.Combine("store");
        await using var server = LoopbackChatServer.Start();
        server.Reply = "Noted.";
        var interfered = 0;
        server.BeforeAnswer = async body =>
        {
            // While the chat waits for the answer to its second line, another writer saves the session.
            if (body.Contains("I grow tomatoes", StringComparison.Ordinal) && Interlocked.Exchange(ref interfered, 1) == 0)
            {
                await using var other = new VoxonClient(new VoxonOptions { SessionStoragePath = store, UseEnvironment = false });
                await using var copy = await other.LoadSessionAsync("s1");
                copy.AddMemory("User keeps bees", "interest");
                await copy.SaveAsync();
            }
        };
        var model = new Dictionary<string, string> { ["VOXON_MODEL_ENDPOINT"] = server.Endpoint.ToString(), ["VOXON_MODEL"] = "loopback", ["VOXON_API_KEY"] = "test" };

        var chat = await CliProcess.RunWithAsync(folder.Path, model, "I live in Lyon\nI grow tomatoes\nI play chess\n", "chat", "--user", "alice", "--session", "s1", "--store", store);
        var show = await CliProcess.RunAsync(folder.Path, null, "sessions", "show", "s1", "--store", store);

        Assert.True(chat.ExitCode == 0, chat.Error);
        Assert.Equal(1, interfered);
        Assert.Contains("another writer", chat.Error, StringComparison.Ordinal);
        Assert.Equal(3, chat.Output.Split('\n').Count(l => l.StartsWith("assistant> Noted.", StringComparison.Ordinal)));
        Assert.True(show.ExitCode == 0, show.Error);
        Assert.Contains("User keeps bees", show.Output, StringComparison.Ordinal);
        foreach (var line in new[] { "I live in Lyon", "I grow tomatoes", "I play chess" })
        {
            Assert.Contains(line, show.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Importing_a_directory_says_it_is_a_directory()
    {
        using var folder = new TempFolder();
        var directory = folder.Combine("exports");
        Directory.CreateDirectory(directory);

        var result = await CliProcess.RunAsync(folder.Path, null, "sessions", "import", directory, "--store", folder.Combine("store"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("is a directory", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("denied", result.Error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task The_cli_encrypts_with_the_librarys_key_and_rotate_key_moves_the_store_to_a_new_key()
    {
        using var folder = new TempFolder();
        var store = folder.Combine("store");
        var first = new Dictionary<string, string> { ["VOXON_SESSION_KEY"] = "first cli key" };
        var chat = await CliProcess.RunWithAsync(folder.Path, first, string.Join('\n', Alice.Introduction) + "\n", "chat", "--user", "alice", "--session", "s1", "--store", store);
        Assert.True(chat.ExitCode == 0, chat.Error);
        var raw = string.Concat(Directory.EnumerateFiles(store, "*", SearchOption.AllDirectories).Select(File.ReadAllText));
        Assert.DoesNotContain("Alice", raw, StringComparison.Ordinal);

        var withoutKey = await CliProcess.RunAsync(folder.Path, null, "sessions", "show", "s1", "--store", store);
        Assert.Equal(1, withoutKey.ExitCode);
        Assert.Contains("encrypted", withoutKey.Error, StringComparison.Ordinal);
        var shown = await CliProcess.RunWithAsync(folder.Path, first, null, "sessions", "show", "s1", "--store", store);
        Assert.Contains("User's name is Alice", shown.Output, StringComparison.Ordinal);

        var rotation = new Dictionary<string, string> { ["VOXON_SESSION_KEY"] = "second cli key", ["VOXON_SESSION_PREVIOUS_KEYS"] = "first cli key" };
        var rotate = await CliProcess.RunWithAsync(folder.Path, rotation, null, "store", "rotate-key", "--store", store);
        Assert.True(rotate.ExitCode == 0, rotate.Error);
        Assert.Contains("Re-encrypted 1 sessions", rotate.Output, StringComparison.Ordinal);
        var second = new Dictionary<string, string> { ["VOXON_SESSION_KEY"] = "second cli key" };
        var after = await CliProcess.RunWithAsync(folder.Path, second, null, "sessions", "show", "s1", "--store", store);
        Assert.True(after.ExitCode == 0, after.Error);
        Assert.Contains("User's name is Alice", after.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Store_migrate_rewrites_legacy_json_snapshots_in_place_and_show_prints_them_before_and_after()
    {
        await using var voxon = new TestVoxon();
        var session = await voxon.CreateSessionAsync(new Voxon.Sessions.SessionConfig { SessionId = "s1" });
        await Alice.IntroduceAsync(session);
        var path = voxon.PathOf("s1");
        await File.WriteAllBytesAsync(path, Voxon.Storage.SessionDocumentSerializer.Serialize((await voxon.Storage.LoadAsync("s1"))!)); // as earlier versions stored it

        var before = await CliProcess.RunAsync(voxon.Root, null, "sessions", "show", "s1", "--store", voxon.StorageFolder);
        var migrate = await CliProcess.RunAsync(voxon.Root, null, "store", "migrate", "--store", voxon.StorageFolder);
        var after = await CliProcess.RunAsync(voxon.Root, null, "sessions", "show", "s1", "--store", voxon.StorageFolder);

        Assert.True(migrate.ExitCode == 0, migrate.Error);
        Assert.Contains("Migrated 1 sessions", migrate.Output, StringComparison.Ordinal);
        Assert.True(Voxon.Storage.FileSnapshot.IsBinary(await File.ReadAllBytesAsync(path)));
        Assert.True(after.ExitCode == 0, after.Error);
        Assert.Contains("User's name is Alice", before.Output, StringComparison.Ordinal);
        Assert.Equal(before.Output.Split('\n').Skip(1), after.Output.Split('\n').Skip(1)); // all but the version line
    }

    [Fact]
    public async Task Ids_starting_with_a_dash_are_refused_so_the_cli_never_reads_them_as_options()
    {
        Assert.False(Voxon.Storage.SessionIds.IsValid("-rf"));
        using var folder = new TempFolder();
        await using var client = new VoxonClient(new VoxonOptions { SessionStoragePath = folder.Combine("store"), UseEnvironment = false });
        await Assert.ThrowsAsync<VoxonConfigurationException>(() => client.CreateSessionAsync("alice", new Voxon.Sessions.SessionConfig { SessionId = "-help" }));
        await Assert.ThrowsAsync<ArgumentException>(() => client.CreateSessionAsync("-alice"));
    }

    [Fact]
    public async Task Sessions_list_names_a_session_it_cannot_read_instead_of_hiding_it()
    {
        using var folder = new TempFolder();
        var store = folder.Combine("store");
        await CliProcess.RunAsync(folder.Path, "hello\n", "chat", "--user", "alice", "--session", "s1", "--store", store);
        await CliProcess.RunAsync(folder.Path, "hello\n", "chat", "--user", "bob", "--session", "s2", "--store", store);
        await File.WriteAllTextAsync(Path.Combine(store, "s1.json"), "damaged");
        File.Delete(Path.Combine(store, "s1.lock"));                       // no summary to fall back on: the listing reads the session

        var list = await CliProcess.RunAsync(folder.Path, null, "sessions", "list", "--store", store);

        Assert.True(list.ExitCode == 0, list.Error);
        Assert.Contains("s2", list.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("s1", list.Output, StringComparison.Ordinal);
        var skipped = Assert.Single(list.ErrorLines);
        Assert.StartsWith("skipped: ", skipped, StringComparison.Ordinal);
        Assert.Contains("'s1'", skipped, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Users_erase_prints_a_receipt_and_a_second_run_finds_nothing()
    {
        using var folder = new TempFolder();
        var store = folder.Combine("store");
        await CliProcess.RunAsync(folder.Path, string.Join('\n', Alice.Introduction) + "\n", "chat", "--user", "alice", "--session", "s1", "--store", store);
        await CliProcess.RunAsync(folder.Path, "hello\n", "chat", "--user", "bob", "--session", "s2", "--store", store);

        var erase = await CliProcess.RunAsync(folder.Path, null, "users", "erase", "alice", "--store", store);
        var again = await CliProcess.RunAsync(folder.Path, null, "users", "erase", "alice", "--store", store);
        var dryPrune = await CliProcess.RunAsync(folder.Path, null, "sessions", "prune", "--older-than", "90d", "--dry-run", "--store", store);
        var list = await CliProcess.RunAsync(folder.Path, null, "sessions", "list", "--store", store);

        Assert.True(erase.ExitCode == 0, erase.Error);
        Assert.Contains("Erased user alice from file storage", erase.Output, StringComparison.Ordinal);
        Assert.Matches(@"sessions\s+1", erase.Output);
        Assert.Contains("Nothing stored for user alice", again.Output, StringComparison.Ordinal);
        Assert.Contains("Would delete 0 sessions", dryPrune.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("alice", list.Output, StringComparison.Ordinal);
        Assert.Contains("bob", list.Output, StringComparison.Ordinal);
        var badAge = await CliProcess.RunAsync(folder.Path, null, "sessions", "prune", "--older-than", "ninety", "--store", store);
        Assert.Equal(1, badAge.ExitCode);
        Assert.Contains("--older-than must be", badAge.Error, StringComparison.Ordinal);
        var endlessAge = await CliProcess.RunAsync(folder.Path, null, "sessions", "prune", "--older-than", "99999999d", "--store", store);
        Assert.Equal(1, endlessAge.ExitCode);
        Assert.Contains("--older-than may be at most 36500 days, got '99999999d'", endlessAge.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Session_timeout_and_memory_ttl_flags_are_read_and_malformed_ones_named()
    {
        using var folder = new TempFolder();
        var store = folder.Combine("store");
        var chat = await CliProcess.RunAsync(folder.Path, "I have a headache\n", "chat", "--user", "carol", "--session", "s1", "--store", store, "--session-timeout", "30m", "--memory-ttl", "symptoms=30d, contact=12h");
        var badTtl = await CliProcess.RunAsync(folder.Path, null, "sessions", "list", "--store", store, "--memory-ttl", "symptoms");
        var badLifetime = await CliProcess.RunAsync(folder.Path, null, "sessions", "list", "--store", store, "--memory-ttl", "symptoms=soon");
        var badTimeout = await CliProcess.RunWithAsync(folder.Path, new Dictionary<string, string> { ["VOXON_SESSION_TIMEOUT"] = "0m" }, null, "sessions", "list", "--store", store);
        // The MCP server reads the same flags: it must not serve s1 with no expiry, or from the file store when told otherwise.
        var mcpBadTtl = await CliProcess.RunAsync(folder.Path, null, "mcp", "--session", "s1", "--store", store, "--memory-ttl", "symptoms");
        var mcpDatabase = await CliProcess.RunWithAsync(folder.Path, new Dictionary<string, string> { ["VOXON_STORAGE"] = "database" }, null, "mcp", "--session", "s1", "--store", store);

        Assert.True(chat.ExitCode == 0, chat.Error);
        Assert.Equal(1, badTtl.ExitCode);
        Assert.Contains("--memory-ttl takes category=lifetime pairs", badTtl.Error, StringComparison.Ordinal);
        Assert.Equal(1, badLifetime.ExitCode);
        Assert.Contains("--memory-ttl symptoms=soon must be", badLifetime.Error, StringComparison.Ordinal);
        Assert.Equal(1, badTimeout.ExitCode);
        Assert.Contains("--session-timeout must be", badTimeout.Error, StringComparison.Ordinal);
        Assert.Equal(1, mcpBadTtl.ExitCode);
        Assert.Contains("--memory-ttl takes category=lifetime pairs", mcpBadTtl.Error, StringComparison.Ordinal);
        Assert.Equal(1, mcpDatabase.ExitCode);
        Assert.Contains("session_database_url must be set", mcpDatabase.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sessions", "show", "../etc")]
    [InlineData("sessions", "show", "missing")]
    [InlineData("chat", "--session", "s1")]
    [InlineData("sessions", "list", "--user", "../bob")]
    [InlineData("sessions", "list", "--storage", "database", "--database-url", "postgresql://u:pw@host:port/db")]
    [InlineData("sessions", "list", "--storage", "redis", "--redis-url", "redis://:pw@host:port")]
    [InlineData("serve", "--urls", "notaurl")]
    public async Task Errors_print_one_line_without_a_stack_trace(params string[] args)
    {
        using var folder = new TempFolder();

        var result = await CliProcess.RunAsync(folder.Path, null, [.. args, "--store", folder.Combine("store")]);

        Assert.NotEqual(0, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith("error:", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(folder.Combine("etc")));
    }

    [Fact]
    public async Task Voice_say_speaks_a_streamed_turn_into_a_wav_offline()
    {
        using var folder = new TempFolder();
        var store = folder.Combine("store");
        var wav = folder.Combine("reply.wav");

        var result = await CliProcess.RunAsync(folder.Path, null, "voice", "--say", "My name is Alice", "--out", wav, "--user", "alice", "--session", "v1", "--store", store);
        var again = await CliProcess.RunAsync(folder.Path, null, "voice", "--say", "What's my name?", "--out", wav, "--user", "alice", "--session", "v1", "--store", store);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Matches(@"time to first audio: \d+ ms", result.Output);
        Assert.Matches(@"warmed up \(models loaded, a first call rehearsed, the speaker started\) in \d+ ms \(the warm-up is once per process\)", result.Error); // not counted in the time to first audio
        Assert.True(again.ExitCode == 0, again.Error);
        Assert.Contains("assistant> ", again.Output, StringComparison.Ordinal);
        Assert.Contains("Alice", again.Output.Split('\n').Single(l => l.StartsWith("assistant> ", StringComparison.Ordinal)), StringComparison.Ordinal);
        var info = Voxon.Engine.Speech.WavAudio.Parse(await File.ReadAllBytesAsync(wav));
        Assert.InRange(info.Duration.TotalSeconds, 0.5, 30);
    }

    [Fact]
    public async Task Voice_refuses_bad_input_before_warming_up_or_making_a_session()
    {
        using var folder = new TempFolder();
        var store = folder.Combine("store");
        var reply = folder.Combine("r.wav");
        var question = folder.Combine("question.wav");
        await File.WriteAllBytesAsync(question, Voxon.Engine.Speech.WavAudio.FromPcm16(new byte[16_000 * 2], 16_000));
        var notWav = folder.Combine("question.txt");
        await File.WriteAllTextAsync(notWav, "My name is Alice");
        var endpoint = new Dictionary<string, string> { ["VOXON_REALTIME_ENDPOINT"] = "http://127.0.0.1:9/", ["VOXON_API_KEY"] = "k" };

        var unconfigured = await CliProcess.RunAsync(folder.Path, null, "voice", "--in", question, "--out", reply, "--store", store);
        var badFile = await CliProcess.RunAsync(folder.Path, null, endpoint, "voice", "--in", notWav, "--out", reply, "--store", store);
        var nothingSaid = await CliProcess.RunAsync(folder.Path, null, "voice", "--say", " ", "--out", reply, "--store", store);
        var outIsFolder = await CliProcess.RunAsync(folder.Path, null, "voice", "--say", "Hello", "--out", folder.Path, "--store", store);
        var outFolderMissing = await CliProcess.RunAsync(folder.Path, null, "voice", "--say", "Hello", "--out", folder.Combine("missing", "r.wav"), "--store", store);

        foreach (var result in new[] { unconfigured, badFile, nothingSaid, outIsFolder, outFolderMissing })
        {
            Assert.Equal(1, result.ExitCode);
            var line = Assert.Single(result.ErrorLines);                 // no warm-up line, no "New session" line
            Assert.StartsWith("error:", line, StringComparison.Ordinal);
        }

        Assert.Contains("needs a realtime endpoint: set VOXON_REALTIME_ENDPOINT", unconfigured.Error, StringComparison.Ordinal);
        Assert.Contains("question.txt is not a 16-bit PCM WAV file", badFile.Error, StringComparison.Ordinal);
        Assert.Contains("--say needs something to say", nothingSaid.Error, StringComparison.Ordinal);
        Assert.Contains("is a folder; give the WAV file to write", outIsFolder.Error, StringComparison.Ordinal);
        Assert.Contains("its folder does not exist", outFolderMissing.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(reply));
        Assert.Empty(Directory.Exists(store) ? Directory.GetFiles(store, "*", SearchOption.AllDirectories) : []);
    }

    [Fact]
    public async Task Voice_in_speaks_to_the_realtime_endpoint_and_writes_its_audio()
    {
        using var folder = new TempFolder();
        await using var server = LoopbackRealtimeServer.Start();
        server.AutoTranscript = "My name is Alice";
        server.AutoReply = "Nice to meet you, Alice.";
        server.AutoReplyAudio = TimeSpan.FromMilliseconds(800);
        var question = folder.Combine("question.wav");
        await File.WriteAllBytesAsync(question, Voxon.Engine.Speech.WavAudio.FromPcm16(new byte[16_000 * 2], 16_000));   // one second at 16 kHz
        var reply = folder.Combine("reply.wav");
        var environment = new Dictionary<string, string> { ["VOXON_REALTIME_ENDPOINT"] = server.Endpoint.ToString(), ["VOXON_API_KEY"] = "k" };

        var result = await CliProcess.RunAsync(folder.Path, null, environment, "voice", "--in", question, "--out", reply, "--store", folder.Combine("store"));

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("you> My name is Alice", result.Output, StringComparison.Ordinal);
        Assert.Contains("assistant> Nice to meet you, Alice.", result.Output, StringComparison.Ordinal);
        Assert.Matches(@"time to first audio: \d+ ms", result.Output);
        var connection = Assert.Single(server.Connections);
        Assert.Equal(24_000 * 2, connection.AudioBytes);                               // resampled to 24 kHz
        Assert.Equal(0.8, Voxon.Engine.Speech.WavAudio.Parse(await File.ReadAllBytesAsync(reply)).Duration.TotalSeconds, 2);
    }
}
