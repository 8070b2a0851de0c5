namespace Voxon.Storage;

/// <summary>The <c>learned_preferences</c> part of a stored session: running sums from which the learned
/// preferences are computed, so learning continues after a load without re-reading transcripts.</summary>
public sealed class LearnedPreferencesDocument
{
    /// <summary>User messages learned from (including evidence carried in from a profile).</summary>
    public int EvidenceCount { get; set; }

    /// <summary>Sum of words per message.</summary>
    public double WordsSum { get; set; }

    /// <summary>Sum of per-message formality (0..1).</summary>
    public double FormalitySum { get; set; }

    /// <summary>Sum of per-message technical level (0..1).</summary>
    public double TechnicalSum { get; set; }

    /// <summary>Sum of verbosity samples (0..1); an interrupted reply adds a 0.</summary>
    public double VerbositySum { get; set; }

    /// <summary>Verbosity samples.</summary>
    public int VerbositySamples { get; set; }

    /// <summary>Sum of per-message speaking pace (words per minute).</summary>
    public double PaceSum { get; set; }

    /// <summary>Messages with audio timing.</summary>
    public int PaceSamples { get; set; }

    /// <summary>Values last announced with <c>preference.learned</c>, by name.</summary>
    public Dictionary<string, double> Announced { get; set; } = [];

    /// <summary>Topics of interest carried in from a preference profile.</summary>
    public List<string> ProfileTopics { get; set; } = [];

    /// <summary>A deep copy.</summary>
    public LearnedPreferencesDocument Clone()
    {
        var copy = (LearnedPreferencesDocument)MemberwiseClone();
        copy.Announced = new Dictionary<string, double>(Announced, StringComparer.Ordinal);
        copy.ProfileTopics = [.. ProfileTopics];
        return copy;
    }
}
