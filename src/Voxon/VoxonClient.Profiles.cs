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
    /// <inheritdoc cref="CreateSessionAsync(string, SessionConfig?, CancellationToken)" path="/exception"/>
    public async Task<Session> CreateSessionAsync(string userId, SessionConfig? config, SessionProfile preferenceProfile, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(preferenceProfile);
        var session = await CreateSessionAsync(userId, config, cancellationToken);
        session.ApplyProfile(preferenceProfile);
        return session;
    }
}
