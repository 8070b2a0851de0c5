using System.Buffers.Binary;
using Microsoft.Extensions.AI;
using Voxon.Engine;
using Voxon.Engine.Speech;
using Voxon.Tests.TestSupport;

namespace Voxon.Tests.Engine;

// MEAI001: ITextToSpeechClient is experimental in Microsoft.Extensions.AI.
#pragma warning disable MEAI001

/// <summary>Offline speech output on the real espeak-ng (installed by scripts/debian-deps.sh), and the WAV helpers.</summary>
public sealed class SpeechTests
{
    private const string Short = "Hello Alice, nice to meet you.";
    private const string Long = "Quantum physics studies how matter and light behave at the smallest scales, where particles act like waves "
        + "and measurements change what they observe, which is why it surprises almost everyone who learns it.";

    [Fact]
    public async Task Espeak_speaks_a_wav_whose_duration_fits_the_text()
    {
        using var tts = new EspeakTextToSpeechClient();
        var shortWav = await SpeakAsync(tts, Short);
        var longWav = await SpeakAsync(tts, Long);

        foreach (var (text, wav) in new[] { (Short, shortWav), (Long, longWav) })
        {
            var info = WavAudio.Parse(wav);
            Assert.Equal(1, info.Channels);
            Assert.Equal(wav.Length - info.DataOffset, info.DataLength);   // the header carries the real sizes
            var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
            var wordsPerSecond = words / info.Duration.TotalSeconds;
            Assert.InRange(wordsPerSecond, 1.2, 5.0);                      // speech, not silence or a click
            Assert.True(Energy(wav, info) > 100, "the audio is not silent");
        }

        Assert.True(WavAudio.Parse(longWav).Duration > WavAudio.Parse(shortWav).Duration * 3, "longer text gives longer audio");
    }

    [Fact]
    public async Task Espeak_speed_option_shortens_the_audio()
    {
        using var tts = new EspeakTextToSpeechClient();
        var normal = WavAudio.Parse(await SpeakAsync(tts, Long));
        var fast = WavAudio.Parse(await SpeakAsync(tts, Long, new TextToSpeechOptions { Speed = 2f }));
        Assert.InRange(fast.Duration / normal.Duration, 0.35, 0.75);
    }

    [Fact]
    public async Task Missing_espeak_program_raises_a_clear_error()
    {
        using var tts = new EspeakTextToSpeechClient("/nonexistent/espeak-ng");
        var error = await Assert.ThrowsAsync<SpeechException>(() => tts.GetAudioAsync("hello"));
        Assert.Contains("not installed", error.Message, StringComparison.Ordinal);
        Assert.False(EspeakTextToSpeechClient.IsAvailable("/nonexistent/espeak-ng"));
    }

    [Fact]
    public async Task Bad_voice_name_is_rejected_before_running_anything()
    {
        using var tts = new EspeakTextToSpeechClient();
        await Assert.ThrowsAsync<ArgumentException>(() => tts.GetAudioAsync("hello", new TextToSpeechOptions { VoiceId = "--help" }));
    }

    [Fact]
    public void Wav_round_trip_join_and_resample_keep_duration()
    {
        var pcm = new byte[22_050 * 2];    // one second at 22,050 Hz
        for (var i = 0; i < pcm.Length / 2; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(pcm.AsSpan(i * 2), (short)(Math.Sin(i * 0.05) * 8000));
        }

        var wav = WavAudio.FromPcm16(pcm, 22_050);
        Assert.Equal(TimeSpan.FromSeconds(1), WavAudio.Parse(wav).Duration);
        var joined = WavAudio.Concatenate([wav, wav]);
        Assert.Equal(TimeSpan.FromSeconds(2), WavAudio.Parse(joined).Duration);
        var resampled = WavAudio.ToMonoPcm16(wav, 24_000);
        Assert.InRange(resampled.Length, (24_000 * 2) - 4, 24_000 * 2);
        Assert.Throws<FormatException>(() => WavAudio.Parse("RIFF0000WAVE"u8.ToArray()));
        Assert.Throws<FormatException>(() => WavAudio.Concatenate([wav, WavAudio.FromPcm16(pcm, 16_000)]));
    }

    [Fact]
    public async Task Pipeline_warm_up_speaks_one_sentence_with_the_pipelines_options_and_reports_a_broken_speaker()
    {
        using var espeak = new EspeakTextToSpeechClient();
        var speaker = new RecordingSpeaker(espeak);
        var options = new TextToSpeechOptions { Speed = 1.5f };

        await new VoicePipeline(speaker) { SpeechOptions = options }.WarmUpAsync();

        var (text, used) = Assert.Single(speaker.Calls);
        Assert.False(string.IsNullOrWhiteSpace(text));
        Assert.Same(options, used);
        using var missing = new EspeakTextToSpeechClient("/nonexistent/espeak-ng");
        await Assert.ThrowsAsync<SpeechException>(() => new VoicePipeline(missing).WarmUpAsync()); // found at startup, not by the first caller
    }

