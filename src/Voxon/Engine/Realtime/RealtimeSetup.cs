using Microsoft.Extensions.AI;
using OpenAI.Realtime;

namespace Voxon.Engine.Realtime;

/// <summary>How the live realtime session is configured (the first <c>session.update</c>).</summary>
/// <param name="Instructions">The session's instructions with the woven memory.</param>
/// <param name="Voice">The realtime voice (e.g. alloy).</param>
/// <param name="Speed">Speech speed, 1 = normal (the realtime API accepts 0.25 to 1.5).</param>
/// <param name="Language">The conversation's language (BCP 47) for transcription, or null.</param>
/// <param name="MaxOutputTokens">Upper bound of tokens in one reply.</param>
/// <param name="ServerVad">Whether the server detects the end of the user's speech and answers by itself.</param>
/// <param name="TranscriptionModel">The model that transcribes the user's speech.</param>
/// <param name="Tools">Functions the model may call.</param>
internal sealed record RealtimeSetup(
    string Instructions,
    string Voice,
    double Speed,
    string? Language,
    int MaxOutputTokens,
    bool ServerVad,
    string TranscriptionModel,
    IReadOnlyList<AIFunction> Tools)
{
    /// <summary>Normal speaking pace in words per minute: a user who speaks at it gets speed 1.</summary>
    internal const double NormalPace = 150;

    /// <summary>The speed that matches a speaking pace (words per minute), kept to a range that stays natural.</summary>
    public static double SpeedFor(double? wordsPerMinute) =>
        wordsPerMinute is { } pace && pace > 0 && double.IsFinite(pace)
            ? Math.Round(Math.Clamp(pace / NormalPace, 0.75, 1.25), 2)
            : 1.0;

    // OPENAI002: the realtime API of the OpenAI SDK is experimental; the realtime engine is built on it.
#pragma warning disable OPENAI002
    /// <summary>The full session configuration.</summary>
    public RealtimeConversationSessionOptions ToSessionOptions()
    {
        var format = new RealtimePcmAudioFormat { Rate = RealtimeAudio.SampleRate };
        var input = new RealtimeConversationSessionInputAudioOptions
        {
            AudioFormat = format,
            AudioTranscriptionOptions = new RealtimeAudioTranscriptionOptions
            {
                Model = TranscriptionModel,
                // The transcription model takes an ISO 639-1 code: the primary subtag of the BCP 47 tag.
                Language = Language?.Split('-')[0].ToLowerInvariant(),
            },
        };
        if (ServerVad)
        {
            input.TurnDetection = new RealtimeServerVadTurnDetection { CreateResponseEnabled = true, InterruptResponseEnabled = true };
        }
        else
        {
            input.DisableTurnDetection();
        }

        var options = new RealtimeConversationSessionOptions
        {
            Instructions = Instructions,
            MaxOutputTokenCount = new RealtimeMaxOutputTokenCount(MaxOutputTokens),
            AudioOptions = new RealtimeConversationSessionAudioOptions
            {
                InputAudioOptions = input,
                OutputAudioOptions = new RealtimeConversationSessionOutputAudioOptions
                {
                    AudioFormat = new RealtimePcmAudioFormat { Rate = RealtimeAudio.SampleRate },
                    Voice = new RealtimeVoice(Voice),
                    Speed = (float)Speed,
                },
            },
        };
        foreach (var tool in Tools)
        {
            options.Tools.Add(new RealtimeFunctionTool(tool.Name)
            {
                FunctionDescription = tool.Description,
                FunctionParameters = BinaryData.FromString(tool.JsonSchema.GetRawText()),
            });
        }

        if (Tools.Count > 0)
        {
            options.ToolChoice = new RealtimeToolChoice(RealtimeDefaultToolChoice.Auto);
        }

        return options;
    }
#pragma warning restore OPENAI002
}
