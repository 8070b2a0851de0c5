// A minimal ASP.NET Core API over Voxon, registered with services.AddVoxon.
//
//   dotnet run --urls http://127.0.0.1:5080
//   curl -X POST http://127.0.0.1:5080/users/alice/messages -H 'Content-Type: application/json' -d '{"text":"My name is Alice"}'
//   curl -X POST http://127.0.0.1:5080/users/alice/messages -H 'Content-Type: application/json' -d '{"text":"What is my name?"}'
//   curl http://127.0.0.1:5080/users/alice/memory
using Voxon;
using Voxon.Sessions;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddVoxon(options => options.SessionStoragePath = builder.Configuration["Voxon:Sessions"] ?? "./web-sessions");
var app = builder.Build();

// One message of the user's conversation: the reply comes from the model (the offline engine unless one is configured)
// with the user's memories woven in; the session is saved before the response.
app.MapPost("/users/{userId}/messages", async (string userId, MessageRequest request, VoxonClient voxon, CancellationToken cancellationToken) =>
{
    await using var session = await UserSessionAsync(voxon, userId, cancellationToken);
    string reply;
    await using (var conversation = session.Conversations.Count == 0
        ? await session.StartConversationAsync(cancellationToken: cancellationToken)
        : await session.ResumeConversationAsync(cancellationToken: cancellationToken))
    {
        reply = await conversation.SendMessageAsync(request.Text, cancellationToken);
    }   // ending the conversation saves the session

    return Results.Ok(new { session_id = session.SessionId, reply });
});

app.MapGet("/users/{userId}/memory", async (string userId, VoxonClient voxon, CancellationToken cancellationToken) =>
{
    await using var session = await UserSessionAsync(voxon, userId, cancellationToken);
    return Results.Ok(session.GetMemory().Entries.Select(e => new { e.Id, e.Content, e.Category, e.Importance }));
});

await app.RunAsync();

// The user's latest session, or a new one.
static async Task<Session> UserSessionAsync(VoxonClient voxon, string userId, CancellationToken cancellationToken)
{
    var latest = (await voxon.ListSessionsAsync(userId, cancellationToken)).OrderByDescending(s => s.UpdatedAt).FirstOrDefault();
    return latest is null
        ? await voxon.CreateSessionAsync(userId, SessionPresets.Conversation, cancellationToken)
        : await voxon.LoadSessionAsync(latest.SessionId, cancellationToken);
}

internal sealed record MessageRequest(string Text);
