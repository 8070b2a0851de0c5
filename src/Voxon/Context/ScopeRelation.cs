namespace Voxon.Context;

/// <summary>How a memory's scope relates to the conversation being answered (ARCHITECTURE.md, "Conversations and branching").</summary>
internal enum ScopeRelation
{
    /// <summary>Session-wide, or made in this conversation or one of its ancestors.</summary>
    Own,

    /// <summary>Made in a branch below this conversation: visible, labelled, ranked below own memories.</summary>
    Descendant,

    /// <summary>Made in a sibling or unrelated branch: not visible.</summary>
    Hidden,
}
