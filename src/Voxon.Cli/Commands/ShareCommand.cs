using System.CommandLine;
using System.Globalization;

namespace Voxon.Cli.Commands;

/// <summary><c>voxon share create|revoke|list</c>: share a stored session with one user, revoke a share, list a session's shares.</summary>
internal static class ShareCommand
{
    public static Command Create(CliIO io)
    {
        var command = new Command("share", "Share sessions with other users (read, add_notes) and manage the shares.");
        var sessionId = new Argument<string>("session-id") { Description = "The session id" };

        var with = new Option<string>("--with") { Description = "The user to share with", Required = true };
        var permissions = new Option<string>("--permissions") { Description = "Comma-separated: read, add_notes", DefaultValueFactory = _ => "read" };
        var hours = new Option<double>("--hours") { Description = "Hours until the share expires", DefaultValueFactory = _ => 24 };
        var create = new Command("create", "Share a session; prints the token once (it is stored only hashed).");
        create.Arguments.Add(sessionId);
        create.Options.Add(with);
        create.Options.Add(permissions);
        create.Options.Add(hours);
        create.SetAction((result, cancellationToken) => io.GuardAsync(async () =>
        {
            var lifetime = result.GetValue(hours);
            if (!double.IsFinite(lifetime) || lifetime <= 0 || lifetime > 24 * 365)
            {
                throw new ArgumentException($"--hours must be between 0 and {24 * 365}, got {lifetime.ToString(CultureInfo.InvariantCulture)}");
            }

            await using var voxon = CliIO.Client(result);
            var session = await voxon.LoadSessionAsync(result.GetValue(sessionId)!, cancellationToken);
            var share = await session.CreateSharedViewAsync(result.GetValue(with)!, result.GetValue(permissions)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries), TimeSpan.FromHours(lifetime), cancellationToken);
            await session.CloseAsync(cancellationToken);
            await io.Output.WriteLineAsync($"Share {share.ShareId} with {share.Info.SharedWithUserId} ({string.Join(",", share.Info.Permissions)}), expires {share.Info.ExpiresAt.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)}");
            await io.Output.WriteLineAsync($"token: {share.Token}");
            await io.Output.WriteLineAsync("The token is shown only now; it is stored hashed.");
            return 0;
        }));

        var shareId = new Argument<string>("share-id") { Description = "The share id (from share list)" };
        var revoke = new Command("revoke", "Revoke a share: its token is refused from now on.");
        revoke.Arguments.Add(sessionId);
        revoke.Arguments.Add(shareId);
        revoke.SetAction((result, cancellationToken) => io.GuardAsync(async () =>
        {
            await using var voxon = CliIO.Client(result);
            var id = result.GetValue(shareId)!;
            if (!await voxon.RevokeShareAsync(result.GetValue(sessionId)!, id, cancellationToken))
            {
                throw new ArgumentException($"session '{result.GetValue(sessionId)}' has no share '{id}'");
            }

            await io.Output.WriteLineAsync($"Revoked share {id}.");
            return 0;
        }));

        var list = new Command("list", "List a session's shares (never their tokens).");
        list.Arguments.Add(sessionId);
        list.SetAction((result, cancellationToken) => io.GuardAsync(async () =>
        {
            await using var voxon = io.ReportingSkipped(CliIO.Client(result));
            var shares = await voxon.ListSharesAsync(result.GetValue(sessionId)!, cancellationToken);
            if (shares.Count == 0)
            {
                // A mistyped id is "not found", as on the REST API, not a session without shares. Only the metadata is
                // read, and nothing is saved.
                await (await voxon.LoadSessionAsync(result.GetValue(sessionId)!, lazyLoad: true, cancellationToken)).CloseAsync(cancellationToken);
                await io.Output.WriteLineAsync("No shares.");
                return 0;
            }

            var now = voxon.Options.TimeProvider.GetUtcNow();
            await io.Output.WriteLineAsync($"{"SHARE",-24} {"WITH",-20} {"PERMISSIONS",-16} {"EXPIRES",-20} STATE");
            foreach (var s in shares)
            {
                var state = s.RevokedAt is not null ? "revoked" : s.IsActiveAt(now) ? "active" : "expired";
                await io.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{s.ShareId,-24} {s.SharedWithUserId,-20} {string.Join(",", s.Permissions),-16} {s.ExpiresAt.UtcDateTime,-20:yyyy-MM-dd HH:mm:ss} {state}"));
            }

            return 0;
        }));

        command.Subcommands.Add(create);
        command.Subcommands.Add(revoke);
        command.Subcommands.Add(list);
        return command;
    }
}
