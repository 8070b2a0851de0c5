// A console tutor that remembers you across runs. Each run is one conversation of your Voxon session, stored in
// ./tutor-sessions; what you tell it today is in its memory the next time you start it.
//
//   dotnet run -- alice                       talk until an empty line
//   dotnet run -- alice "My name is Alice"    one message per argument, then exit
//   dotnet run -- alice "What's my name?"     (a later run) Your name is Alice.
//
// With no model configured the embedded offline engine answers from memory; set VOXON_MODEL_ENDPOINT, VOXON_MODEL and
// VOXON_API_KEY to use an OpenAI-compatible model instead.
using Voxon;
using Voxon.Sessions;

var user = args.Length > 0 ? args[0] : "learner";
await using var voxon = new VoxonClient(new VoxonOptions
{
    SessionStoragePath = Environment.GetEnvironmentVariable("TUTOR_SESSIONS") ?? "./tutor-sessions",
});

// The user's latest session, or a new one on the first run.
var previous = (await voxon.ListSessionsAsync(user)).OrderByDescending(s => s.UpdatedAt).FirstOrDefault();
await using var session = previous is null
    ? await voxon.CreateSessionAsync(user, new SessionConfig
    {
        Instructions = "You are a friendly tutor. Build on what the learner already knows.",
        MemoryMode = MemoryMode.Persistent,
    })
    : await voxon.LoadSessionAsync(previous.SessionId);

Console.WriteLine(previous is null
    ? $"New learner {user}. Tell me about yourself."
    : $"Welcome back, {user}. I remember {session.GetMemory().Entries.Count} things about you.");

await using (var conversation = await session.StartConversationAsync())
{
    foreach (var message in args.Length > 1 ? args[1..] : ReadLines())
    {
        Console.WriteLine($"> {message}");
        Console.WriteLine(await conversation.SendMessageAsync(message));
    }
}   // ending the conversation saves the session

static IEnumerable<string> ReadLines()
{
    while (Console.ReadLine() is { Length: > 0 } line)
    {
        yield return line;
    }
}
