using Voxon.Adaptation;
using Voxon.Sessions;

namespace Voxon;

public sealed partial class VoxonClient
{
    /// <summary>Creates a session that starts from a preference profile (the spec's
    /// <c>create_session(user_id, preference_profile=profile)</c>): learning continues from the profile's values and
    /// evidence, its overrides apply and its topics are remembered as interests.</summary>
    /// <param name="userId">The owner.</param>
    /// <param name="config">The configuration; the default when null.</param>
    /// <param name="preferenceProfile">From <see cref="Session.ExportPreferenceProfile"/> or <see cref="SessionProfile.Merge"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="ArgumentNullException"><paramref name="preferenceProfile"/> is null.</exception>
    /// <exception cref="ArgumentException">The profile is malformed (a missing part, a score out of range, an override
    /// <see cref="Session.SetPreference"/> would refuse); the message names every problem.</exception>
    /// <inheritdoc cref="CreateSessionAsync(string, SessionConfig?, CancellationToken)" path="/exception"/>
    public async Task<Session> CreateSessionAsync(string userId, SessionConfig? config, SessionProfile preferenceProfile, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(preferenceProfile);

        // Checked before the session exists: a bad value would otherwise fail every turn, or be stored and come back altered.
        if (preferenceProfile.Problems() is { Count: > 0 } problems)
        {
            throw new ArgumentException($"The preference profile cannot be applied: {string.Join("; ", problems)}.", nameof(preferenceProfile));
        }

        var session = await CreateSessionAsync(userId, config, cancellationToken);
        session.ApplyProfile(preferenceProfile);
        return session;
    }
}
