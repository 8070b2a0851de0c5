using System.CommandLine;
using System.Globalization;
using Voxon.Conversations;
using Voxon.Engine.Realtime;
using Voxon.Engine.Speech;
using Voxon.Sessions;
using Voxon.Storage;

namespace Voxon.Cli.Commands;

/// <summary>
/// <c>voxon voice --say TEXT --out reply.wav</c>: a streamed turn spoken offline with espeak-ng, sentence by sentence.
/// <c>voxon voice --in question.wav --out reply.wav</c>: the same turn spoken to and by a realtime model
/// (<c>VOXON_REALTIME_ENDPOINT</c>, <c>VOXON_REALTIME_MODEL</c>, <c>VOXON_API_KEY</c>). Both print the time to first audio and the reply.
/// </summary>
internal static class VoiceCommand
{
    /// <summary>Longest wait for a realtime reply.</summary>
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(60);

    public static Command Create(CliIO io)
    {
        var say = new Option<string?>("--say") { Description = "What the user says, as text (offline: streamed turn, espeak-ng speech)" };
        var input = new Option<string?>("--in") { Description = "What the user says, as a 16-bit PCM WAV file (realtime endpoint)" };
        var output = new Option<string>("--out") { Description = "WAV file to write the spoken reply to", Required = true };
        var user = new Option<string>("--user") { Description = "The user id", DefaultValueFactory = _ => "voice_user" };
        var session = new Option<string?>("--session") { Description = "Session to continue, or the id of a new one" };
        var command = new Command("voice", "Speak one turn: --say TEXT (offline, espeak-ng) or --in question.wav (realtime model), reply into --out.");
        foreach (var option in new Option[] { say, input, output, user, session })
        {
            command.Options.Add(option);
        }

        command.SetAction((result, cancellationToken) => io.GuardAsync(async () =>
        {
            var text = result.GetValue(say);
            var wav = result.GetValue(input);
            if ((text is null) == (wav is null))
            {
                throw new ArgumentException("Give exactly one of --say TEXT and --in question.wav.");
            }

            if (text is not null && string.IsNullOrWhiteSpace(text))
            {
                throw new ArgumentException("--say needs something to say.");
            }

            var target = CheckTarget(result.GetValue(output)!);

            await using var voxon = CliIO.Client(result);

            // What a realtime turn needs is checked before the warm-up (a second or more) and before a session is made.
            var pcm = wav is null ? null : await ReadQuestionAsync(voxon, wav, cancellationToken);
            using var espeak = text is null ? null : new EspeakTextToSpeechClient();
            var pipeline = espeak is null ? null : new VoicePipeline(espeak);

            // Once per process, as a server does at startup: the turn measured below is the turn a caller waits for.
            var warming = TimeProvider.System.GetTimestamp();
            var warmUp = Task.WhenAll(voxon.WarmUpAsync(cancellationToken), pipeline?.WarmUpAsync(cancellationToken) ?? Task.CompletedTask);
            await using var opened = await OpenAsync(io, voxon, result.GetValue(user)!, result.GetValue(session), cancellationToken);
            await warmUp;
            await io.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Session opened and warmed up (models loaded, a first call rehearsed{(pipeline is null ? "" : ", the speaker started")}) in {TimeProvider.System.GetElapsedTime(warming).TotalMilliseconds:F0} ms (the warm-up is once per process)."));
            return pipeline is not null
                ? await SayAsync(io, opened, pipeline, text!, target, cancellationToken)
                : await HearAsync(io, opened, pcm!, target, cancellationToken);
        }));
        return command;
    }

    private static async Task<Session> OpenAsync(CliIO io, VoxonClient voxon, string userId, string? sessionId, CancellationToken cancellationToken)
    {
        if (sessionId is not null && await voxon.Storage.LoadAsync(SessionIds.Validate(sessionId), cancellationToken) is not null)
        {
            var loaded = await voxon.LoadSessionAsync(sessionId, cancellationToken);
            if (loaded.UserId != userId)
            {
                await loaded.CloseAsync(cancellationToken);
                throw new ArgumentException($"Session '{sessionId}' belongs to another user, not '{userId}'.");
            }

            return loaded;
        }

        var config = new SessionConfig();
        if (sessionId is not null)
        {
            config.SessionId = sessionId;
        }

        var session = await voxon.CreateSessionAsync(userId, config, cancellationToken);
        await io.Error.WriteLineAsync($"New session {session.SessionId}.");
        return session;
    }

    private static async Task<int> SayAsync(CliIO io, Session session, VoicePipeline pipeline, string text, string target, CancellationToken cancellationToken)
    {
        SpokenReply spoken;
        await using (var conversation = await session.StartConversationAsync(cancellationToken: cancellationToken))
        {
            spoken = await pipeline.RespondAsync(conversation, text, cancellationToken);
        }

        await File.WriteAllBytesAsync(target, spoken.Wav, cancellationToken);
        await WriteAsync(io, spoken.TimeToFirstAudio, spoken.Text, target, WavAudio.Parse(spoken.Wav).Duration);
        return 0;
    }

