using Voxon.Server.Hosting;

// `dotnet run --project src/Voxon.Server -- --urls http://127.0.0.1:5080 --store ./sessions`
var store = args.SkipWhile(a => a != "--store").Skip(1).FirstOrDefault() ?? Environment.GetEnvironmentVariable("VOXON_SESSIONS") ?? "./sessions";
var app = VoxonServer.Build(new VoxonServerOptions { Store = store }, args);
await app.RunAsync();
