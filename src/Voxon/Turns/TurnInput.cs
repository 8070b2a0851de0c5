using Voxon.Context;
using Voxon.Conversations;

namespace Voxon.Turns;

/// <summary>The user's side of a turn, ready for the model: the words as stored (redacted when the session redacts),
/// their embedding, the context woven for them and the history the model gets.</summary>
/// <param name="Words">What the user said, as it will be recorded.</param>
/// <param name="Embedding">The embedding of <paramref name="Words"/>.</param>
/// <param name="Context">The context ContextWeaver built for the words.</param>
/// <param name="History">The conversation so far, as the model sees it.</param>
/// <param name="Audio">Duration of the spoken words, when known.</param>
internal sealed record TurnInput(string Words, float[] Embedding, WovenContext Context, IReadOnlyList<ConversationTurn> History, TimeSpan? Audio);