    /// <summary>Returns <paramref name="target"/> once it is known the reply can be written there: checked before the
    /// turn is taken and saved, since a reply that cannot be written would be lost after it was stored.</summary>
    /// <exception cref="ArgumentException">It is a folder, or its folder does not exist.</exception>
    private static string CheckTarget(string target)
    {
        var path = Path.GetFullPath(target);
        if (Directory.Exists(path))
        {
            throw new ArgumentException($"--out {target} is a folder; give the WAV file to write.");
        }

        return Directory.Exists(Path.GetDirectoryName(path)) ? target : throw new ArgumentException($"--out {target}: its folder does not exist.");
    }

    /// <summary>The question's audio at the realtime sample rate.</summary>
    /// <exception cref="VoxonConfigurationException">No realtime endpoint is configured.</exception>
    /// <exception cref="ArgumentException">The file holds no audio, or is not a WAV file it can read.</exception>
    private static async Task<byte[]> ReadQuestionAsync(VoxonClient voxon, string source, CancellationToken cancellationToken)
    {
        if (voxon.Realtime is null)
        {
            throw new VoxonConfigurationException("realtime settings", [$"voice --in needs a realtime endpoint: set {RealtimeOptions.EndpointVariable} and {RealtimeOptions.ModelVariable} (or use --say, offline)"]);
        }

        var bytes = await File.ReadAllBytesAsync(source, cancellationToken);
        byte[] pcm;
        try
        {
            pcm = WavAudio.ToMonoPcm16(bytes, RealtimeAudio.SampleRate);
        }
        catch (FormatException ex)
        {
            throw new ArgumentException($"{source} is not a 16-bit PCM WAV file: {ex.Message}", ex);
        }

        return pcm.Length > 0 ? pcm : throw new ArgumentException($"{source} holds no audio.");
    }

    private static async Task<int> HearAsync(CliIO io, Session session, byte[] pcm, string target, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReplyTimeout);
        var reply = new MemoryStream();
        TimeSpan? firstAudio = null;
        VoiceConversation voice = await session.StartVoiceConversationAsync(new VoiceConversationOptions { ServerVad = false }, cancellationToken);
        await using (voice)
        {
            // Push to talk: the whole file, then the end of the utterance.
            const int chunk = RealtimeAudio.BytesPerMillisecond * 100;
            for (var offset = 0; offset < pcm.Length; offset += chunk)
            {
                await voice.SendAudioAsync(pcm.AsMemory(offset, Math.Min(chunk, pcm.Length - offset)), timeout.Token);
            }

            var committed = TimeProvider.System.GetTimestamp();
            await voice.CommitAudioAsync(timeout.Token);

            // The file is the whole reply: audio counts as played once written.
            var writer = Task.Run(
                async () =>
                {
                    await foreach (var chunk in voice.ReadAudioAsync(CancellationToken.None))
                    {
                        firstAudio ??= TimeProvider.System.GetElapsedTime(committed);
                        reply.Write(chunk.Pcm16.Span);
                        voice.ReportPlayback(chunk.ItemId, RealtimeAudio.Duration(reply.Length));
                    }
                },
                CancellationToken.None);
            while (!voice.Transcript.Any(t => t.Role == TurnRole.Assistant))
            {
                if (timeout.IsCancellationRequested)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    throw new VoxonException($"The realtime model did not answer within {ReplyTimeout.TotalSeconds:F0} s.");
                }

                if (voice.Completion.IsCompleted)
                {
                    await voice.Completion;
                    break;
                }

                await Task.Delay(20, CancellationToken.None);
            }

            await voice.DisposeAsync();
            await writer;
        }

        var said = session.GetTranscript(voice.ConversationId);
        var answer = said.LastOrDefault(t => t.Role == TurnRole.Assistant)?.Content
            ?? throw new VoxonException("The realtime model did not answer.");
        await io.Output.WriteLineAsync($"you> {said.FirstOrDefault(t => t.Role == TurnRole.User)?.Content ?? "(not transcribed)"}");
        var wav = WavAudio.FromPcm16(reply.ToArray(), RealtimeAudio.SampleRate);
        await File.WriteAllBytesAsync(target, wav, cancellationToken);
        await WriteAsync(io, firstAudio ?? TimeSpan.Zero, answer, target, WavAudio.Parse(wav).Duration);
        return 0;
    }

    private static async Task WriteAsync(CliIO io, TimeSpan firstAudio, string reply, string target, TimeSpan duration)
    {
        await io.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"time to first audio: {firstAudio.TotalMilliseconds:F0} ms"));
        await io.Output.WriteLineAsync($"assistant> {reply}");
        await io.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"wrote {target} ({duration.TotalSeconds:F1} s)"));
    }
}
