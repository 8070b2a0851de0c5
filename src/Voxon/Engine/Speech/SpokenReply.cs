namespace Voxon.Engine.Speech;

/// <summary>A reply of the cascaded voice pipeline, spoken sentence by sentence.</summary>
/// <param name="Heard">What the user said (the transcript for audio input).</param>
/// <param name="Text">The reply's text.</param>
/// <param name="Wav">The reply's speech: the sentences' audio joined into one WAV file.</param>
/// <param name="TimeToFirstAudio">From the start of the turn to the first sentence's audio.</param>
/// <param name="Sentences">How many sentences were spoken.</param>
public sealed record SpokenReply(string Heard, string Text, byte[] Wav, TimeSpan TimeToFirstAudio, int Sentences);
