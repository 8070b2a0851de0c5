using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Voxon.Engine.Speech;

// MEAI001: ITextToSpeechClient is experimental in Microsoft.Extensions.AI; this offline speaker implements it.
#pragma warning disable MEAI001

/// <summary>
/// Offline speech output on Debian's <c>espeak-ng</c> (installed by <c>scripts/debian-deps.sh</c>): each call runs the
/// program with the text on its standard input and returns a 16-bit mono WAV (22,050 Hz). No network.
/// <see cref="TextToSpeechOptions.VoiceId"/> (or <see cref="TextToSpeechOptions.Language"/>) picks an espeak-ng voice
/// such as <c>en</c> or <c>fr</c>; <see cref="TextToSpeechOptions.Speed"/> scales the default 175 words per minute.
/// </summary>
/// <remarks>Thread-safe: each call runs its own process.</remarks>
public sealed class EspeakTextToSpeechClient : ITextToSpeechClient
{
    /// <summary>espeak-ng's default speed in words per minute, which <see cref="TextToSpeechOptions.Speed"/> = 1 keeps.</summary>
    public const int DefaultWordsPerMinute = 175;

    private readonly string _executable;
    private readonly TextToSpeechClientMetadata _metadata;

    /// <summary>Creates the client.</summary>
    /// <param name="executable">The espeak-ng program (a name looked up on PATH, or a path).</param>
    public EspeakTextToSpeechClient(string executable = "espeak-ng")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(executable);
        _executable = executable;
        _metadata = new TextToSpeechClientMetadata("espeak-ng", null, "espeak-ng");
    }

    /// <summary>Whether espeak-ng can be run here.</summary>
    public static bool IsAvailable(string executable = "espeak-ng")
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(executable, "--version") { RedirectStandardOutput = true, RedirectStandardError = true });
            if (process is null)
            {
                return false;
            }

            process.WaitForExit(10_000);
            return process.HasExited && process.ExitCode == 0;
        }
        catch (Win32Exception)
        {
            return false;
        }
    }

    /// <summary>Speaks <paramref name="text"/> into a WAV file (<see cref="DataContent"/> of <c>audio/wav</c>).</summary>
    /// <exception cref="SpeechException">espeak-ng is missing or failed.</exception>
    public async Task<TextToSpeechResponse> GetAudioAsync(string text, TextToSpeechOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        var wav = await SpeakAsync(text, options, cancellationToken);
        return new TextToSpeechResponse([new DataContent(wav, "audio/wav")]) { ModelId = "espeak-ng" };
    }

    /// <summary>Speaks <paramref name="text"/>; the whole WAV comes as one update (espeak-ng writes it in one go).</summary>
    /// <exception cref="SpeechException">espeak-ng is missing or failed.</exception>
    public async IAsyncEnumerable<TextToSpeechResponseUpdate> GetStreamingAudioAsync(
        string text, TextToSpeechOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var response = await GetAudioAsync(text, options, cancellationToken);
        foreach (var update in response.ToTextToSpeechResponseUpdates())
        {
            yield return update;
        }
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(TextToSpeechClientMetadata) ? _metadata
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private async Task<byte[]> SpeakAsync(string text, TextToSpeechOptions? options, CancellationToken cancellationToken)
    {
        var voice = options?.VoiceId ?? options?.Language ?? "en";
        if (voice.Length is 0 or > 64 || voice[0] == '-' || !voice.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '+' or '/'))
        {
            throw new ArgumentException($"'{voice}' is not an espeak-ng voice name (e.g. en, en-us, fr).", nameof(options));
        }

        var speed = options?.Speed is { } s && float.IsFinite(s) && s > 0 ? s : 1f;
        var wordsPerMinute = Math.Clamp((int)Math.Round(DefaultWordsPerMinute * speed), 80, 450);
        var start = new ProcessStartInfo(_executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--stdin", "--stdout", "-v", voice, "-s", wordsPerMinute.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new SpeechException($"Could not start {_executable}.");
        }
        catch (Win32Exception ex)
        {
            throw new SpeechException($"{_executable} is not installed (Debian: apt-get install espeak-ng, or run scripts/debian-deps.sh espeak-ng).", ex);
        }

        using (process)
        using (cancellationToken.Register(() => Kill(process)))
        {
            var output = new MemoryStream();
            var copy = process.StandardOutput.BaseStream.CopyToAsync(output, cancellationToken);
            var errors = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.StandardInput.WriteAsync(text.AsMemory(), cancellationToken);
            process.StandardInput.Close();
            await copy;
            var stderr = await errors;
            await process.WaitForExitAsync(cancellationToken);
            if (process.ExitCode != 0 || output.Length == 0)
            {
                throw new SpeechException($"{_executable} failed (exit {process.ExitCode}): {stderr.Trim()}");
            }

            // espeak-ng streams its WAV with placeholder sizes; rewrite the header with the real ones.
            var raw = output.ToArray();
            var info = WavAudio.Parse(raw);
            return WavAudio.FromPcm16(raw.AsSpan(info.DataOffset, info.DataLength), info.SampleRate, info.Channels);
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill();
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }
}
