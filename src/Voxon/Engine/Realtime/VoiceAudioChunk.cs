namespace Voxon.Engine.Realtime;

/// <summary>A piece of the assistant's speech to play: 16-bit little-endian mono PCM at
/// <see cref="RealtimeAudio.SampleRate"/> Hz.</summary>
/// <param name="ItemId">The realtime item (one reply) the audio belongs to; report playback against it.</param>
/// <param name="Pcm16">The samples.</param>
public sealed record VoiceAudioChunk(string ItemId, ReadOnlyMemory<byte> Pcm16);
