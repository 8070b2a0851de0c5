using System.CommandLine;
using Microsoft.Extensions.Hosting;
using Voxon.Server.Hosting;
using Voxon.Server.Tenancy;

namespace Voxon.Cli.Commands;

/// <summary><c>voxon serve</c> runs the HTTP server; <c>voxon keys create|list|revoke</c> manages its API keys (no server needed).</summary>
internal static class ServerCommands
{
    private static readonly Option<string?> KeysFile = new("--keys") { Description = "The API key file (default: keys/keys.json in the store folder)", Recursive = true };

    public static Command Serve(CliIO io)
    {
        var urls = new Option<string>("--urls") { Description = "Where to listen", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var command = new Command("serve", "Run the Voxon server: REST API, dashboard at /, MCP at /mcp. --store may be a folder or a postgresql:// or redis:// URL.");
        command.Options.Add(urls);
        command.Options.Add(KeysFile);
        command.SetAction((result, cancellationToken) => io.GuardAsync(async () =>
        {
            // The client is made on the first request: a malformed --session-timeout or --memory-ttl must fail here.
            var retention = new VoxonOptions { UseEnvironment = false };
            CliIO.ApplyRetention(result, retention);
            retention.Validate();
            // A failure to start is this command's one error line, not the host's log of it with a stack trace.
            var app = VoxonServer.Build(Options(result), ["--urls", result.GetValue(urls)!, "--Logging:LogLevel:Microsoft.Extensions.Hosting.Internal.Host=None"]);
            try
            {
                await app.StartAsync(cancellationToken);
            }
            catch (FormatException ex)
            {
                throw new ArgumentException($"--urls '{result.GetValue(urls)}' is not a list of URLs to listen on (http://127.0.0.1:5080;http://[::1]:5080): {ex.Message}", ex);
            }

            await io.Output.WriteLineAsync($"Voxon server on {result.GetValue(urls)}: dashboard at /, API at /v1, OpenAPI at /openapi/v1.json. Ctrl+C stops it.");
            await app.WaitForShutdownAsync(cancellationToken);
            await app.DisposeAsync();
            return 0;
        }));
        return command;
    }

    public static Command Keys(CliIO io)
    {
        var command = new Command("keys", "Manage the server's API keys (stored hashed; a key is shown once).");
        command.Options.Add(KeysFile);

        var tenant = new Option<string>("--tenant") { Description = "The tenant the key belongs to", Required = true };
        var admin = new Option<bool>("--admin") { Description = "The key may create and revoke keys" };
        var create = new Command("create", "Create a key; the key is printed alone on the last line.");
        create.Options.Add(tenant);
        create.Options.Add(admin);
        create.SetAction(result => io.GuardAsync(async () =>
        {
            var created = Store(result).Create(result.GetValue(tenant)!, result.GetValue(admin));
            await io.Output.WriteLineAsync($"Key {created.Key.KeyId} for tenant {created.Key.Tenant}{(created.Key.Admin ? " (admin)" : "")}. It is shown only now; it is stored hashed.");
            await io.Output.WriteLineAsync(created.Secret);
            return 0;
        }));

        var list = new Command("list", "List keys (ids and tenants, never the keys).");
        list.SetAction(result => io.GuardAsync(async () =>
        {
            foreach (var key in Store(result).List())
            {
                await io.Output.WriteLineAsync($"{key.KeyId}  {key.Tenant}{(key.Admin ? "  admin" : "")}  created {key.CreatedAt:u}{(key.RevokedAt is { } at ? $"  revoked {at:u}" : "")}");
            }

            return 0;
        }));

        var keyId = new Argument<string>("key-id") { Description = "The key id (from keys list)" };
        var revoke = new Command("revoke", "Revoke a key: it is refused from now on.");
        revoke.Arguments.Add(keyId);
        revoke.SetAction(result => io.GuardAsync(async () =>
        {
            var id = result.GetValue(keyId)!;
            if (!Store(result).Revoke(id))
            {
                throw new ArgumentException($"there is no live key '{id}'");
            }

            await io.Output.WriteLineAsync($"Revoked key {id}.");
            return 0;
        }));

        command.Subcommands.Add(create);
        command.Subcommands.Add(list);
        command.Subcommands.Add(revoke);
        return command;
    }

    private static VoxonServerOptions Options(ParseResult result) => new()
    {
        Store = result.GetValue(VoxonCommand.Store)!,
        KeysPath = result.GetValue(KeysFile),
        ConfigureVoxon = options => CliIO.ApplyRetention(result, options),
    };

    private static ApiKeyStore Store(ParseResult result) => new(Options(result).ResolvedKeysPath);
}
