// A Microsoft Agent Framework agent with Voxon memory. Each agent session is a Voxon conversation of the user's Voxon
// session: the first one hears a fact, a second, new agent session is answered from memory, and a serialized agent
// session carries only Voxon's ids (the history stays in Voxon's storage).
//
// The model is the one in VOXON_MODEL_ENDPOINT / VOXON_MODEL / VOXON_API_KEY, or Voxon's offline engine without them.
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using Voxon;
using Voxon.Agents;
using Voxon.Engine;

await using var voxon = new VoxonClient(new VoxonOptions
{
    SessionStoragePath = Environment.GetEnvironmentVariable("AGENT_SESSIONS") ?? "./agent-sessions",
});
IChatClient model = ModelOptions.FromEnvironment()?.CreateChatClient() ?? voxon.ChatClient;

AIAgent agent = model.AsAIAgent(new ChatClientAgentOptions
{
    Name = "Tutor",
    ChatOptions = new() { Instructions = "You are a friendly tutor." },
}.UseVoxon(voxon, "alice"));

var monday = await agent.CreateSessionAsync();
Console.WriteLine(await agent.RunAsync("My name is Alice and I'm interested in quantum physics", monday));

var tuesday = await agent.CreateSessionAsync();
Console.WriteLine(await agent.RunAsync("What's my name and interest?", tuesday));

// An agent session survives serialization (a web app would store this JSON between requests).
var saved = await agent.SerializeSessionAsync(tuesday);
Console.WriteLine($"Serialized session: {saved.GetRawText()}");
var resumed = await agent.DeserializeSessionAsync(saved);
Console.WriteLine(await agent.RunAsync("Do you remember what I'm interested in?", resumed));
