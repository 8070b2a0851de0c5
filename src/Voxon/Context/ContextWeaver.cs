using System.Runtime.CompilerServices;
using System.Text;
using Voxon.Memory;
using Voxon.Security;

namespace Voxon.Context;

/// <summary>
/// Builds the per-turn context: profile facts about the user, then memories relevant to the message,
/// then style guidance and template context, all within the session's token budget. Stateless and
/// thread-safe; knows nothing of storage or transport.
/// </summary>
internal sealed class ContextWeaver(ContextWeaverOptions options)
{
    /// <summary>Most profile facts (name, age, home, work, interests...) injected on every turn.</summary>
    internal const int MaxProfileFacts = 8;

    internal const string MemoryHeader = "What you know about the user from earlier conversations (use it when relevant; do not recite it unprompted):";

    /// <summary>Tokens of each memory's line, for the memories woven so far: profile facts are woven on every turn and
    /// relevant memories on many, and counting a line costs microseconds where looking it up costs nanoseconds. Keyed by
    /// the entry itself (immutable; a change makes a new one), so nothing outlives the memory.</summary>
    private readonly ConditionalWeakTable<MemoryEntry, StrongBox<int>> _lineTokens = new();

    private static readonly Lazy<int> HeaderTokens = new(() => TokenCounter.Count(MemoryHeader + "\n"));

    public ContextWeaverOptions Options { get; } = options;

    public WovenContext Weave(WeaveRequest request)
    {
        var text = new StringBuilder();
        var injected = new List<InjectedMemory>();
        var budget = request.Budget;
        var used = 0;
        (string Block, int Tokens) last = (string.Empty, 0);

        bool TryAppend(string block, int? knownTokens = null)
        {
            var tokens = knownTokens ?? TokenCounter.Count(block);
            if (used + tokens > budget)
            {
                return false;
            }

            text.Append(block);
            used += tokens;
            last = (block, tokens);
            return true;
        }

        foreach (var (key, value) in request.TemplateContext ?? new Dictionary<string, string>())
        {
            TryAppend($"Session context: {key} = {value}\n");
        }

        if (!string.IsNullOrEmpty(request.StyleGuidance))
        {
            TryAppend($"Style: {request.StyleGuidance}\n");
        }

        var candidates = Candidates(request);
        var beforeHeader = last;
        if (candidates.Count > 0 && TryAppend(MemoryHeader + "\n", HeaderTokens.Value))
        {
            foreach (var (entry, reason, score, branch) in candidates)
            {
                var line = Line(entry, branch);
                if (TryAppend(line, branch is null ? LineTokens(entry, line) : null))
                {
                    injected.Add(new InjectedMemory(entry.Id, reason, score, branch));
                }
            }

            if (injected.Count == 0)
            {
                text.Length -= MemoryHeader.Length + 1;
                used -= HeaderTokens.Value;
                last = beforeHeader;
            }
        }

        if (text.Length == 0)
        {
            return WovenContext.Empty;
        }

        // Every block ends with a line break and the next begins with a letter or a dash, where the tokenizer always
        // splits: the text's tokens are its blocks', the last counted without the trailing whitespace the text drops.
        var rendered = text.ToString().TrimEnd();
        return new WovenContext(rendered, injected, used - last.Tokens + TokenCounter.Count(last.Block.TrimEnd()));
    }

    /// <summary>A memory's line in the context: its content (the redaction marker for a sensitive one), labelled with the
    /// branch it comes from when that is not the conversation's own.</summary>
    private static string Line(MemoryEntry entry, string? branch)
    {
        var content = entry.Sensitive ? Redaction.Marker : entry.Content;
        return branch is null ? $"- {content}\n" : $"- [from branch {branch}] {content}\n";
    }

    /// <summary>Tokens of <paramref name="line"/>, the unlabelled line of <paramref name="entry"/>.</summary>
    private int LineTokens(MemoryEntry entry, string line)
    {
        if (!_lineTokens.TryGetValue(entry, out var tokens))
        {
            tokens = new StrongBox<int>(TokenCounter.Count(line));
            _lineTokens.AddOrUpdate(entry, tokens);
        }

        return tokens.Value;
    }

    private List<(MemoryEntry Entry, string Reason, double Score, string? Branch)> Candidates(WeaveRequest request)
    {
        var chosen = new List<(MemoryEntry, string, double, string?)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in request.Store.Profile(request.Now)
                     .Where(e => request.Relation(e) == ScopeRelation.Own && !(request.ExcludeSensitive && e.Sensitive))
                     .OrderByDescending(e => e.Importance)
                     .Take(MaxProfileFacts))
        {
            chosen.Add((entry, "profile", 1.0, null));
            seen.Add(entry.Id);
        }

        var found = request.Store.Search(
            request.Message,
            request.MessageEmbedding,
            Options.TopK + seen.Count,
            e => !seen.Contains(e.Id) && e.IsLive(request.Now) && request.Relation(e) != ScopeRelation.Hidden && !(request.ExcludeSensitive && e.Sensitive),
            Options.MinScore,
            request.Now);

        // Branch memories pass the same relevance floor, then rank below the conversation's own.
        var ranked = found
            .Select(r => (r.Entry, Relation: request.Relation(r.Entry), r.Score))
            .Select(r => (r.Entry, Score: r.Relation == ScopeRelation.Descendant ? r.Score * Options.BranchPenalty : r.Score, r.Relation))
            .OrderByDescending(r => r.Score)
            .Take(Options.TopK);
        foreach (var (entry, score, relation) in ranked)
        {
            chosen.Add((entry, "relevant", score, relation == ScopeRelation.Descendant ? entry.Scope : null));
        }

        return chosen;
    }
}

/// <summary>Everything ContextWeaver needs for one turn. <paramref name="ExcludeSensitive"/> leaves sensitive memories out
/// altogether (otherwise they appear only as the redaction marker): for contexts that leave Voxon's control, such as a
/// realtime session's instructions.</summary>
internal sealed record WeaveRequest(
    MemoryStore Store,
    string Message,
    ReadOnlyMemory<float> MessageEmbedding,
    Func<MemoryEntry, ScopeRelation> Relation,
    int Budget,
    DateTimeOffset Now,
    IReadOnlyDictionary<string, string>? TemplateContext = null,
    string? StyleGuidance = null,
    bool ExcludeSensitive = false);
