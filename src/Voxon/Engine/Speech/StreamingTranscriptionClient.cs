using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using System.ClientModel;
using OpenAI.Audio;

namespace Voxon.Engine.Speech;

// MEAI001: the speech interfaces of Microsoft.Extensions.AI are experimental; the cascaded pipeline is built on them.
// OPENAI001: the OpenAI SDK's streaming transcription is experimental; interim transcripts come from it.
#pragma warning disable MEAI001, OPENAI001

/// <summary>
/// An OpenAI-compatible <c>/v1/audio/transcriptions</c> endpoint as an <see cref="ISpeechToTextClient"/> whose streaming
/// really streams: <c>stream=true</c>, the server's <c>transcript.text.delta</c> events become
/// <see cref="SpeechToTextResponseUpdateKind.TextUpdating"/> updates as they arrive and <c>transcript.text.done</c> the
/// final <see cref="SpeechToTextResponseUpdateKind.TextUpdated"/>. Microsoft.Extensions.AI.OpenAI 10.11 cannot do it
/// against OpenAI 2.15 (its streaming transcription calls a method that 2.15 no longer has), so this calls the SDK's
/// <c>AudioClient.TranscribeAudioStreamingAsync</c> itself. Whole transcriptions go through Microsoft.Extensions.AI's client.
/// </summary>
internal sealed class StreamingTranscriptionClient(AudioClient audio) : DelegatingSpeechToTextClient(audio.AsISpeechToTextClient())
{
    /// <summary>The file name sent with audio that does not come from a file (the server reads the format from the bytes).</summary>
    internal const string DefaultFileName = "audio.wav";

    public override async IAsyncEnumerable<SpeechToTextResponseUpdate> GetStreamingTextAsync(
        Stream audioSpeechStream, SpeechToTextOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(audioSpeechStream);
        var transcription = options?.RawRepresentationFactory?.Invoke(this) as AudioTranscriptionOptions ?? new AudioTranscriptionOptions();
        transcription.Language ??= options?.SpeechLanguage?.Split('-')[0].ToLowerInvariant();
        var name = audioSpeechStream is FileStream file ? Path.GetFileName(file.Name) : DefaultFileName;
        AsyncStreamingResult<StreamingAudioTranscriptionUpdate>? updates = null;
        try
        {
            updates = await audio.TranscribeAudioStreamingAsync(audioSpeechStream, name, transcription, cancellationToken);
        }
        catch (NotSupportedException)
        {
            // A model that cannot stream (whisper-1) answers with its final text only, below.
        }

        if (updates is null)
        {
            foreach (var update in (await GetTextAsync(audioSpeechStream, options, cancellationToken)).ToSpeechToTextResponseUpdates())
            {
                yield return update;
            }

            yield break;
        }

        await using var stream = updates;
        await foreach (var update in updates.WithCancellation(cancellationToken))
        {
            switch (update)
            {
                case StreamingAudioTranscriptionTextDeltaUpdate { Delta: { Length: > 0 } delta }:
                    yield return new SpeechToTextResponseUpdate(delta) { Kind = SpeechToTextResponseUpdateKind.TextUpdating, ModelId = audio.Model, RawRepresentation = update };
                    break;
                case StreamingAudioTranscriptionTextDoneUpdate done:
                    yield return new SpeechToTextResponseUpdate(done.Text ?? string.Empty) { Kind = SpeechToTextResponseUpdateKind.TextUpdated, ModelId = audio.Model, RawRepresentation = update };
                    break;
            }
        }
    }
}
