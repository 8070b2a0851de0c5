using System.Globalization;
using System.Text.Json.Serialization;

namespace Voxon.Sessions;

/// <summary>
/// How a session behaves: identity, model settings, memory and features. Every field of the spec's
/// <c>SessionConfig</c> with its default; persisted with the session under <c>config</c>.
/// </summary>
/// <remarks>Not thread-safe: configure before creating the session. <see cref="Validate"/> runs at creation.</remarks>
public sealed class SessionConfig
{
    /// <summary>Largest accepted <see cref="MaxOutputTokens"/>; larger values are almost always a unit mistake.</summary>
    public const int MaxOutputTokensLimit = 1_000_000;

    /// <summary>Session id; a new <c>sess_</c> id when not set. Letters, digits, '-', '_' and '.' only (see <see cref="Storage.SessionIds"/>).</summary>
    public string SessionId { get; set; } = Storage.SessionIds.NewSessionId();

    /// <summary>The user who owns the session; set by <see cref="VoxonClient.CreateSessionAsync(string, SessionConfig?, CancellationToken)"/>.</summary>
    public string? UserId { get; set; }

    /// <summary>System instructions for the model. Default "You are a helpful assistant".</summary>
    public string Instructions { get; set; } = "You are a helpful assistant";

    /// <summary>Voice of the realtime model. Default "alloy".</summary>
    public string Voice { get; set; } = "alloy";

    /// <summary>Language of the conversation (BCP 47, e.g. "en" or "fr-FR"); null lets the model decide.</summary>
    public string? Language { get; set; }

    /// <summary>Sampling temperature, 0 to 2. Default 0.8.</summary>
    public double Temperature { get; set; } = 0.8;

    /// <summary>Upper bound of tokens in one reply. Default 4096.</summary>
    public int MaxOutputTokens { get; set; } = 4096;

    /// <summary>Whether the model may call functions. Default false.</summary>
    public bool EnableFunctions { get; set; }

    /// <summary>How long memories live. Default <see cref="Sessions.MemoryMode.Hybrid"/>.</summary>
    public MemoryMode MemoryMode { get; set; } = MemoryMode.Hybrid;

    /// <summary>Memory budget in tokens (o200k_base); past it the least valuable entries are evicted. Default 10,000.</summary>
    public int MaxMemorySize { get; set; } = 10_000;

    /// <summary>Whether the session learns preferences from the user's messages. Default true.</summary>
    public bool EnableLearning { get; set; } = true;

    /// <summary>Whether analytics are recorded. Default true.</summary>
    public bool EnableAnalytics { get; set; } = true;

    /// <summary>Whether learned preferences shape the model's style guidance. Default true.</summary>
    public bool EnableAdaptation { get; set; } = true;

    /// <summary>In <see cref="Sessions.MemoryMode.Hybrid"/>, extracted memories at or above this importance persist. Default 0.5.</summary>
    public double HybridPersistThreshold { get; set; } = 0.5;

    /// <summary>Tokens ContextWeaver may inject per turn. Default 1,500: a small share of a realtime model's context.</summary>
    public int ContextTokenBudget { get; set; } = 1_500;

    /// <summary>When true, emails, phone numbers and card numbers are redacted from memories before storage. Default false.</summary>
    public bool RedactPii { get; set; }

    /// <summary>IANA or Windows time zone id used for analytics such as active hours. Default "UTC".</summary>
    public string TimeZone { get; set; } = "UTC";

    /// <summary>A copy that shares nothing mutable with this one.</summary>
    public SessionConfig Clone() => (SessionConfig)MemberwiseClone();

    /// <summary>Checks every field and throws one exception listing all problems.</summary>
    /// <exception cref="VoxonConfigurationException">Any field is out of range.</exception>
    public void Validate()
    {
        var errors = new List<string>();
        if (!Storage.SessionIds.IsValid(SessionId))
        {
            errors.Add($"session_id {Storage.SessionIds.Describe(SessionId)}");
        }

        if (UserId is not null && !Storage.SessionIds.IsValid(UserId))
        {
            errors.Add($"user_id {Storage.SessionIds.Describe(UserId)}");
        }

        if (string.IsNullOrWhiteSpace(Instructions))
        {
            errors.Add("instructions must not be empty");
        }
        else if (WellFormedText.FirstUnpairedSurrogate(Instructions) is var at and >= 0)
        {
            errors.Add(Invariant($"instructions have an unpaired UTF-16 surrogate at character {at}"));
        }

        if (string.IsNullOrWhiteSpace(Voice))
        {
            errors.Add("voice must not be empty");
        }

        if (Language is not null && !IsLanguageTag(Language))
        {
            errors.Add($"language must be a language tag such as 'en' or 'fr-FR', got '{Language}'");
        }

        if (double.IsNaN(Temperature) || Temperature < 0 || Temperature > 2)
        {
            errors.Add(Invariant($"temperature must be between 0 and 2, got {Temperature}"));
        }

        if (MaxOutputTokens <= 0 || MaxOutputTokens > MaxOutputTokensLimit)
        {
            errors.Add(Invariant($"max_output_tokens must be between 1 and {MaxOutputTokensLimit}, got {MaxOutputTokens}"));
        }

        if (!Enum.IsDefined(MemoryMode))
        {
            errors.Add($"memory_mode must be ephemeral, persistent or hybrid, got {(int)MemoryMode}");
        }

        if (MaxMemorySize <= 0)
        {
            errors.Add(Invariant($"max_memory_size must be a positive number of tokens, got {MaxMemorySize}"));
        }

        if (double.IsNaN(HybridPersistThreshold) || HybridPersistThreshold < 0 || HybridPersistThreshold > 1)
        {
            errors.Add(Invariant($"hybrid_persist_threshold must be between 0 and 1, got {HybridPersistThreshold}"));
        }

        if (ContextTokenBudget <= 0)
        {
            errors.Add(Invariant($"context_token_budget must be a positive number of tokens, got {ContextTokenBudget}"));
        }

        if (!TryFindTimeZone(TimeZone, out _))
        {
            errors.Add($"time_zone '{TimeZone}' is not a known time zone id");
        }

        if (errors.Count > 0)
        {
            throw new VoxonConfigurationException("session config", errors);
        }
    }

    /// <summary>The <see cref="TimeZone"/> as a <see cref="TimeZoneInfo"/>.</summary>
    [JsonIgnore]
    public TimeZoneInfo TimeZoneInfo => TryFindTimeZone(TimeZone, out var zone) ? zone : TimeZoneInfo.Utc;

    private static bool TryFindTimeZone(string? id, out TimeZoneInfo zone)
    {
        zone = TimeZoneInfo.Utc;
        if (string.IsNullOrWhiteSpace(id))
        {
            return false;
        }

        return TimeZoneInfo.TryFindSystemTimeZoneById(id, out zone!);
    }

    private static bool IsLanguageTag(string tag)
    {
        if (tag.Length is < 2 or > 35)
        {
            return false;
        }

        foreach (var part in tag.Split('-'))
        {
            if (part.Length is 0 or > 8 || !part.All(char.IsAsciiLetterOrDigit))
            {
                return false;
            }
        }

        return char.IsAsciiLetter(tag[0]);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
