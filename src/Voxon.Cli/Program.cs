using Voxon.Cli;

return await VoxonCommand.RunAsync(args, Console.In, Console.Out, Console.Error);