    [Fact]
    public async Task Cascaded_pipeline_transcribes_streams_the_turn_and_speaks_each_sentence()
    {
        await using var model = LoopbackChatServer.Start();
        model.Transcript = "My name is Alice";
        model.Reply = "Nice to meet you, Alice, it is a pleasure to talk. What would you like to learn about today?";
        await using var voxon = new TestVoxon(new ModelOptions { Endpoint = model.Endpoint, Model = "test-model", ApiKey = "k" }.CreateChatClient(),
            configure: o => o.ModelMemoryExtraction = false);
        var session = await voxon.CreateSessionAsync();
        using var espeak = new EspeakTextToSpeechClient();
        var pipeline = new VoicePipeline(espeak, VoicePipeline.CreateSpeechToTextClient(model.Endpoint, apiKey: "k"));
        await using var conversation = await session.StartConversationAsync();

        var spoken = await pipeline.RespondAsync(conversation, new MemoryStream(WavAudio.FromPcm16(new byte[32_000], 16_000)));

        Assert.Equal("My name is Alice", spoken.Heard);
        Assert.Equal(model.Reply, spoken.Text);
        Assert.Equal(2, spoken.Sentences);                                            // spoken as each sentence completed
        Assert.InRange(spoken.TimeToFirstAudio, TimeSpan.FromTicks(1), TimeSpan.FromSeconds(30));
        var words = model.Reply.Split(' ').Length;
        Assert.InRange(words / WavAudio.Parse(spoken.Wav).Duration.TotalSeconds, 1.2, 5.0);
        Assert.Equal(["My name is Alice", model.Reply], conversation.Transcript.Select(t => t.Content));   // recorded once
        Assert.Single(model.Requests, r => r.Path == "/v1/audio/transcriptions");               // streamed, not asked twice
        Assert.Contains(session.GetMemory().Entries, m => m.Content.Contains("Alice", StringComparison.Ordinal));
    }

    [Fact]
    public async Task OpenAI_compatible_recognizer_streams_interim_text_before_the_final_text()
    {
        await using var model = LoopbackChatServer.Start();
        model.Transcript = "My name is Alice";
        var recognizer = VoicePipeline.CreateSpeechToTextClient(model.Endpoint, apiKey: "k");

        var updates = await UpdatesAsync(recognizer);

        Assert.Equal(["My ", "name ", "is ", "Alice"], updates.Where(u => u.Kind == SpeechToTextResponseUpdateKind.TextUpdating).Select(u => u.Text));
        Assert.Equal(SpeechToTextResponseUpdateKind.TextUpdated, updates[^1].Kind);
        Assert.Equal("My name is Alice", updates[^1].Text);
        Assert.Single(updates, u => u.Kind == SpeechToTextResponseUpdateKind.TextUpdated);
        Assert.Matches("name=\"?stream\"?", Assert.Single(model.Requests).Body);
    }

    [Fact]
    public async Task Recognizer_model_that_cannot_stream_answers_with_its_final_text()
    {
        await using var model = LoopbackChatServer.Start();
        model.Transcript = "Hello there";
        var recognizer = VoicePipeline.CreateSpeechToTextClient(model.Endpoint, model: "whisper-1", apiKey: "k");

        var update = Assert.Single(await UpdatesAsync(recognizer));

        Assert.Equal(SpeechToTextResponseUpdateKind.TextUpdated, update.Kind);
        Assert.Equal("Hello there", update.Text);
        Assert.DoesNotMatch("name=\"?stream\"?", Assert.Single(model.Requests).Body);
    }

    private static async Task<List<SpeechToTextResponseUpdate>> UpdatesAsync(ISpeechToTextClient recognizer)
    {
        var updates = new List<SpeechToTextResponseUpdate>();
        await foreach (var update in recognizer.GetStreamingTextAsync(new MemoryStream(WavAudio.FromPcm16(new byte[32_000], 16_000))))
        {
            updates.Add(update);
        }

        return updates;
    }

    private static async Task<byte[]> SpeakAsync(ITextToSpeechClient tts, string text, TextToSpeechOptions? options = null)
    {
        var response = await tts.GetAudioAsync(text, options);
        var audio = Assert.IsType<DataContent>(Assert.Single(response.Contents));
        Assert.Equal("audio/wav", audio.MediaType);
        return audio.Data.ToArray();
    }

    private static double Energy(byte[] wav, WavInfo info)
    {
        double sum = 0;
        for (var i = 0; i < info.DataLength; i += 2)
        {
            sum += Math.Abs((int)BinaryPrimitives.ReadInt16LittleEndian(wav.AsSpan(info.DataOffset + i, 2)));
        }

        return sum / (info.DataLength / 2);
    }

    /// <summary>Speaks through <paramref name="inner"/>, recording each text and its options.</summary>
    private sealed class RecordingSpeaker(ITextToSpeechClient inner) : ITextToSpeechClient
    {
        public List<(string Text, TextToSpeechOptions? Options)> Calls { get; } = [];

        public Task<TextToSpeechResponse> GetAudioAsync(string text, TextToSpeechOptions? options = null, CancellationToken cancellationToken = default)
        {
            Calls.Add((text, options));
            return inner.GetAudioAsync(text, options, cancellationToken);
        }

        public IAsyncEnumerable<TextToSpeechResponseUpdate> GetStreamingAudioAsync(string text, TextToSpeechOptions? options = null, CancellationToken cancellationToken = default)
        {
            Calls.Add((text, options));
            return inner.GetStreamingAudioAsync(text, options, cancellationToken);
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => inner.GetService(serviceType, serviceKey);

        public void Dispose()
        {
        }
    }
}
