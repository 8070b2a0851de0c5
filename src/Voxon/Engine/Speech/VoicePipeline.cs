using System.ClientModel;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.AI;
using OpenAI;
using Voxon.Conversations;
using Voxon.Turns;

namespace Voxon.Engine.Speech;

// MEAI001: the speech interfaces of Microsoft.Extensions.AI are experimental; the cascaded pipeline is built on them.
#pragma warning disable MEAI001

/// <summary>
/// The cascaded voice pipeline, for teams that pick their own speech services: speech to text
/// (<see cref="ISpeechToTextClient"/>, e.g. an OpenAI-compatible <c>/v1/audio/transcriptions</c> endpoint), then a
/// streamed turn of a <see cref="Conversation"/>, then text to speech (<see cref="ITextToSpeechClient"/>, e.g. the
/// offline <see cref="EspeakTextToSpeechClient"/>) sentence by sentence, each sentence spoken as soon as it is complete.
/// </summary>
/// <remarks>Thread-safe when the clients are; turns of one conversation run one at a time.</remarks>
public sealed class VoicePipeline
{
    private readonly ITextToSpeechClient _speaker;
    private readonly ISpeechToTextClient? _recognizer;
    private readonly TimeProvider _time;

    /// <summary>Creates the pipeline.</summary>
    /// <param name="speaker">Speaks the reply.</param>
    /// <param name="recognizer">Transcribes the user's audio; needed only by <see cref="RespondAsync(Conversation, Stream, CancellationToken)"/>.</param>
    /// <param name="time">Clock for the time to first audio; default the system clock.</param>
    public VoicePipeline(ITextToSpeechClient speaker, ISpeechToTextClient? recognizer = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(speaker);
        _speaker = speaker;
        _recognizer = recognizer;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Options for every sentence spoken (voice, speed, language).</summary>
    public TextToSpeechOptions? SpeechOptions { get; set; }

    /// <summary>A speech-to-text client for an OpenAI-compatible <c>/v1/audio/transcriptions</c> endpoint (OpenAI, Azure
    /// OpenAI v1, a local whisper server). Its streaming API streams (<c>stream=true</c>): interim text arrives while the
    /// endpoint is still transcribing, so <see cref="RespondAsync(Conversation, Stream, CancellationToken)"/> prepares the
    /// turn before the final text.</summary>
    /// <param name="endpoint">Base URL (e.g. http://localhost:8000/v1); null means api.openai.com.</param>
    /// <param name="model">The transcription model.</param>
    /// <param name="apiKey">The API key; local servers accept any value.</param>
    public static ISpeechToTextClient CreateSpeechToTextClient(Uri? endpoint, string model = "gpt-4o-mini-transcribe", string? apiKey = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        var options = new OpenAIClientOptions();
        if (endpoint is not null)
        {
            options.Endpoint = endpoint;
        }

        return new StreamingTranscriptionClient(new OpenAI.Audio.AudioClient(model, new ApiKeyCredential(string.IsNullOrEmpty(apiKey) ? "unused" : apiKey), options));
    }

    /// <summary>Answers the user's spoken words: transcribes them, then as <see cref="RespondAsync(Conversation, string, CancellationToken)"/>.</summary>
    /// <remarks>The recognizer's streaming API is used: each interim text it yields is handed to
    /// <see cref="Conversation.PrepareAsync"/> in the background (never awaited on the path of the updates), so when the
    /// final text matches the last interim one, the turn starts with its words already embedded. A recognizer that yields
    /// no text while streaming is asked once more for a final text.</remarks>
    /// <exception cref="InvalidOperationException">The pipeline has no speech-to-text client.</exception>
    /// <exception cref="SpeechException">Nothing intelligible was heard.</exception>
    public async Task<SpokenReply> RespondAsync(Conversation conversation, Stream audio, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        ArgumentNullException.ThrowIfNull(audio);
        var recognizer = _recognizer ?? throw new InvalidOperationException("This voice pipeline has no speech-to-text client; create it with one.");
        var started = _time.GetTimestamp();
        await using var preparer = new InterimPreparer(conversation, cancellationToken);
        var heard = (await TranscribeAsync(recognizer, audio, preparer, cancellationToken)).Trim();
        if (heard.Length == 0)
        {
            throw new SpeechException("Nothing intelligible was heard in the audio.");
        }

        await preparer.FinishAsync(heard);
        return await SpeakTurnAsync(conversation, heard, started, cancellationToken);
    }

    /// <summary>The final text of <paramref name="audio"/>, offering each interim text to <paramref name="preparer"/>.
    /// Updates follow Microsoft.Extensions.AI's convention: <see cref="SpeechToTextResponseUpdateKind.TextUpdating"/> adds
    /// to the segment being heard, <see cref="SpeechToTextResponseUpdateKind.TextUpdated"/> gives a segment's final text.</summary>
    private static async Task<string> TranscribeAsync(ISpeechToTextClient recognizer, Stream audio, InterimPreparer preparer, CancellationToken cancellationToken)
    {
        if (!audio.CanSeek)
        {
            // Kept so the audio can be sent again to a recognizer that does not stream.
            var copy = new MemoryStream();
            await audio.CopyToAsync(copy, cancellationToken);
            copy.Position = 0;
            audio = copy;
        }

        var start = audio.Position;
        var final = new StringBuilder();
        var segment = new StringBuilder();
        await foreach (var update in recognizer.GetStreamingTextAsync(audio, cancellationToken: cancellationToken))
        {
            if (update.Kind == SpeechToTextResponseUpdateKind.TextUpdating)
            {
                segment.Append(update.Text);
            }
            else if (update.Kind == SpeechToTextResponseUpdateKind.TextUpdated)
            {
                segment.Clear();
                final.Append(update.Text);
            }
            else
            {
                continue;
            }

            preparer.Offer(final.ToString() + segment);
        }

        var heard = final.Length > 0 ? final.ToString() : segment.ToString();
        if (string.IsNullOrWhiteSpace(heard))
        {
            audio.Position = start;
            heard = (await recognizer.GetTextAsync(audio, cancellationToken: cancellationToken)).Text ?? string.Empty;
        }

        return heard;
    }

    /// <summary>Answers the user's words with a streamed turn and speaks the reply sentence by sentence.</summary>
    /// <exception cref="SpeechException">The speaker failed; the turn is recorded as far as it was delivered.</exception>
    public Task<SpokenReply> RespondAsync(Conversation conversation, string text, CancellationToken cancellationToken = default) =>
        SpeakTurnAsync(conversation, text, _time.GetTimestamp(), cancellationToken);

    /// <summary>
    /// Speaks a short sentence through the pipeline and discards it, so that the first caller's reply does not wait for
    /// the speaker's first use (a process to start, a voice to load, a connection to open) or for the pipeline's code to
    /// be compiled. Call it at startup, next to <see cref="VoxonClient.WarmUpAsync"/>; it calls the speaker once.
    /// Measured with <c>voxon voice --say</c> and espeak-ng: the first reply's time to first audio fell from 62-79 ms
    /// to 23-33 ms.
    /// </summary>
    /// <exception cref="SpeechException">The speaker failed: better found at startup than by the first caller.</exception>
    public async Task WarmUpAsync(CancellationToken cancellationToken = default)
    {
        await foreach (var _ in SpeakAsync(AsyncEnumerable.Repeat("Hello.", 1), cancellationToken))
        {
        }
    }

    /// <summary>The reply's sentences with their audio, each as soon as it is spoken.</summary>
    public async IAsyncEnumerable<(string Sentence, byte[] Wav)> SpeakAsync(
        IAsyncEnumerable<string> reply, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var sentence in SentenceChunker.ChunkAsync(reply, cancellationToken: cancellationToken))
        {
            var response = await _speaker.GetAudioAsync(sentence, SpeechOptions, cancellationToken);
            var audio = response.Contents.OfType<DataContent>().FirstOrDefault()
                ?? throw new SpeechException($"The speech client returned no audio for \"{sentence}\".");
            yield return (sentence, audio.Data.ToArray());
        }
    }

    private async Task<SpokenReply> SpeakTurnAsync(Conversation conversation, string text, long started, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        var reply = new StringBuilder();
        var wavs = new List<byte[]>();
        TimeSpan? firstAudio = null;
        await foreach (var (sentence, wav) in SpeakAsync(Collect(conversation.StreamMessageAsync(text, cancellationToken), reply), cancellationToken))
        {
            firstAudio ??= _time.GetElapsedTime(started);
            wavs.Add(wav);
        }

        return new SpokenReply(text, reply.ToString().Trim(), WavAudio.Concatenate(wavs), firstAudio ?? _time.GetElapsedTime(started), wavs.Count);
    }

    private static async IAsyncEnumerable<string> Collect(IAsyncEnumerable<string> chunks, StringBuilder into)
    {
        await foreach (var chunk in chunks)
        {
            into.Append(chunk);
            yield return chunk;
        }
    }
}
