namespace Voxon;

/// <summary>
/// A configuration (<see cref="Sessions.SessionConfig"/>, <see cref="VoxonOptions"/>) is invalid.
/// The message lists every problem at once, each naming the field.
/// </summary>
public sealed class VoxonConfigurationException : VoxonException
{
    /// <summary>Creates the exception from the list of problems found.</summary>
    public VoxonConfigurationException(string subject, IReadOnlyList<string> errors)
        : base($"Invalid {subject}: {string.Join("; ", errors)}")
    {
        Errors = errors;
    }

    /// <summary>Each problem, naming the field it concerns (e.g. "temperature must be between 0 and 2, got 3").</summary>
    public IReadOnlyList<string> Errors { get; }
}
